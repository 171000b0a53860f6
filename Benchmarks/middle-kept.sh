#!/usr/bin/env bash
# What the middle layers must not slow down (issue 9's constraint), two builds side by side in the same minutes
# (alternating rounds); numbers go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/middle-kept.sh capsize baseline-capsize [rounds]
#   array: wall and peak RSS of `submit --array 10000 --memory 64 --vcpus 0.25 -- /bin/true` (≥ 1,000 jobs/s, ≤ 100 MB)
#   warm:  p50 Duration of 300 warm invocations of a tiny train-mlp step (one environment)
#   cold:  p50 Init Duration of 15 cold starts of a tiny train-mlp step (the BLAS worker)
#   step:  median step time of `bench train-mlp --device cpu` (defaults: batch 256, inputs 256, hidden 512 × 2)
source "$(dirname "$0")/common.sh" "$@"
measure() {
  local array warm cold step
  array=$( { /usr/bin/time -f "%e s, %M KB" "$1" submit --array 10000 --memory 64 --vcpus 0.25 -- /bin/true \
    >/dev/null; } 2>&1 | tail -1)
  warm=$("$1" invoke "${tiny[@]}" --count 300 --json | field "d['summary']['durationP50Ms']")
  cold=$(for i in $(seq 15); do
    "$1" invoke "${tiny[@]}" --json | field "d['invocations'][0]['initDurationMs']"
  done | p50)
  step=$("$1" bench train-mlp --device cpu --repeat 5 --json \
    | field "sorted(r['metrics']['step_seconds'] for r in d['runs'])[2] * 1000")
  echo "array $array; warm p50 $warm ms; cold (BLAS) p50 $cold ms; MLP step $step ms"
}
side_by_side measure
