#!/usr/bin/env python3
"""Reads `capsize invoke --json` on stdin; prints the warm successful invocations' Duration: how many, the median
and the p99 (nearest rank), in ms. Used by runtime-api.sh and invoke-api.sh."""
import json
import math
import sys

d = sorted(i["durationMs"] for i in json.load(sys.stdin)["invocations"] if not i["cold"] and i["status"] == "success")
print(f"{len(d)} warm: median {d[len(d) // 2]:.3f} ms, p99 {d[math.ceil(0.99 * len(d)) - 1]:.3f} ms")
