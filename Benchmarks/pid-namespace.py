#!/usr/bin/env python3
"""Cost of capsize-launch's --pid-namespace per launch: N launches of /bin/true with and without it, interleaved
(ABBA: each pair in the other order), run as whoever runs this (root: PID + mount namespaces; another user: a user
namespace too).

    Benchmarks/pid-namespace.py LAUNCHER [N [OPTION...]]      e.g. .build/release/capsize-launch 200
    runuser -u nobody -- Benchmarks/pid-namespace.py LAUNCHER 200 --private-shm 67108864

OPTIONs go to every launch (--private-shm BYTES: a mount namespace, and as another user a user namespace, in both).

Per launch: the wall time from spawn to reap of the launcher (as capsize's exec'd launcher sees it), the CPU time of
the launcher and everything below it (RUSAGE_CHILDREN), and the fork-to-reap "wall" the launcher reports.
"""
import json, os, resource, statistics, subprocess, sys, time

launcher = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
options = sys.argv[3:]
modes = {"without": [launcher, *options, "--", "/bin/true"],
         "with": [launcher, *options, "--pid-namespace", "--", "/bin/true"]}
results = {name: {"wall": [], "cpu": [], "reported": [], "namespaced": 0} for name in modes}


def cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


for name in modes:  # one of each first, not counted (page cache, first mount)
    subprocess.run(modes[name], stdout=subprocess.DEVNULL, check=True)
for i in range(count):
    order = ["without", "with"] if i % 2 == 0 else ["with", "without"]
    for name in order:
        before, started = cpu(), time.perf_counter()
        out = subprocess.run(modes[name], stdout=subprocess.PIPE, check=True).stdout
        wall, used = time.perf_counter() - started, cpu() - before
        lines = [json.loads(line) for line in out.splitlines()]
        results[name]["wall"].append(wall)
        results[name]["cpu"].append(used)
        results[name]["reported"].append(lines[-1]["wall"])
        results[name]["namespaced"] += "init" in lines[0]

print(f"uid {os.getuid()}, options {options}, {count} launches each, interleaved; medians (means) in ms")
for name, r in results.items():
    def show(values):
        return f"{statistics.median(values) * 1000:.3f} ({statistics.mean(values) * 1000:.3f})"
    print(f"{name:>8} --pid-namespace: spawn-to-reap {show(r['wall'])}, CPU {show(r['cpu'])}, "
          f"reported fork-to-reap {show(r['reported'])}; in a namespace: {r['namespaced']}/{count}")
