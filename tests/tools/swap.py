#!/usr/bin/env python3
"""Swap two paths atomically, over and over: renameat2(RENAME_EXCHANGE).

  swap.py A B SECONDS     (bounded: stops after SECONDS)
"""
import ctypes
import os
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
a, b, seconds = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    n += 1
print(n)
