#!/usr/bin/env bash
# What the middle layers must not slow down (issue 9's constraint), two builds side by side in the same minutes
# (alternating rounds); numbers go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/middle-kept.sh capsize baseline-capsize [rounds]
#   array: wall and peak RSS of `submit --array 10000 --memory 64 --vcpus 0.25 -- /bin/true` (≥ 1,000 jobs/s, ≤ 100 MB)
#   warm:  p50 Duration of 300 warm invocations of a tiny train-mlp step (one environment)
#   cold:  p50 Init Duration of 15 cold starts of a tiny train-mlp step (the BLAS worker)
#   step:  median step time of `bench train-mlp --device cpu` (defaults: batch 256, inputs 256, hidden 512 × 2)
set -euo pipefail
cd "$(dirname "$0")/.."
new=$1
base=$2
rounds=${3:-3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tiny=(train-mlp --batch 1 --inputs 1 --hidden 1 --layers 1 --steps 1 --device cpu --memory 512)
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
p50() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for which in new base; do
    build=$new
    [[ $which == base ]] && build=$base
    export CAPSIZE_HOME=$scratch/home-$round-$which
    array=$( { /usr/bin/time -f "%e s, %M KB" "$build" submit --array 10000 --memory 64 --vcpus 0.25 -- /bin/true \
      >/dev/null; } 2>&1 | tail -1)
    warm=$("$build" invoke "${tiny[@]}" --count 300 --json | field "d['summary']['durationP50Ms']")
    cold=$(for i in $(seq 15); do
      "$build" invoke "${tiny[@]}" --json | field "d['invocations'][0]['initDurationMs']"
    done | p50)
    step=$("$build" bench train-mlp --device cpu --repeat 5 --json \
      | field "sorted(r['metrics']['step_seconds'] for r in d['runs'])[2] * 1000")
    echo "round $round $which: array $array; warm p50 $warm ms; cold (BLAS) p50 $cold ms; MLP step $step ms"
  done
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
done
