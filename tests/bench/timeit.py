#!/usr/bin/env python3
"""Run a command N times; print the median and the 95th percentile in ms.

  timeit.py N CMD...      (exit status 1 if any run failed)
  timeit.py --settle K N CMD...
        each run starts only once at most K box host ends (nsb*) exist, so
        that it does not overlap the teardown of the run before
"""
import os
import subprocess
import sys
import time

settle = None
if sys.argv[1] == "--settle":
    settle = int(sys.argv[2])
    del sys.argv[1:3]
n = int(sys.argv[1])
cmd = sys.argv[2:]


def host_ends():
    return sum(1 for i in os.listdir("/sys/class/net") if i.startswith("nsb"))


times, failed = [], 0
for _ in range(n):
    if settle is not None:
        deadline = time.monotonic() + 10
        while host_ends() > settle and time.monotonic() < deadline:
            time.sleep(0.002)
    t = time.perf_counter()
    failed += subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.95) - 1]:.3f} {failed}")
sys.exit(1 if failed else 0)
