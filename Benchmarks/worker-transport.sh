#!/usr/bin/env bash
# capsize worker's two transports side by side, two builds in the same minutes (issue 12: one protocol): a baseline
# capsize whose function executor spoke JSON lines to the worker on stdin/stdout, and this one, whose worker speaks
# the Lambda Runtime API. For each, alternating rounds: the warm Duration (median, p99) of the tiny train-mlp step,
# the no-op the executor targets are measured with, and the Init Duration (median) of `cold` separate cold starts.
#
# Usage: Benchmarks/worker-transport.sh NEW_CAPSIZE BASELINE_CAPSIZE [rounds] [count] [cold]
set -euo pipefail
new=$1
old=$2
rounds=${3:-3}
count=${4:-301}
cold=${5:-15}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tiny=(train-mlp --batch 1 --inputs 1 --hidden 1 --layers 1 --steps 1 --device cpu --memory 512)
here=$(dirname "$0")
# The median Init Duration of the cold invocations in `capsize invoke --json` outputs on stdin, ms.
inits() {
  python3 -c '
import json, sys
d = sorted(i["initDurationMs"] for line in sys.stdin for i in json.loads(line)["invocations"] if i.get("initDurationMs"))
print(f"{len(d)} cold: Init median {d[len(d) // 2]:.2f} ms")'
}
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  export CAPSIZE_HOME=$scratch/home-$round
  if ((round % 2)); then order=(new old); else order=(old new); fi
  for which in "${order[@]}"; do
    if [[ $which == new ]]; then binary=$new; label="Runtime API"; else binary=$old; label="stdio lines"; fi
    warm=$("$binary" invoke "${tiny[@]}" --count "$count" --json | python3 "$here/warm-durations.py")
    coldStarts=$(for _ in $(seq "$cold"); do "$binary" invoke "${tiny[@]}" --json | tr -d '\n'; echo; done | inits)
    echo "round $round $label: $warm; $coldStarts"
  done
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
done
