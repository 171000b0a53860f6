#!/usr/bin/env bash
# capsize's CPU MLP step and the same step in numpy, side by side in one run, same shapes and
# environment. Prints both GFLOP/s, the ratio, and capsize's fraction of the calibrated SGEMM peak.
# Usage: [ROUNDS=2] [CALIBRATE=1] [PAIRED=1] Benchmarks/mlp-peer.sh [capsize-binary]
# CALIBRATE=1 measures the SGEMM peak now, right before the steps (else only when none is stored): on a VM whose
# speed drifts, a peak from another hour is not the same machine.
# PAIRED=1 calibrates before every capsize round and once after the last, and also compares each round's median
# step with the mean of the two calibrations around it (the peak of that minute), then takes the median of the
# rounds: on a VM whose SGEMM rate swings from minute to minute, only a peak measured beside the steps says what
# fraction of the machine the step used.
# Both run in a user's default environment: OPENBLAS_CORETYPE unset, so capsize runs the kernels it chooses from
# CPUID and numpy those its own OpenBLAS detects. numpy comes from PyPI into .venv (PYTHON overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE CAPSIZE_OPENBLAS_CORETYPE_FROM_CPUID
capsize="${1:-.build/release/capsize}"
shape=(--batch 1024 --inputs 1024 --hidden 2048 --layers 3 --classes 10)
python="${PYTHON:-.venv/bin/python}"
if ! "$python" -c "import numpy" 2>/dev/null; then
  python3 -m venv .venv && .venv/bin/pip install --quiet numpy threadpoolctl
  python=.venv/bin/python
fi
if [[ "${CALIBRATE:-0}" == 1 ]] || ! "$capsize" devices --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("hostCalibration") else 1)'; then
  "$capsize" devices --calibrate >/dev/null
fi
out=$(mktemp -d)
"$capsize" devices --json > "$out/devices.json"
# Alternate the two so that neither gets a quieter machine: capsize, numpy, capsize, numpy.
paired="${PAIRED:-0}"
peak_now() { "$capsize" devices --calibrate >/dev/null && "$capsize" devices --json > "$out/peak-$1.json"; }
for round in $(seq 1 "${ROUNDS:-2}"); do
  if [[ "$paired" == 1 ]]; then peak_now "$round"; fi
  "$capsize" bench train-mlp --device cpu "${shape[@]}" --steps 10 --repeat 3 --warmup 1 --json > "$out/capsize-$round.json"
  "$python" Benchmarks/peers/mlp_numpy.py --batch 1024 --inputs 1024 --hidden 2048 --layers 3 --classes 10 --steps 10 > "$out/numpy-$round.json"
done
if [[ "$paired" == 1 ]]; then peak_now "$(( ${ROUNDS:-2} + 1 ))"; fi
python3 - "$out" <<'PY'
import json, sys, glob, statistics, os
d = sys.argv[1]
cap = [json.load(open(f)) for f in sorted(glob.glob(d + "/capsize-*.json"), key=lambda f: int(f.rsplit("-", 1)[1][:-5]))]
npy = [json.load(open(f)) for f in sorted(glob.glob(d + "/numpy-*.json"), key=lambda f: int(f.rsplit("-", 1)[1][:-5]))]
# Per-step GFLOP/s: capsize reports per-step times in series.step_seconds.
flops = cap[0]["runs"][0]["flops"] / len(cap[0]["runs"][0]["series"]["step_seconds"])
cap_steps = [s for c in cap for r in c["runs"] for s in r["series"]["step_seconds"]]
np_steps = [s for n in npy for s in n["step_seconds"]]
cap_g = flops / statistics.median(cap_steps) / 1e9
np_g = flops / statistics.median(np_steps) / 1e9
peak = cap[0].get("peak")
print(f"shape: batch 1024, inputs 1024, hidden 2048 x 3, classes 10; {flops/1e9:.2f} GFLOP per step (analytical)")
blas = json.load(open(d + "/devices.json"))["blas"]
print(f"capsize (OpenBLAS {blas['coreType']}: {blas['coreTypeReason']}) median step {statistics.median(cap_steps)*1e3:.1f} ms = {cap_g:.1f} GFLOP/s (measured, {len(cap_steps)} steps)")
print(f"{npy[0]['peer']} (OpenBLAS {npy[0]['blas']}, {npy[0].get('blas_kernels') or 'kernels unknown'}) median step {statistics.median(np_steps)*1e3:.1f} ms = {np_g:.1f} GFLOP/s (measured, {len(np_steps)} steps)")
print(f"ratio capsize / numpy: {cap_g/np_g:.3f} (target >= 1.05)")
if peak:
    print(f"calibrated {peak['name']}: {peak['gflops']:.1f} GFLOP/s; capsize at {cap_g/peak['gflops']:.3f} of it (target >= 0.95)")
    # The peak is the best of its repeats: the fastest step is its like-for-like counterpart.
    best = flops / min(cap_steps) / 1e9
    print(f"fastest capsize step {min(cap_steps)*1e3:.1f} ms = {best:.1f} GFLOP/s = {best/peak['gflops']:.3f} of the peak (best against best)")
peaks = [json.load(open(f"{d}/peak-{i}.json"))["hostCalibration"]["blasSgemmGFLOPS"]
         for i in range(1, len(cap) + 2) if os.path.exists(f"{d}/peak-{i}.json")]
if len(peaks) == len(cap) + 1:
    ratios = []
    for i, c in enumerate(cap):
        steps = [s for r in c["runs"] for s in r["series"]["step_seconds"]]
        rate = flops / statistics.median(steps) / 1e9
        around = (peaks[i] + peaks[i + 1]) / 2
        ratios.append(rate / around)
        print(f"round {i + 1}: calibrated {peaks[i]:.1f} before, {peaks[i + 1]:.1f} after; median step {rate:.1f} GFLOP/s = {rate / around:.3f} of their mean")
    print(f"paired: median of the rounds {statistics.median(ratios):.3f} of the peak measured beside them (target >= 0.95)")
PY
