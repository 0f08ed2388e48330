#!/usr/bin/env python3
"""Log in on the VM's serial getty and run one command there.

    console.py SOCKET USER PASSWORD COMMAND

SOCKET is qemu's unix socket for ttyS1, where serial-getty@ttyS1 runs
login(1).  Prints what COMMAND printed, then logs out.  Exits 0 when the
command ran (its own status is printed last as "status N"), 1 when the
login failed (with what the console said), 2 on a timeout."""
import socket
import sys
import time

BEGIN, END = "__NSBOX_BEGIN__", "__NSBOX_END__"


def main():
    path, user, password, command = sys.argv[1:5]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(0.5)
    seen = ""

    def read_until(words, timeout):
        nonlocal seen
        end = time.time() + timeout
        while time.time() < end:
            for w in words:
                if w in seen:
                    return w
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            seen += data.decode(errors="replace")
        return None

    def send(text):
        s.sendall(text.encode() + b"\r")

    # A getty that printed its prompt long ago prints it again on a new line.
    for _ in range(10):
        send("")
        if read_until(["login: "], 6):
            break
    else:
        print("no login prompt on the console:", seen[-300:])
        return 2
    seen = ""
    send(user)
    if not read_until(["Password: "], 30):
        print("no password prompt:", seen[-300:])
        return 2
    seen = ""
    send(password)
    # The shell's prompt: login(1) flushes what was typed before it.
    end = time.time() + 120
    while time.time() < end and not seen.rstrip(" ").endswith(("$", "#")):
        if "Login incorrect" in seen:
            break
        read_until(["\x00"], 1)
    if "Login incorrect" in seen or not seen.rstrip(" ").endswith(("$", "#")):
        print("the login failed:", seen[-600:].replace("\r", ""))
        return 1
    seen = ""
    # The markers are written split, so that the terminal's echo of the
    # command line never looks like them.
    send("stty -echo; printf '%s\\n' __NSBOX_BEG''IN__; " + command +
         "; printf '%s %s\\n' __NSBOX_E''ND__ \"$?\"")
    if read_until([END], 120) != END:
        print("the command did not finish:", seen[-600:].replace("\r", ""))
        return 2
    read_until(["\n"], 2)
    out = seen[seen.find(BEGIN) + len(BEGIN):].replace("\r", "")
    body, _, tail = out.partition(END)
    print(body.strip("\n"))
    print("status", tail.strip().split("\n")[0])
    send("exit")
    read_until(["login: "], 20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
