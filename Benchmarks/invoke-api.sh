#!/usr/bin/env bash
# The Lambda Invoke API of `capsize serve`, measured from a client on this machine (Benchmarks/invoke-api.py: one
# keep-alive connection per lane): a warm no-op custom runtime (runtime-api/bootstrap.c) and a no-op Python handler
# through awslambdaric, at concurrency 1 and 10; then the same custom runtime through `capsize invoke` directly (the
# warm Duration capsize measures, without HTTP), in the same minutes. Numbers go into Benchmarks/RESULTS.md.
#
# Usage: Benchmarks/invoke-api.sh capsize [count]
set -euo pipefail
capsize=$(realpath "$1")
count=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
chmod 755 "$scratch"
export CAPSIZE_HOME=$scratch/home
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$scratch"' EXIT
mkdir -p "$scratch/noop" "$scratch/python"
cc -O2 -o "$scratch/noop/bootstrap" "$here/runtime-api/bootstrap.c"
printf 'def handler(event, context):\n    return {}\n' >"$scratch/python/app.py"
"$capsize" function create noop --code "$scratch/noop" --handler noop --memory 1769 >/dev/null
"$capsize" function create pynoop --code "$scratch/python" --handler app.handler --memory 1769 >/dev/null
"$capsize" serve --port 0 >"$scratch/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$scratch/serve.log" && break; sleep 0.1; done
port=$(grep -o 'http://127.0.0.1:[0-9]*' "$scratch/serve.log" | cut -d: -f3)
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
for function in noop pynoop; do
  echo "## Invoke API, $function ($count invokes per level)"
  python3 "$here/invoke-api.py" --port "$port" --function "$function" --count "$count"
done
echo "## capsize invoke noop directly ($count invokes; warm Duration as capsize measures it, no HTTP)"
echo "measured: $("$capsize" invoke noop --count "$count" --json | python3 "$here/warm-durations.py")"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
