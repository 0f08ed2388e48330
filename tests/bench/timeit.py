#!/usr/bin/env python3
"""Run a command N times; print the median and the 95th percentile in ms.

  timeit.py N CMD...      (exit status 1 if any run failed)
  timeit.py --settle K N CMD...
        each run starts only once at most K box host ends (nsb*) exist, and
        50 ms later, so that it does not overlap the teardown of the run
        before, nor the networks the helper makes ahead after it; K "now":
        as many as there are when it starts
"""
import os
import subprocess
import sys
import time

settle = None
if sys.argv[1] == "--settle":
    settle = sys.argv[2]
    del sys.argv[1:3]
n = int(sys.argv[1])
cmd = sys.argv[2:]


def host_ends():
    # The interfaces of our own net namespace: /sys may be another's (the
    # test world's is the machine's).
    with open("/proc/self/net/dev") as f:
        return sum(1 for line in f if line.lstrip().startswith("nsb"))


if settle == "now":
    settle = host_ends()
elif settle is not None:
    settle = int(settle)
times, failed = [], 0
for _ in range(n):
    if settle is not None:
        deadline = time.monotonic() + 10
        while host_ends() > settle and time.monotonic() < deadline:
            time.sleep(0.02)
        # and what the helper does after a box (its networks made ahead
        # made up again) is done
        time.sleep(0.05)
    t = time.perf_counter()
    failed += subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.95) - 1]:.3f} {failed}")
sys.exit(1 if failed else 0)
