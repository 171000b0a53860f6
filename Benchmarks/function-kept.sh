#!/usr/bin/env bash
# The function executor's kept targets, two builds side by side in the same minutes (alternating rounds); numbers
# go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/function-kept.sh capsize baseline-capsize [rounds]
#   warm: p50 Duration of 300 warm invocations of a tiny train-mlp step (one environment), ≤ 1 ms
#   cold: p50 Init Duration of 15 cold starts each of `command -- true` and of a tiny train-mlp step (BLAS), ≤ 50 ms
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
    warm=$("$build" invoke "${tiny[@]}" --count 300 --json | field "d['summary']['durationP50Ms']")
    command=$(for i in $(seq 15); do
      "$build" invoke command --memory 512 --json -- true | field "d['invocations'][0]['initDurationMs']"
    done | p50)
    blas=$(for i in $(seq 15); do
      "$build" invoke "${tiny[@]}" --json | field "d['invocations'][0]['initDurationMs']"
    done | p50)
    echo "round $round $which ($build): warm p50 $warm ms; cold p50 command $command ms, train-mlp $blas ms"
  done
done
