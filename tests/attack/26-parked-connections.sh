#!/bin/bash
# Attack 26: alice parks idle connections on the helper's user socket, the
# one every user may reach (for `nsbox root`), from her own uid and from 16
# of her subordinate uids, as root of her box can.
#
# Before the fix (ad80b52): idle connections never timed out, and each
# subordinate uid counted as a user of its own: 64 parked connections
# filled every slot, and bob's `nsbox root` failed.  After: a connection
# that sends no request within 5 s is closed, and a subordinate uid counts
# as the user it belongs to, who has 4 slots.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy '[default]
namespaces = mount pid uts ipc user
user_root = yes'

cat > $W/bin/park <<'P'
import os, select, socket, sys, time
# park UID... : from each uid, 4 connections, all opened at the same moment
# (a gate holds every uid back until all are ready), each timed on its own
# until the helper closes it; prints how many were held past 1 s (accepted,
# then timed out) and the longest held.
path = "/run/nsbox/user.sock"
gate_r, gate_w = os.pipe()
results = []
for uid in map(int, sys.argv[1:]):
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r); os.close(gate_w)
        os.setgroups([]); os.setgid(uid); os.setuid(uid)
        os.read(gate_r, 1)
        socks = {}
        for _ in range(4):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(path)
            except OSError:
                continue
            socks[s.fileno()] = (s, time.monotonic())
        out = []
        p = select.poll()
        for fd in socks:
            p.register(fd, select.POLLIN)
        deadline = time.monotonic() + 30
        while socks and time.monotonic() < deadline:
            for fd, _ in p.poll(1000):
                s, t0 = socks.pop(fd)
                out.append(time.monotonic() - t0)
                p.unregister(fd)
                s.close()
        out += [30.0] * len(socks)
        os.write(w, (" ".join("%.2f" % x for x in out) + "\n").encode())
        os._exit(0)
    os.close(w)
    results.append(r)
os.close(gate_r)
time.sleep(0.5)
os.close(gate_w)
times = []
for r in results:
    times += [float(x) for x in os.read(r, 4096).split()]
held = [t for t in times if t > 1]
print("connections=%d held=%d longest=%.1f" % (len(times), len(held), max(times or [0])))
P
su bob -c 'sleep 2; nsbox_root=$('"$NSBOX"' root -- id -u 2>&1); echo "root=$nsbox_root"' > $W/out/bob 2>&1 &
bob=$!
wait_for 50 test -S /run/nsbox/user.sock
$PY $W/bin/park 2001 $(seq 200000 200015) > $W/out/park &
park=$!
wait $bob
wait $park
echo "   $(cat $W/out/park)"
check attack26/others-served "bob's nsbox root worked while alice parked connections ($(value root $W/out/bob))" \
        test "$(value root $W/out/bob)" = 0
held=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' $W/out/park)
longest=$(sed -n 's/.*longest=\([0-9.]*\).*/\1/p' $W/out/park)
check attack26/bounded "alice and her subordinate uids held at most 8 connections (${held:-?})" test "${held:-99}" -le 8
check attack26/deadline "the helper closed each within its deadline (the longest lasted ${longest:-?} s)" \
        bash -c "[ -n '$longest' ] && awk 'BEGIN { exit !($longest < 10) }'"
check attack26/logged "the refusal is logged with the owner" grep -q 'event=refused step=connect uid=2000[0-9]*' $W/out/syslog

# The last check decides nothing about the exit status; a death before here does.
exit 0
