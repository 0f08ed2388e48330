#!/usr/bin/env python3
"""Run a command N times; print the median and the 95th percentile in ms.

  timeit.py N CMD...      (exit status 1 if any run failed)
"""
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[2:]
times, failed = [], 0
for _ in range(n):
    t = time.perf_counter()
    failed += subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.95) - 1]:.3f} {failed}")
sys.exit(1 if failed else 0)
