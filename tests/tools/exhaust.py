#!/usr/bin/env python3
"""Run a command with the process table of this PID namespace full.

  exhaust.py CMD...    (root, inside a test world's own PID namespace)

Lowers the namespace's pid_max, forks idle children until fork fails,
frees exactly one pid for CMD, runs it, then undoes everything.  Prints
CMD's exit status.  Bounded: children exit when this script does.
"""
import os
import signal
import subprocess
import sys

PID_MAX = "/proc/sys/kernel/pid_max"
old = open(PID_MAX).read().strip()
highest = max(int(p) for p in os.listdir("/proc") if p.isdigit())
children = []
try:
    with open(PID_MAX, "w") as f:
        f.write(str(max(highest + 64, 400)))  # the kernel takes nothing under 301
    while True:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            signal.pause()
            os._exit(0)
        children.append(pid)
    os.kill(children.pop(), signal.SIGKILL)
    os.waitpid(-1, 0)
    rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
finally:
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    with open(PID_MAX, "w") as f:
        f.write(old)
print(rc)
