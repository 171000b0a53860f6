#!/usr/bin/env bash
# The CPU-share governor and the fidelity changes, measured; numbers go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/governor.sh [capsize] [baseline-capsize]
#   capsize           the build under test (default .build/release/capsize)
#   baseline-capsize  an older build to compare with side by side (warm invoke, cold start, 10,000-job array)
#
# 1. Precision: a CPU-bound python program (0.5 s of its own CPU) invoked as a function at 128, 442, 885 and
#    1,769 MB (vCPU shares 0.0724, 0.25, 0.50, 1.00): Duration against (the program's user + system CPU) / share.
# 2. A program that sleeps 1 s at 128 MB: what the governor costs it (Duration − 1 s).
# 3. The supervisor's own CPU: capsize's CPU time over a governed 7 s invocation, against an ungoverned `sleep 7`.
# 4. Kept: warm round trip, cold start, the 10,000-job array (both builds, alternating, same minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
new=${1:-.build/release/capsize}
base=${2:-}
scratch=$(mktemp -d)
chmod 755 "$scratch"  # as root, functions and jobs run as users of their own: they must read burn.py
trap 'rm -rf "$scratch"' EXIT
export CAPSIZE_HOME=$scratch/home
burn=$scratch/burn.py
cat >"$burn" <<'PY'
import sys, time
t = time.process_time()
while time.process_time() - t < float(sys.argv[1]):
    pass
PY

json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
json_run() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

echo "# 1. precision (machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
printf '%-8s %-7s %-12s %-12s %-14s %s\n' memory share duration_ms cpu_s expected_ms ratio
for memory in 128 442 885 1769; do
  for repeat in 1 2 3; do
    out=$("$new" invoke command --memory "$memory" --timeout 60 --json -- python3 "$burn" 0.5)
    echo "$out" | json_run "
(lambda i: (lambda m: print('%-8s %-7.4f %-12.1f %-12.3f %-14.1f %.4f' % (
    $memory, min($memory/1769, 6), i['durationMs'], m['user_seconds'] + m['system_seconds'],
    (m['user_seconds'] + m['system_seconds']) / min($memory/1769, 6) * 1000,
    i['durationMs'] / ((m['user_seconds'] + m['system_seconds']) / min($memory/1769, 6) * 1000))))(
    json.loads(i['response'])['result']['metrics']))(d['invocations'][0])"
  done
done

echo "# 2. a sleeping program at 128 MB (sleep 1)"
for repeat in 1 2 3; do
  "$new" invoke command --memory 128 --timeout 10 --json -- sleep 1 | json_field "d['invocations'][0]['durationMs']"
done

echo "# 3. capsize's own CPU (its threads only, not its children's), read from /proc while it runs"
own_cpu() {  # runs capsize in the background; prints its utime+stime (s) at the last reading before it ended, and wall
  local start=$(date +%s.%N) pid ticks=0 line
  "$@" >/dev/null &
  pid=$!
  while line=$(cat /proc/$pid/stat 2>/dev/null); do
    ticks=$(echo "$line" | awk '{print $14 + $15}')
    sleep 0.02
  done
  wait $pid || true
  echo "$(echo "$ticks / $(getconf CLK_TCK)" | bc -l | cut -c1-6) s of capsize CPU over $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s"
}
echo "governed CPU-bound (128 MB, 0.5 s of CPU):  $(own_cpu "$new" invoke command --memory 128 --timeout 60 -- python3 "$burn" 0.5)"
echo "ungoverned sleep of about as long:          $(own_cpu "$new" invoke command --memory 128 --timeout 60 --no-cpu-share -- sleep 7)"
echo "governed sleep of about as long:            $(own_cpu "$new" invoke command --memory 128 --timeout 60 -- sleep 7)"

[[ -n $base ]] || exit 0
echo "# 4. kept, side by side (new, then baseline, alternating)"
for round in 1 2; do
  for which in new base; do
    build=$new
    [[ $which == base ]] && build=$base
    export CAPSIZE_HOME=$scratch/home-$round-$which
    warm=$("$build" invoke train-mlp --batch 1 --inputs 1 --hidden 1 --layers 1 --steps 1 --device cpu --memory 512 \
      --count 300 --json | json_field "d['summary']['durationP50Ms']")
    colds=()
    for i in $(seq 15); do
      colds+=("$("$build" invoke command --memory 512 --json -- true | json_field "d['invocations'][0]['initDurationMs']")")
    done
    cold=$(printf '%s\n' "${colds[@]}" | sort -n | sed -n 8p)
    array=$( { /usr/bin/time -f "%e s, %M KB" "$build" submit --array 10000 --memory 64 --vcpus 0.25 -- /bin/true \
      >/dev/null; } 2>&1 | tail -1)
    echo "$which ($build): warm p50 $warm ms; cold p50 $cold ms; 10,000-job array $array"
  done
done
