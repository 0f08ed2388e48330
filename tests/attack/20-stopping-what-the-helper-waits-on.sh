#!/bin/bash
# Attack 20: alice, outside any box, stops every process she may signal, all
# the time (a loop of kill(-1, SIGSTOP), as a cron job or a user unit
# could), while her logins are being built.  Among them is the first process
# of each of her boxes' user namespaces, which she owns, and the init of
# each of her boxes once it has dropped to her uid.
#
# Before the fix (ad80b52): the helper waited on that first process with no
# deadline; once it was stopped the helper's one loop stood still: bob's
# login was denied after 30 s, root's `nsbox list` hung, and no box ended
# until someone sent SIGCONT.  After: the helper never waits on a process
# the user may stop (the namespace's first process is killed, not asked),
# bob's logins and `nsbox list` go on, and alice's stopped boxes end at
# their start deadline.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
sed -i 's/ debug$//' /etc/pam.d/su

cat > $W/bin/stopper <<'P'
import os, signal, time
end = time.monotonic() + float(os.environ.get("STOP_SECONDS", "20"))
while time.monotonic() < end:
    try:
        os.kill(-1, signal.SIGSTOP)
    except OSError:
        pass
P
STOP_SECONDS=25 setpriv --reuid=alice --regid=alice --clear-groups -- $PY $W/bin/stopper &
attacker=$!
sleep 0.5
# alice's logins meanwhile: each is one more chance for the loop.
(
        for i in $(seq 30); do
                timeout -s KILL 45 su alice -c true > /dev/null 2>&1 &
        done
        wait
) 2> /dev/null &
logins=$!
sleep 2
# bob's logins while that goes on.
ok=0
for i in 1 2 3; do
        out=$(timeout 60 su bob -c 'echo "id=$NSBOX_ID"' 2>&1)
        [[ $out == *id=[0-9a-f]* ]] && ok=$((ok + 1))
done
check attack20/others-go-on "bob's three logins were boxed while alice stopped what she could ($ok of 3)" test $ok = 3
check attack20/list-answers "root's nsbox list answered meanwhile" bash -c "timeout 15 $NSBOX list --json > /dev/null"
wait $attacker
# Whatever of alice's is still stopped may go on now: her logins end.
pkill -CONT -u alice
wait $logins
check attack20/helper-alive "the helper still serves" bash -c "timeout 15 $NSBOX list --json > /dev/null"
check attack20/clean "every box of alice's has ended, as has everything of hers" \
        wait_for 300 bash -c "! $NSBOX list --json | grep -q '\"alice\"' && ! pgrep -u alice > /dev/null"

# The last check decides nothing about the exit status; a death before here does.
exit 0
