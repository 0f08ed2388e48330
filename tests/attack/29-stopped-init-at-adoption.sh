#!/bin/bash
# Attack 29: alice stops her own box's init (SIGSTOP, as a process of hers
# outside that box's PID namespace may), and the helper dies.  The next
# helper asks every init at once and waits at most 5 s: bob's box is taken
# over, the login that started the helper is not held up longer, and
# alice's init, ours but unanswering, is killed with a log line rather
# than left unmanaged (its addresses and elements unknown to anyone).
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
su alice -c 'sleep 300' > /dev/null 2>&1 &
a=$!
su bob -c 'sleep 300' > /dev/null 2>&1 &
b=$!
wait_for 100 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = 2 ]"
alice_init=$(box_field alice pid)
bob_id=$(box_field bob id)
setpriv --reuid=alice --regid=alice --clear-groups kill -STOP $alice_init
check attack29/stopped "alice could stop her own init" bash -c "grep -q '^State:.*T' /proc/$alice_init/status"
pkill -KILL -x nsbox-helper
wait_for 50 bash -c '! pgrep -x nsbox-helper >/dev/null'
t0=$(date +%s%N)
id=$(su alice -c 'echo $NSBOX_ID' 2>&1)
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check attack29/login "that login, waiting in the new helper's queue meanwhile, is boxed ($id)" grep -qx '[0-9a-f]\{8\}' <<< "$id"
check attack29/deadline "the login that started the next helper waited for the takeover at most its deadline (${t} ms)" \
        test $t -lt 8000
check attack29/bob-kept "bob's box was taken over" test "$(box_field bob id)" = "$bob_id"
check attack29/logged "alice's unanswering init is refused, and killed, with a log line" \
        grep -q "nsbox-helper.*event=adopt-refused box=[0-9a-f]* pid=$alice_init reason=\"it did not answer in time\" action=killed" $W/out/syslog
check attack29/killed "and is gone, with its box" wait_for 50 bash -c "! kill -0 $alice_init 2>/dev/null"
check attack29/bob-works "bob's session goes on" kill -0 $b
kill $a $b 2>/dev/null
wait $a $b 2>/dev/null
check attack29/nothing-left "nothing is left" wait_for 100 bash -c "$(declare -f no_boxes no_init); NSBOX=$NSBOX; no_boxes && no_init"

# The last check decides nothing about the exit status; a death before here does.
exit 0
