#!/usr/bin/env bash
# Runtimes through the Lambda Runtime API, one build, in the same minutes: the warm Duration of a no-op custom runtime
# (runtime-api/bootstrap.c, one keep-alive connection) and of `capsize worker` running the tiny train-mlp step (the
# no-op the executor targets are measured with; before 8692e9e it spoke JSON lines on stdio instead), alternating
# rounds; median and p99 of the warm invocations of each round; and a no-op Python handler through awslambdaric.
# Numbers go into Benchmarks/RESULTS.md. Benchmarks/worker-transport.sh compares the worker's two transports.
#
# Usage: Benchmarks/runtime-api.sh capsize [rounds] [count]
set -euo pipefail
capsize=$1
rounds=${2:-3}
count=${3:-301}
scratch=$(mktemp -d)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/noop" "$scratch/python"
printf 'def handler(event, context):\n    return None\n' > "$scratch/python/app.py"
cc -O2 -o "$scratch/noop/bootstrap" "$(dirname "$0")/runtime-api/bootstrap.c"
tiny=(train-mlp --batch 1 --inputs 1 --hidden 1 --layers 1 --steps 1 --device cpu --memory 512)
# The warm Durations of an invoke's JSON: median and p99 (nearest rank), ms.
warm() {
  python3 "$(dirname "$0")/warm-durations.py"
}
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  export CAPSIZE_HOME=$scratch/home-$round
  "$capsize" function create noop --code "$scratch/noop" --handler noop --memory 512 --replace >/dev/null
  # awslambdaric, for information, when it is installed (`scripts/setup.sh`).
  python=0
  "$capsize" function create pynoop --code "$scratch/python" --handler app.handler --memory 512 --replace \
    >/dev/null 2>&1 && python=1
  if ((round % 2)); then order=(api worker); else order=(worker api); fi
  for which in "${order[@]}"; do
    if [[ $which == api ]]; then
      echo "round $round runtime API (custom runtime, no-op): $("$capsize" invoke noop --count "$count" --json | warm)"
    else
      echo "round $round capsize worker (tiny train-mlp):   $("$capsize" invoke "${tiny[@]}" --count "$count" --json | warm)"
    fi
  done
  if ((python)); then
    echo "round $round awslambdaric (Python no-op handler): $("$capsize" invoke pynoop --count "$count" --json | warm)"
  fi
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
done
