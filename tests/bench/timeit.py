#!/usr/bin/env python3
"""Run a command N times; print the median and the 95th percentile in ms,
the number of failed runs, and what a run cost the machine's CPUs: busy
time per run in ms, then its kernel part (system, irq and softirq), from
/proc/stat over the whole loop, so that the helper's, the box's init's and
the kernel workers' share (a teardown overlapping the next run) count as
well as the command's own.

  timeit.py N CMD...      (exit status 1 if any run failed)
  timeit.py --settle K N CMD...
        each run starts only once at most K box host ends (nsb*) exist, and
        50 ms later, so that it does not overlap the teardown of the run
        before, nor the networks the helper makes ahead after it; K "now":
        as many as there are when it starts.  The CPU time is then "- -":
        the pauses would count the machine's idle noise.
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


def cpu_ms():
    # The machine's busy and kernel time so far, in ms.
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = sum(v[:8]) - v[3] - v[4]     # all but idle and iowait (guest is in user)
    return busy * 1000 / hz, (v[2] + v[5] + v[6]) * 1000 / hz


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
c0 = cpu_ms()
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
c1 = cpu_ms()
cpu = "- -" if settle is not None else f"{(c1[0] - c0[0]) / n:.2f} {(c1[1] - c0[1]) / n:.2f}"
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.95) - 1]:.3f} {failed} {cpu}")
sys.exit(1 if failed else 0)
