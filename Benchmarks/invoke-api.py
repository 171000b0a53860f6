#!/usr/bin/env python3
"""Latency and throughput of `capsize serve`'s Lambda Invoke API, measured from a client on this machine.

    Benchmarks/invoke-api.py --port 9001 --function noop [--count 1000] [--warmup 50] [--concurrency 1,10]

Each lane keeps one HTTP/1.1 connection open (as the AWS SDKs do) and sends RequestResponse invokes with an empty
JSON payload back to back; latency is the client's wall time from sending the request to reading the whole
response. Prints one line per concurrency and, with --json, a JSON document. Standard library only.
"""

import argparse
import http.client
import json
import statistics
import threading
import time


def invoke_loop(port, function, count, latencies, errors):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = f"/2015-03-31/functions/{function}/invocations"
    for _ in range(count):
        start = time.perf_counter()
        connection.request("POST", path, body=b"{}", headers={"X-Amz-Invocation-Type": "RequestResponse"})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200 or response.getheader("X-Amz-Function-Error"):
            errors.append(response.status)
    connection.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(port, function, count, concurrency):
    latencies, errors, lanes = [], [], []
    per_lane = max(1, count // concurrency)
    start = time.perf_counter()
    for _ in range(concurrency):
        lane = threading.Thread(target=invoke_loop, args=(port, function, per_lane, latencies, errors))
        lane.start()
        lanes.append(lane)
    for lane in lanes:
        lane.join()
    wall = time.perf_counter() - start
    return {
        "concurrency": concurrency,
        "invocations": len(latencies),
        "errors": len(errors),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "per_second": len(latencies) / wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--function", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", default="1,10")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.concurrency.split(",")]
    # Warm-up: every lane's environment started (cold starts are not what this measures).
    measure(arguments.port, arguments.function, max(arguments.warmup, max(levels)), max(levels))
    results = [measure(arguments.port, arguments.function, arguments.count, level) for level in levels]
    for result in results:
        print(
            f"measured: concurrency {result['concurrency']}: {result['invocations']} invokes, "
            f"{result['errors']} errors, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
            f"max {result['max_ms']:.1f} ms, {result['per_second']:.0f} invokes/s"
        )
    if arguments.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
