#!/usr/bin/env python3
"""cuBLAS FP32 peers on an NVIDIA GPU through PyTorch (TF32 off): square SGEMM at several n, and
the same MLP training step as capsize's train-mlp (same shapes and FLOP formula). One JSON object."""
import argparse, json, statistics, time
import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def timed(fn, repeats):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return times


def sgemm(sizes):
    out = []
    for n in sizes:
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        t = min(timed(lambda: a @ b, 20 if n <= 4096 else 8))
        out.append({"n": n, "gflops": 2 * n**3 / t / 1e9})
    return out


def mlp(batch, inputs, hidden, layers, classes, steps, lr=0.05):
    g = torch.Generator(device="cuda").manual_seed(42)
    widths = [inputs] + [hidden] * layers + [classes]
    x = torch.rand(batch, inputs, device="cuda", generator=g) * 2 - 1
    y = torch.randint(0, classes, (batch,), device="cuda", generator=g)
    W = [((torch.rand(k, n, device="cuda", generator=g) * 2 - 1) * (6 / k) ** 0.5) for k, n in zip(widths, widths[1:])]
    b = [torch.zeros(n, device="cuda") for n in widths[1:]]
    rows = torch.arange(batch, device="cuda")

    def step():
        acts = [x]
        for l in range(len(W)):
            z = torch.addmm(b[l], acts[-1], W[l])
            acts.append(torch.relu(z) if l < len(W) - 1 else z)
        p = torch.softmax(acts[-1], dim=1)
        dz = p
        dz[rows, y] -= 1
        dz /= batch
        for l in range(len(W) - 1, -1, -1):
            db = dz.sum(0)
            da = dz @ W[l].T if l > 0 else None
            W[l].addmm_(acts[l].T, dz, alpha=-lr)
            b[l] -= lr * db
            if l > 0:
                dz = da * (acts[l] > 0)

    flops = 0.0
    pairs = list(zip(widths, widths[1:]))
    for l, (k, n) in enumerate(pairs):
        flops += 2 * batch * k * n * (3 if l > 0 else 2) + 2 * batch * n + n + k * n + (batch * n if l < len(pairs) - 1 else 0)
    flops += 5 * batch * classes
    times = timed(step, steps)
    return {"step_seconds": times, "step_seconds_median": statistics.median(times),
            "gflops_median": flops / statistics.median(times) / 1e9, "flops_per_step": flops}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1024,2048,4096,8192")
    a = p.parse_args()
    print(json.dumps({
        "peer": f"torch {torch.__version__} cuBLAS FP32 (TF32 off)", "device": torch.cuda.get_device_name(0),
        "sgemm": sgemm([int(n) for n in a.sizes.split(",")]),
        "mlp": mlp(1024, 1024, 2048, 3, 10, 20),
    }))
