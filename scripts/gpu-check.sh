#!/usr/bin/env bash
# GPU measurements for capsize, in two halves (README.md says how):
#   scripts/gpu-check.sh stage          on the development machine: static release binary (stripped,
#                                       xz-compressed) and libclblast.so.1 into .gpu/ (git-ignored)
#   scripts/gpu-check.sh measure [OUT]  on the GPU machine: NVIDIA ICD file, then every measurement
#                                       in one go; results as JSON under OUT (default $OUT)
#   scripts/gpu-check.sh executors [OUT] on the GPU machine: Batch jobs pinned to the GPU, and a
#                                       Lambda-model function that must not see it
#   scripts/gpu-check.sh stage-base [COMMIT]  on the development machine: the same static binary of an
#                                       older commit (default df25dba, before issue 13's render
#                                       kernel) into .gpu/base/, for the side-by-side render check
#   scripts/gpu-check.sh render [OUT]   on the GPU machine: render-frames 1080p (WIDTH, HEIGHT), detail 8,
#                                       base and new alternated ROUNDS (3) times on the GPU and on PoCL,
#                                       with PSNR against native
#   scripts/gpu-check.sh mlp [OUT]     on the GPU machine: issue 13 section 2, the OpenCL MLP step (batch 1024,
#                                       inputs 1024, hidden 2048x3) and torch's FP32 step (TF32 off) alternated
#                                       ROUNDS (2) times, after a calibration (CALIBRATE=0 skips it: no tuned
#                                       CLBlast parameters then), the base binary too when stage-base staged one
#   scripts/gpu-check.sh gpu-jobs [OUT] on the GPU machine: issue 13 section 3, executors' checks plus a CUDA
#                                       program as a job, with a PASS or FAIL line per check
# Without an NVIDIA GPU the measure half still runs its CPU half (OpenBLAS, PoCL, native, numpy).
set -uo pipefail
cd "$(dirname "$0")/.."

stage() {
  set -e
  swift build -c release --static-swift-stdlib --scratch-path .build-static
  rm -rf .gpu && mkdir -p .gpu/lib
  cp .build-static/release/capsize .gpu/capsize && strip .gpu/capsize
  xz -6 -f .gpu/capsize
  # The sandbox's launcher (a static executable) must sit beside capsize.
  cp .build-static/release/capsize-launch .gpu/capsize-launch && strip .gpu/capsize-launch && xz -6 -f .gpu/capsize-launch
  cp -L /usr/lib/x86_64-linux-gnu/libclblast.so.1 .gpu/lib/
  ls -la .gpu .gpu/lib
}

measure() {
  local out="${1:-${OUT:?give an output folder}}"
  mkdir -p "$out" /tmp/capsize-gpu
  local bin=/tmp/capsize-gpu/capsize log="$out/log.txt" runs=/tmp/capsize-gpu/runs
  mkdir -p "$runs"
  xz -dc .gpu/capsize.xz > "$bin" && chmod +x "$bin"
  [[ -e .gpu/capsize-launch.xz ]] && xz -dc .gpu/capsize-launch.xz > /tmp/capsize-gpu/capsize-launch && chmod +x /tmp/capsize-gpu/capsize-launch
  export LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CAPSIZE_HOME=/tmp/capsize-gpu/state PYTHONUNBUFFERED=1
  if [[ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ]] && [[ ! -e /etc/OpenCL/vendors/nvidia.icd ]]; then
    mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
  fi
  exec > >(tee -a "$log") 2>&1
  echo "== $(date -u +%FT%TZ) $(hostname)"; nvidia-smi -L 2>/dev/null; nproc
  "$bin" devices
  local gpu pocl
  gpu=$("$bin" devices --json | python3 -c 'import json,sys; d=[x["index"] for x in json.load(sys.stdin)["openCL"] if x["kind"]=="gpu"]; print(d[0] if d else "")')
  pocl=$("$bin" devices --json | python3 -c 'import json,sys; d=[x["index"] for x in json.load(sys.stdin)["openCL"] if x["kind"]=="cpu"]; print(d[0] if d else "")')
  echo "== calibrate (full)"
  timeout 240 "$bin" devices --calibrate
  "$bin" devices --json > "$out/devices.json"
  local shape=(--batch 1024 --inputs 1024 --hidden 2048 --layers 3 --classes 10)
  bench() { local name=$1; shift; echo "== bench $name: $*"; timeout 120 "$bin" bench "$@" --json > "$runs/$name.txt"; }
  bench mlp-cpu train-mlp --device cpu "${shape[@]}" --steps 10 --repeat 3
  bench match-cpu train-mlp --device cpu --repeat 1 --warmup 0
  if [[ -n $pocl ]]; then
    bench match-pocl train-mlp --device "opencl:$pocl" --repeat 1 --warmup 0
    [[ -z ${SKIP_POCL_MLP:-} ]] && bench mlp-pocl train-mlp --device "opencl:$pocl" "${shape[@]}" --steps 3 --repeat 1
    bench render-pocl render-frames --device "opencl:$pocl" --width 320 --height 180 --frames 24 --repeat 2
  fi
  bench render-native render-frames --device native --width 320 --height 180 --frames 24 --repeat 2
  if [[ -n $gpu ]]; then
    bench match-gpu train-mlp --device "opencl:$gpu" --repeat 1 --warmup 0
    bench mlp-gpu train-mlp --device "opencl:$gpu" "${shape[@]}" --steps 20 --repeat 5
    bench render-gpu-1080p render-frames --device "opencl:$gpu" --width 1920 --height 1080 --frames 48 --repeat 3
    bench render-gpu-heavy render-frames --device "opencl:$gpu" --width 1920 --height 1080 --frames 24 --spp 4 --detail 64 --repeat 3
    bench render-gpu-fast-1080p render-frames --device "opencl:$gpu" --math fast --width 1920 --height 1080 --frames 48 --repeat 3
    bench render-gpu-fast-heavy render-frames --device "opencl:$gpu" --math fast --width 1920 --height 1080 --frames 24 --spp 4 --detail 64 --repeat 3
    echo "== PSNR of GPU frames (exact and fast math) against the native renderer, 640x360, frames 0-2"
    for mode in exact fast; do
      timeout 60 "$bin" bench render-frames --device "opencl:$gpu" --math $mode --width 640 --height 360 --frames 3 --repeat 1 --warmup 0 --save-frames /tmp/capsize-gpu/psnr-$mode >/dev/null
    done
    timeout 60 "$bin" bench render-frames --device native --width 640 --height 360 --frames 3 --repeat 1 --warmup 0 --save-frames /tmp/capsize-gpu/psnr-native >/dev/null
    python3 - <<'PSNR' | tee "$runs/psnr.txt"
import math, struct, zlib
def pixels(path):
    data = open(path, "rb").read()[8:]
    idat, width = b"", 0
    while data:
        n, kind = struct.unpack(">I4s", data[:8])
        if kind == b"IHDR": width = struct.unpack(">I", data[8:12])[0]
        if kind == b"IDAT": idat += data[8:8 + n]
        data = data[12 + n:]
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    return b"".join(raw[i + 1:i + stride] for i in range(0, len(raw), stride))
for mode in ("exact", "fast"):
    for f in range(3):
        a = pixels(f"/tmp/capsize-gpu/psnr-{mode}/frame-{f:05d}.png")
        b = pixels(f"/tmp/capsize-gpu/psnr-native/frame-{f:05d}.png")
        mse = sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
        print(f"PSNR GPU {mode} vs native frame {f}: " + ("inf" if mse == 0 else f"{10 * math.log10(255**2 / mse):.1f}") + " dB")
PSNR
    timeout 60 "$bin" bench render-frames --device "opencl:$gpu" --width 1280 --height 720 --frames 1 --repeat 1 --warmup 0 --save-frames /tmp/capsize-gpu/frames >/dev/null \
      && cp /tmp/capsize-gpu/frames/frame-00000.png "$out/frame-gpu-720p.png"
    echo "== peer: cuBLAS through PyTorch"
    timeout 120 python3 Benchmarks/peers/torch_peer.py > "$runs/peer-torch.txt"
  fi
  echo "== peer: numpy"
  timeout 60 python3 Benchmarks/peers/mlp_numpy.py --steps 10 > "$runs/peer-numpy.txt"
  python3 - "$runs" "$out/bench.json" <<'PY'
import json, os, sys
runs, target = sys.argv[1], sys.argv[2]
merged = {}
for name in sorted(os.listdir(runs)):
    text = open(os.path.join(runs, name)).read()
    try:
        merged[name[:-4]] = json.loads(text)
    except ValueError:
        if name == "psnr.txt": continue
        merged[name[:-4]] = {"unparsed": text[-2000:]}
json.dump(merged, open(target, "w"), indent=1)
def med(r): return r["summary"]["median"]
for name, r in merged.items():
    if "summary" in r:
        g = r.get("gflops") or {}
        f = r.get("fractionOfPeak")
        print(f"{name:18} {r['device'][:48]:48} median {med(r):.4f} s  {g.get('median', 0):10.1f} GFLOP/s  peak fraction {f if f is None else round(f, 3)}")
# Same loss curve on every device (relative difference after 10 steps).
losses = {k: v["runs"][0]["series"]["loss"] for k, v in merged.items() if k.startswith("match-") and "runs" in v}
if "match-cpu" in losses:
    for k, l in losses.items():
        print(f"loss curve {k} vs match-cpu: max relative difference {max(abs(a-b)/abs(a) for a, b in zip(losses['match-cpu'], l)):.2e}")
devices = json.load(open(os.path.join(os.path.dirname(target), "devices.json")))
torch_peer = merged.get("peer-torch", {})
for d in devices.get("deviceCalibrations", []):
    print(f"calibration {d['deviceName']}: FMA {d['fmaPeakGFLOPS']:.0f} GFLOP/s, copy {d['globalMemoryGBps']:.0f} GB/s, "
          f"H2D {d['hostToDeviceGBps']:.1f} D2H {d['deviceToHostGBps']:.1f} GB/s, launch {d['launchLatencyMicroseconds']:.1f} us, "
          f"CLBlast curve {[(p['n'], round(p['gflops'])) for p in d['clblastSgemmCurve']]}, tuned {d.get('clblastXgemmParameters')}")
    if d["kind"] == "gpu" and "sgemm" in torch_peer:
        for p in torch_peer["sgemm"]:
            mine = [q["gflops"] for q in d["clblastSgemmCurve"] if q["n"] == p["n"]]
            best = d.get("clblastSgemmGFLOPS") or 0
            print(f"  cuBLAS FP32 n={p['n']}: {p['gflops']:.0f} GFLOP/s; CLBlast same n {mine}; best CLBlast / cuBLAS = {best / p['gflops']:.3f}")
if "mlp" in torch_peer and "mlp-gpu" in merged:
    mine = merged["mlp-gpu"]["runs"][0]["flops"] / len(merged["mlp-gpu"]["runs"][0]["series"]["step_seconds"])
    steps = sorted(s for r in merged["mlp-gpu"]["runs"] for s in r["series"]["step_seconds"])
    print(f"MLP step on GPU: capsize {mine / steps[len(steps)//2] / 1e9:.0f} GFLOP/s, torch {torch_peer['mlp']['gflops_median']:.0f} GFLOP/s")
h = devices.get("hostCalibration")
if h: print(f"host: OpenBLAS SGEMM {h['blasSgemmGFLOPS']:.0f} GFLOP/s at n={h['blasSgemmSize']}, triad {h['memoryTriadGBps']:.1f} GB/s")
PY
}

# The executors on a machine with a real GPU: Batch jobs pinned to it, a Lambda-model function that
# must not see it. Results (JSON) under OUT.
executors() {
  local out="${1:-${OUT:?give an output folder}}"
  mkdir -p "$out" /tmp/capsize-gpu
  local bin=/tmp/capsize-gpu/capsize
  xz -dc .gpu/capsize.xz > "$bin" && chmod +x "$bin"
  xz -dc .gpu/capsize-launch.xz > /tmp/capsize-gpu/capsize-launch && chmod +x /tmp/capsize-gpu/capsize-launch
  export LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CAPSIZE_HOME=/tmp/capsize-gpu/state
  if [[ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ]] && [[ ! -e /etc/OpenCL/vendors/nvidia.icd ]]; then
    mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
  fi
  exec > >(tee -a "$out/executors.txt") 2>&1
  "$bin" devices | sed -n '/OpenCL/,$p'
  echo "== submit: 4 render jobs, 1 GPU each (one GPU: they run one at a time, pinned)"
  timeout 120 "$bin" submit --gpus 1 --array 4 --json -- render-frames --width 1280 --height 720 --frames 24 > "$out/submit-gpu.json"; echo "rc=$?"
  for i in 0 1 2 3; do
    job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$out/submit-gpu.json")
    "$bin" logs "$job:$i" | python3 -c 'import json,sys
for line in sys.stdin:
    if line.startswith("{") and json.loads(line).get("event") == "result":
        r = json.loads(line); res = r.get("result") or {}
        print("child", sys.argv[1], r.get("status"), r.get("errorMessage") or "", "device", r.get("device"), "frames/s", round(res.get("throughput", {}).get("frames_per_second", 0), 1))' "$i"
  done
  echo "== submit: 2 GPUs per job on a 1-GPU machine is refused at submit"
  "$bin" submit --gpus 2 -- /bin/true; echo "rc=$?"
  echo "== invoke: a function has no GPU (the worker hides it)"
  timeout 120 "$bin" invoke render-frames --memory 3008 --timeout 60 --count 2 --json > "$out/invoke.json"; echo "rc=$?"
  python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
for i in r["invocations"]:
    device = json.loads(i["response"]).get("device") if i.get("response") else None
    print(i["status"], "cold" if i["cold"] else "warm", "device inside the function:", device, "|", i.get("report", ""))' "$out/invoke.json"
  "$bin" runs list
}

stage_base() {
  set -e
  local commit="${1:-df25dba}" tree=/tmp/capsize-gpu-base
  [[ -d $tree ]] || git worktree add --detach "$tree" "$commit"
  git -C "$tree" checkout -q --detach "$commit"
  (cd "$tree" && swift build -c release --static-swift-stdlib --scratch-path .build-static)
  mkdir -p .gpu/base
  cp "$tree/.build-static/release/capsize" .gpu/base/capsize && strip .gpu/base/capsize && xz -6 -f .gpu/base/capsize
  git -C "$tree" rev-parse HEAD > .gpu/base/COMMIT
  ls -la .gpu/base
}

# render-frames at 1920x1080 (WIDTH x HEIGHT), detail 8, issue 13's binary beside the one staged by stage-base, runs
# alternated (base, new, base, new, ...) so both see the same machine; JSON per run and a summary
# (frames/s medians, their ratio, kernel/transfer/host split, FLOP/s) under OUT.
render() {
  local out="${1:-${OUT:?give an output folder}}" rounds="${ROUNDS:-3}" width="${WIDTH:-1920}" height="${HEIGHT:-1080}"
  mkdir -p "$out" /tmp/capsize-gpu
  local new=/tmp/capsize-gpu/capsize base=/tmp/capsize-gpu/capsize-base
  xz -dc .gpu/capsize.xz > "$new" && chmod +x "$new"
  xz -dc .gpu/base/capsize.xz > "$base" && chmod +x "$base"
  [[ -e .gpu/capsize-launch.xz ]] && xz -dc .gpu/capsize-launch.xz > /tmp/capsize-gpu/capsize-launch && chmod +x /tmp/capsize-gpu/capsize-launch
  export LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
  if [[ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ]] && [[ ! -e /etc/OpenCL/vendors/nvidia.icd ]]; then
    mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
  fi
  exec > >(tee -a "$out/render.txt") 2>&1
  echo "== $(date -u +%FT%TZ) $(hostname) base $(cat .gpu/base/COMMIT 2>/dev/null) new $(git rev-parse HEAD 2>/dev/null)"
  nvidia-smi -L 2>/dev/null; nproc
  local gpu pocl
  gpu=$("$new" devices --json | python3 -c 'import json,sys; d=[x["index"] for x in json.load(sys.stdin)["openCL"] if x["kind"]=="gpu"]; print(d[0] if d else "")')
  pocl=$("$new" devices --json | python3 -c 'import json,sys; d=[x["index"] for x in json.load(sys.stdin)["openCL"] if x["kind"]=="cpu"]; print(d[0] if d else "")')
  [[ -n $gpu ]] || echo "no OpenCL GPU: only the PoCL half runs"
  # Separate homes: the base binary cannot open a store written by the newer one.
  one() { # which device-name device frames repeat
    local which=$1 name=$2 device=$3 frames=$4 repeat=$5 bin=$new
    [[ $which == base ]] && bin=$base
    CAPSIZE_HOME=/tmp/capsize-gpu/home-$which timeout 300 "$bin" bench render-frames --device "opencl:$device" \
      --width "$width" --height "$height" --detail 8 --frames "$frames" --repeat "$repeat" --json \
      > "$out/render-$name-$which-$i.json"
    echo "rc=$? $which $name round $i"
  }
  for i in $(seq "$rounds"); do
    for which in base new; do
      [[ -n $gpu ]] && one "$which" gpu "$gpu" 48 3
      [[ -n $pocl ]] && one "$which" pocl "$pocl" 4 1
    done
  done
  echo "== PSNR of the new binary's GPU frames against the native renderer, ${width}x$height detail 8, frames 0-1"
  if [[ -n $gpu ]]; then
    local size=(--width "$width" --height "$height" --frames 2 --repeat 1 --warmup 0)
    CAPSIZE_HOME=/tmp/capsize-gpu/home-new timeout 120 "$new" bench render-frames --device "opencl:$gpu" "${size[@]}" \
      --save-frames /tmp/capsize-gpu/render-gpu >/dev/null
    CAPSIZE_HOME=/tmp/capsize-gpu/home-new timeout 300 "$new" bench render-frames --device native "${size[@]}" \
      --save-frames /tmp/capsize-gpu/render-native >/dev/null
  fi
  summarize "$out" <<'PY' | tee "$out/render-summary.txt"
import math, os, statistics, struct, sys, zlib
out = sys.argv[1]
def pixels(path):
    data, idat, width = open(path, "rb").read()[8:], b"", 0
    while data:
        n, kind = struct.unpack(">I4s", data[:8])
        if kind == b"IHDR": width = struct.unpack(">I", data[8:12])[0]
        if kind == b"IDAT": idat += data[8:8 + n]
        data = data[12 + n:]
    raw, stride = zlib.decompress(idat), 1 + 4 * width
    return b"".join(raw[i + 1:i + stride] for i in range(0, len(raw), stride))
for device in ("gpu", "pocl"):
    medians = {}
    for which in ("base", "new"):
        fps, split = [], []
        for r in documents(f"{out}/render-{device}-{which}-*.json"):
            for run in r.get("runs", []):
                fps.append(run["throughput"]["frames_per_second"])
                m = run["metrics"]
                split.append((m.get("kernel_seconds", 0), m.get("transfer_seconds", 0), m.get("host_seconds", 0),
                              run["flops"] / run["seconds"] / 1e9))
        if not fps: continue
        medians[which] = statistics.median(fps)
        k, t, h, g = (statistics.median(x[i] for x in split) for i in range(4))
        print(f"{device} {which}: {len(fps)} runs, frames/s median {medians[which]:.1f} (min {min(fps):.1f}, max {max(fps):.1f}); "
              f"kernel {k:.3f} s, transfer {t:.3f} s, host {h:.3f} s per run; {g:.0f} GFLOP/s evaluated")
    if len(medians) == 2:
        print(f"{device} new / base frames/s: {medians['new'] / medians['base']:.2f}")
for f in range(2):
    a, b = f"/tmp/capsize-gpu/render-gpu/frame-{f:05d}.png", f"/tmp/capsize-gpu/render-native/frame-{f:05d}.png"
    if os.path.exists(a) and os.path.exists(b):
        x, y = pixels(a), pixels(b)
        mse = sum((p - q) ** 2 for i, (p, q) in enumerate(zip(x, y)) if i % 4 != 3) / (len(x) * 3 / 4)
        print(f"PSNR GPU vs native frame {f}: " + ("inf" if mse == 0 else f"{10 * math.log10(255 ** 2 / mse):.1f}") + " dB")
PY
}

# Runs the Python on stdin with ARGS after `documents(pattern)`, which the summaries read their runs' JSON with:
# each file the glob pattern names, in order, parsed; one a killed run left truncated is passed over.
summarize() {
  python3 - "$@" < <(
    cat <<'PY'
import glob, json
def documents(pattern):
    for path in sorted(glob.glob(pattern)):
        try:
            yield json.load(open(path))
        except ValueError:
            continue
PY
    cat
  )
}

# Unpacks the staged binary (and the launcher) to /tmp/capsize-gpu, registers NVIDIA's OpenCL ICD,
# and prints the index of the first OpenCL GPU (empty without one).
unpack() {
  mkdir -p /tmp/capsize-gpu
  xz -dc .gpu/capsize.xz > /tmp/capsize-gpu/capsize && chmod +x /tmp/capsize-gpu/capsize
  [[ -e .gpu/capsize-launch.xz ]] && xz -dc .gpu/capsize-launch.xz > /tmp/capsize-gpu/capsize-launch && chmod +x /tmp/capsize-gpu/capsize-launch
  if [[ -e /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 ]] && [[ ! -e /etc/OpenCL/vendors/nvidia.icd ]]; then
    mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
  fi
  /tmp/capsize-gpu/capsize devices --json | python3 -c 'import json,sys; d=[x["index"] for x in json.load(sys.stdin)["openCL"] if x["kind"]=="gpu"]; print(d[0] if d else "")'
}

# Issue 13 section 2: the OpenCL MLP step against torch's FP32 step on the same GPU, same shape, alternated
# (capsize, torch, capsize, torch, ...) so that both see the same machine; the base binary (stage-base) beside
# them when staged. JSON per run and a summary (GFLOP/s medians by each step's device time, the ratio to torch,
# the target 0.8) under OUT.
mlp() {
  local out="${1:-${OUT:?give an output folder}}" rounds="${ROUNDS:-2}"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PYTHONUNBUFFERED=1
  export CAPSIZE_HOME=/tmp/capsize-gpu/home-new
  local gpu bin=/tmp/capsize-gpu/capsize base=""
  gpu=$(unpack)
  if [[ -e .gpu/base/capsize.xz ]]; then
    base=/tmp/capsize-gpu/capsize-base
    xz -dc .gpu/base/capsize.xz > "$base" && chmod +x "$base"
  fi
  exec > >(tee -a "$out/mlp.txt") 2>&1
  echo "== $(date -u +%FT%TZ) $(hostname) new $(git rev-parse HEAD 2>/dev/null) base $(cat .gpu/base/COMMIT 2>/dev/null)"
  nvidia-smi -L 2>/dev/null; nproc
  [[ -n $gpu ]] || { echo "no OpenCL GPU: nothing to measure"; return 1; }
  if [[ ${CALIBRATE:-1} == 1 ]]; then
    echo "== calibrate (tunes CLBlast's Xgemm parameters for this GPU)"
    timeout 240 "$bin" devices --calibrate
  fi
  "$bin" devices --json > "$out/devices.json"
  local shape=(--batch 1024 --inputs 1024 --hidden 2048 --layers 3 --classes 10 --steps 20)
  for i in $(seq "$rounds"); do
    timeout 120 "$bin" bench train-mlp --device "opencl:$gpu" "${shape[@]}" --repeat 5 --json > "$out/mlp-new-$i.json"
    echo "rc=$? new round $i"
    if [[ -n $base ]]; then
      CAPSIZE_HOME=/tmp/capsize-gpu/home-base timeout 120 "$base" bench train-mlp --device "opencl:$gpu" "${shape[@]}" \
        --repeat 5 --json > "$out/mlp-base-$i.json"
      echo "rc=$? base round $i"
    fi
    timeout 120 python3 Benchmarks/peers/torch_peer.py --sizes 4096 > "$out/mlp-torch-$i.json"
    echo "rc=$? torch round $i"
  done
  summarize "$out" <<'PY' | tee "$out/mlp-summary.txt"
import statistics, sys
out = sys.argv[1]
def runs(which):
    rates, notes = [], set()
    for r in documents(f"{out}/mlp-{which}-*.json"):
        for run in r.get("runs", []):
            steps = run["series"]["step_seconds"]
            rates += [run["flops"] / len(steps) / s / 1e9 for s in steps]
            notes.update(run.get("notes", []))
    return rates, notes
torch = []
for t in documents(f"{out}/mlp-torch-*.json"):
    torch += [t["mlp"]["flops_per_step"] / s / 1e9 for s in t["mlp"]["step_seconds"]]
    print(f"torch: {t['peer']} on {t['device']}; SGEMM n=4096 {t['sgemm'][0]['gflops']:.0f} GFLOP/s")
if torch: print(f"torch step: {len(torch)} steps, median {statistics.median(torch):.0f} GFLOP/s")
for which in ("base", "new"):
    rates, notes = runs(which)
    if not rates: continue
    line = f"capsize {which} step: {len(rates)} steps, median {statistics.median(rates):.0f} GFLOP/s"
    if torch: line += f" = {statistics.median(rates) / statistics.median(torch):.2f}x torch (target >= 0.8)"
    print(line + (f"; {', '.join(sorted(notes))}" if notes else ""))
PY
}

# Issue 13 section 3: executors' checks (4 render jobs pinned to the GPU, invoke without it), a CUDA program
# as a job that must see its GPU, and one PASS or FAIL line per check in OUT/gpu-jobs-summary.txt.
gpu_jobs() {
  local out="${1:-${OUT:?give an output folder}}"
  mkdir -p "$out"
  (executors "$out")
  local bin=/tmp/capsize-gpu/capsize
  export LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" CAPSIZE_HOME=/tmp/capsize-gpu/state
  echo "== a CUDA program as a job sees its GPU" | tee -a "$out/executors.txt"
  timeout 120 "$bin" submit --gpus 1 --json -- python3 -c \
    'import torch; print("cuda devices", torch.cuda.device_count(), torch.cuda.get_device_name(0))' \
    > "$out/submit-cuda.json"
  echo "rc=$?" | tee -a "$out/executors.txt"
  local job
  job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$out/submit-cuda.json" 2>/dev/null)
  [[ -n $job ]] && "$bin" logs "$job" > "$out/cuda-job-log.txt" 2>&1
  "$bin" devices --json > "$out/devices.json"
  python3 - "$out" <<'PY' | tee "$out/gpu-jobs-summary.txt"
import json, os, sys
out = sys.argv[1]
gpus = [d["name"] for d in json.load(open(f"{out}/devices.json"))["openCL"] if d["kind"] == "gpu"]
print(f"OpenCL GPUs on the machine: {gpus}")
text = open(f"{out}/executors.txt").read()
children = [l for l in text.splitlines() if l.startswith("child ")]
ok = len(children) == 4 and all(l.split()[2] in ("success", "SUCCEEDED") for l in children)
print(("PASS" if ok else "FAIL") + f": submit --gpus 1 --array 4 -- render-frames, {len(children)} children: "
      + "; ".join(" ".join(l.split()[1:3]) for l in children))
try:
    invocations = json.load(open(f"{out}/invoke.json"))["invocations"]
    devices = [json.loads(i["response"]).get("device") if i.get("response") else None for i in invocations]
    hidden = bool(gpus) and bool(invocations) and all(d is not None and not any(g in str(d) for g in gpus)
                                                      for d in devices)
    print(("PASS" if hidden else "FAIL") + f": invoke hides GPUs, devices inside the functions: {devices}")
except (OSError, ValueError, KeyError) as error:
    print(f"FAIL: invoke hides GPUs, no result ({error})")
log = open(f"{out}/cuda-job-log.txt").read() if os.path.exists(f"{out}/cuda-job-log.txt") else ""
seen = "cuda devices 1" in log
print(("PASS" if seen else "FAIL") + ": a CUDA program as a job sees exactly its GPU"
      + ("" if seen else f" (log tail: {log[-300:]!r})"))
PY
}

case "${1:-}" in
  stage) stage ;;
  stage-base) shift; stage_base "$@" ;;
  measure) shift; measure "$@" ;;
  executors) shift; executors "$@" ;;
  render) shift; render "$@" ;;
  mlp) shift; mlp "$@" ;;
  gpu-jobs) shift; gpu_jobs "$@" ;;
  *) echo "usage: scripts/gpu-check.sh stage | stage-base [COMMIT] | measure [OUT] | executors [OUT] | render [OUT] | mlp [OUT] | gpu-jobs [OUT]" >&2; exit 2 ;;
esac
