#!/usr/bin/env python3
"""A tiny TCP peer for the network scenarios.

  tcp.py listen ADDR PORT LOG     accept forever; append "PEER DATA" per connection to LOG
  tcp.py connect ADDR PORT DATA [SRC]   connect (from SRC if given), send DATA; exit 0 on success
Bounded: connect gives up after 3 s; a listener is killed with its world.
"""
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen(addr, port, log):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(64)
    print("listening", flush=True)
    while True:
        c, peer = s.accept()
        c.settimeout(3)
        try:
            data = c.recv(256).decode(errors="replace").strip()
        except OSError:
            data = ""
        with open(log, "a") as f:
            f.write(f"{peer[0]} {data}\n")
        c.close()


def connect(addr, port, data, src=None):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(3)
    if src:
        s.bind((src, 0))
    s.connect((addr, int(port)))
    s.sendall(data.encode() + b"\n")
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(*sys.argv[2:5])
    else:
        try:
            connect(*sys.argv[2:])
        except OSError as e:
            print(f"connect failed: {e}", file=sys.stderr)
            sys.exit(1)
