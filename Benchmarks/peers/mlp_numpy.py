#!/usr/bin/env python3
"""The same MLP training step as capsize's train-mlp, written the way a numpy user would.

Forward: Z = A·W + b, ReLU; softmax cross-entropy; backward: dW = Aᵀ·dZ, db = Σ dZ, dA = dZ·Wᵀ,
ReLU mask; SGD. float32 throughout. Prints one JSON object: step times and GFLOP/s, with FLOPs
counted by the same formula as capsize (TrainMLP.flopsPerStep)."""
import argparse, json, os, statistics, time
import numpy as np


def flops_per_step(batch, widths, classes):
    total = 0.0
    pairs = list(zip(widths, widths[1:]))
    for l, (k, n) in enumerate(pairs):
        total += 2 * batch * k * n * (3 if l > 0 else 2)
        total += 2 * batch * n + n + k * n
        if l < len(pairs) - 1:
            total += batch * n
    return total + 5 * batch * classes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--inputs", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=2048)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.05)
    a = p.parse_args()
    rng = np.random.default_rng(42)
    widths = [a.inputs] + [a.hidden] * a.layers + [a.classes]
    centres = rng.uniform(-1, 1, (a.classes, a.inputs)).astype(np.float32)
    y = rng.integers(0, a.classes, a.batch)
    x = (centres[y] + 0.5 * rng.uniform(-1, 1, (a.batch, a.inputs))).astype(np.float32)
    W = [(np.sqrt(6 / k) * rng.uniform(-1, 1, (k, n))).astype(np.float32) for k, n in zip(widths, widths[1:])]
    b = [np.zeros(n, np.float32) for n in widths[1:]]
    lr = np.float32(a.lr)
    rows = np.arange(a.batch)

    def step():
        acts = [x]
        for l in range(len(W)):
            z = acts[-1] @ W[l] + b[l]
            acts.append(np.maximum(z, 0) if l < len(W) - 1 else z)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - shifted[rows, y]))
        dz = e / s
        dz[rows, y] -= 1
        dz /= a.batch
        for l in range(len(W) - 1, -1, -1):
            dW = acts[l].T @ dz
            db = dz.sum(axis=0)
            if l > 0:
                da = dz @ W[l].T
                dz_next = da * (acts[l] > 0)
            W[l] -= lr * dW
            b[l] -= lr * db
            if l > 0:
                dz = dz_next
        return loss

    for _ in range(a.warmup):
        step()
    times, losses = [], []
    for _ in range(a.steps):
        t = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t)
    flops = flops_per_step(a.batch, widths, a.classes)
    median = statistics.median(times)
    print(json.dumps({
        "peer": "numpy " + np.__version__,
        "blas": np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("version", "?"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "blas_kernels": blas_kernels(),
        "step_seconds_median": median, "step_seconds": times,
        "gflops_median": flops / median / 1e9, "flops_per_step": flops, "loss": losses,
    }))


def blas_kernels():
    """The kernels numpy's OpenBLAS runs (e.g. SkylakeX), when threadpoolctl is installed; else None."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return next((i.get("architecture") for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"), None)


if __name__ == "__main__":
    main()
