#!/bin/bash
# Attack 22: a box whose init is stopped before it says "ready".  Alice can
# stop her own init from the moment it drops to her uid; here root stops
# it right as it starts, which the helper sees the same way, every time.
#
# Before the fix (ad80b52): such a box had no deadline.  It kept its veth,
# its lease and its processes after the login had given up, `nsbox list`
# skipped it and `nsbox stop` did not find it; four of them used up a /28
# pool.  After: every state is listed and stoppable, and a box not ready
# within its start deadline is killed, with one log line, and holds
# nothing after.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
# Views that take the init a while to build (85 read_only paths, as many as a policy line holds), so that it is caught before
# it says "ready".
mkdir -p $(seq -f /srv/r/%g 85)
slow="read_only = $(seq -f /srv/r/%g 85 | tr '\n' ' ')"
write_policy "[global]
pool4 = 10.213.7.0/28
prepared_linger = 0

[default]
namespaces = mount pid uts ipc net user
network = veth
private_tmp = yes
$slow"

# Stop every nsbox-init as soon as it exists, until told to end: the
# helper's children, looked at as they come (once each has become
# nsbox-init: stopped before its exec, it would hold the helper in vfork).
cat > $W/bin/stop-inits <<'P'
import os, signal, sys, time
end = time.monotonic() + float(sys.argv[1])
helper, done = None, set()
while time.monotonic() < end:
    if helper is None:
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and open(f"/proc/{d}/comm").read().strip() == "nsbox-helper":
                    helper = d
            except OSError:
                pass
        continue
    try:
        kids = open(f"/proc/{helper}/task/{helper}/children").read().split()
    except OSError:
        helper = None
        continue
    for k in kids:
        if k in done:
            continue
        try:
            if open(f"/proc/{k}/comm").read().strip() == "nsbox-init":
                os.kill(int(k), signal.SIGSTOP)
                done.add(k)
        except OSError:
            pass
P
# A login first, so that the helper runs before the stopper looks for it.
su bob -c true
wait_for 50 bash -c "! ip -br link | grep -q '^nsb'"
# catch N NAME: alice logs in (output in $W/out/NAME.*), while the stopper
# runs, until N of her boxes are caught starting.
starting() { [ "$($NSBOX list --json | grep -c '"state": "starting"')" -ge $1 ]; }
catch() {
        $PY $W/bin/stop-inits 15 &
        local stopper=$! i
        sleep 0.3
        for i in $(seq 20); do
                starting $1 && break
                timeout 60 su alice -c true > $W/out/$2.$i 2>&1 &
                sleep 0.5
        done
        wait_for 50 starting $1
        kill $stopper 2> /dev/null
        wait $stopper 2> /dev/null
}
# Four of them hold the whole /28 pool.
catch 4 stuck
check attack22/listed "four boxes stuck in starting are listed as such" \
        test "$($NSBOX list --json | grep -c '"state": "starting"')" -ge 4
first=$($NSBOX list --json | $PY -c "import json, sys; print([b['id'] for b in json.load(sys.stdin) if b['state'] == 'starting'][0])")
check attack22/show "nsbox show reaches a starting box" bash -c "$NSBOX show $first | grep -q 'state *starting'"
check attack22/stop "nsbox stop ends a starting box" bash -c "$NSBOX stop $first > /dev/null"
check attack22/stopped-gone "and it is gone" not bash -c "$NSBOX list --json | grep -q '\"$first\"'"
# The other three end at their deadline, and the logins hear why.
wait
check attack22/deadline "the logins were denied: the box was not ready in time" \
        bash -c "cat $W/out/stuck.* | grep -q 'cannot open session' && grep -q 'event=denied user=alice .*step=init object=box [0-9a-f]* was not ready within 20 s' $W/out/syslog"
check attack22/deadline-logged "the box's end says why" grep -q 'event=end .*reason=start-timeout' $W/out/syslog
nothing_held() { no_boxes && no_init && ! ip -br link | grep -q '^nsb'; }
check attack22/nothing-held "after them, no box, no init, no host end of a veth" wait_for 100 nothing_held
out=$(timeout 30 su bob -c 'echo "id=$NSBOX_ID"' 2>&1)
check attack22/pool-free "the pool is free again: bob's login is boxed" test -n "$(echo "$out" | sed -n 's/^id=\([0-9a-f]\{8\}\)$/\1/p')"

# Bounds on what one user may hold.  Past eight boxes starting, alice's
# further logins wait their turn, and only hers: bob's login is boxed at
# once, and hers is served when her stuck boxes have ended.  (A veth
# network again: the helper builds it while the init is caught.)
write_policy "[global]
pool4 = 10.213.8.0/24
prepared_linger = 0

[default]
namespaces = mount pid uts ipc net
network = veth
$slow"
catch 8 many
timeout 60 su alice -c 'echo "id=$NSBOX_ID"' > $W/out/turn 2>&1 &
turn=$!
sleep 1
check attack22/turn-waits "another login of alice's waits its turn" not test -s $W/out/turn
out=$(timeout 10 su bob -c 'echo "id=$NSBOX_ID"' 2>&1)
check attack22/turn-hers "bob's login is boxed meanwhile, at once" test -n "$(echo "$out" | sed -n 's/^id=\([0-9a-f]\{8\}\)$/\1/p')"
wait $turn
check attack22/turn-served "alice's waiting login is served once her stuck boxes have ended" \
        test -n "$(sed -n 's/^id=\([0-9a-f]\{8\}\)$/\1/p' $W/out/turn)"
wait
wait_for 100 no_boxes

# Past 64 boxes, alice is refused, she alone, with a line that says why.
write_policy '[global]
prepared_linger = 0
[default]
namespaces = mount pid uts ipc'
for i in $(seq 64); do
        su alice -c 'sleep 60' > /dev/null 2>&1 &
done
wait_for 300 bash -c "[ \$($NSBOX list --json | grep -c '\"running\"') -ge 64 ]"
out=$(timeout 30 su alice -c true 2>&1)
check attack22/bound "alice's 65th box is refused" grep -q 'cannot open session' <<< "$out"
check attack22/bound-says "the log says which bound" \
        grep -q 'event=denied user=alice .*step=limit object=uid 2001 has 64 boxes, the most one user may have' $W/out/syslog
out=$(timeout 30 su bob -c 'echo "id=$NSBOX_ID"' 2>&1)
check attack22/bound-hers "bob's login is boxed meanwhile" test -n "$(echo "$out" | sed -n 's/^id=\([0-9a-f]\{8\}\)$/\1/p')"
pkill -u alice sleep
wait
check attack22/bound-clean "all of them end" wait_for 100 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
