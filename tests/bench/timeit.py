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
  timeit.py [--settle K] --cases N FILE
        the same for each line "NAME CMD..." of FILE, N runs each, the
        cases taking turns so that a shared machine's drift weighs on them
        alike: one run each with --settle; else runs of BLOCK (20) back to
        back, 0.3 s apart so that a block's teardown stays out of the next
        one's CPU time, which is counted within the blocks.  One line
        "NAME median p95 failed CPU kernel" a case
"""
import os
import subprocess
import sys
import time

args = sys.argv[1:]
settle = cases = None
if args[0] == "--settle":
    settle, args = args[1], args[2:]
if args[0] == "--cases":
    with open(args[2]) as f:
        cases = [line.split() for line in f if line.strip()]
    n = int(args[1])
else:
    n = int(args[0])
    cases = [["-"] + args[1:]]


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
BLOCK = 20
block = 1 if settle is not None else n if len(cases) == 1 else min(BLOCK, n)
times = {c[0]: [] for c in cases}
failed = {c[0]: 0 for c in cases}
busy = {c[0]: [0.0, 0.0] for c in cases}
done = 0
while done < n:
    k = min(block, n - done)
    for name, *cmd in cases:
        if settle is None and len(cases) > 1:
            time.sleep(0.3)
        c0 = cpu_ms()
        for _ in range(k):
            if settle is not None:
                deadline = time.monotonic() + 10
                while host_ends() > settle and time.monotonic() < deadline:
                    time.sleep(0.02)
                # and what the helper does after a box (its networks made
                # ahead made up again) is done
                time.sleep(0.05)
            t = time.perf_counter()
            failed[name] += subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0
            times[name].append((time.perf_counter() - t) * 1000)
        c1 = cpu_ms()
        busy[name][0] += c1[0] - c0[0]
        busy[name][1] += c1[1] - c0[1]
    done += k
for name, v in times.items():
    v.sort()
    cpu = "- -" if settle is not None else f"{busy[name][0] / n:.2f} {busy[name][1] / n:.2f}"
    line = f"{v[len(v) // 2]:.3f} {v[int(len(v) * 0.95) - 1]:.3f} {failed[name]} {cpu}"
    print(line if len(cases) == 1 and name == "-" else f"{name} {line}")
sys.exit(1 if any(failed.values()) else 0)
