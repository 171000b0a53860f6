#!/usr/bin/env bash
# The function executor's kept targets, two builds side by side in the same minutes (alternating rounds); numbers
# go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/function-kept.sh capsize baseline-capsize [rounds]
#   warm: p50 Duration of 300 warm invocations of a tiny train-mlp step (one environment), ≤ 1 ms
#   cold: p50 Init Duration of 15 cold starts each of `command -- true` and of a tiny train-mlp step (BLAS), ≤ 50 ms
source "$(dirname "$0")/common.sh" "$@"
measure() {
  local warm command blas
  warm=$("$1" invoke "${tiny[@]}" --count 300 --json | field "d['summary']['durationP50Ms']")
  command=$(for i in $(seq 15); do
    "$1" invoke command --memory 512 --json -- true | field "d['invocations'][0]['initDurationMs']"
  done | p50)
  blas=$(for i in $(seq 15); do
    "$1" invoke "${tiny[@]}" --json | field "d['invocations'][0]['initDurationMs']"
  done | p50)
  echo "warm p50 $warm ms; cold p50 command $command ms, train-mlp $blas ms"
}
side_by_side measure
