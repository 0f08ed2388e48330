#!/bin/bash
# Scenario: sharing and lifetime.  bob's sessions share one box (share =
# user) and see each other; alice's do not (share = session).  A box lingers
# as long as the policy says, then ends.  A login process killed with
# SIGKILL releases its session all the same, and the box ends.  (What a
# helper's death does is 22-adoption's.)
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
write_policy

# share = user: a second login of bob joins the first one's box.
su bob -c 'sleep 30' &
first=$!
wait_for 50 box_up bob
out=$W/out/bob.probe
su bob -c "$W/bin/probe; ps -eo comm" > $out
check share/user-same-box "bob's second session is in the first one's box" \
        test "$(value nsbox_id $out)" = "$($NSBOX list --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*"user": "bob".*/\1/p')"
check share/user-env "NSBOX_SHARE=user" test "$(value nsbox_share $out)" = user
check share/user-sees-other "bob's second session sees the first one's sleep" grep -qx sleep $out
check share/user-one-box "one box for two sessions" test "$(box_count)" = 1
check share/user-sessions "after the second logout the box counts one session" \
        bash -c "$NSBOX list --json | grep -q '\"sessions\": 1'"
kill $first 2>/dev/null
wait $first 2>/dev/null
check share/user-teardown "bob's box ended when his last session closed" wait_for 40 no_boxes

# Every way of logging in joins bob's shared box.
su bob -c 'sleep 30' &
first=$!
wait_for 50 box_up bob
shared=$($NSBOX list --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*"user": "bob".*/\1/p')
: > $W/out/pamexec.out
pamtester nsbox-pamtester bob open_session close_session >/dev/null 2>&1
check share/user-pamtester "pamtester joins bob's box" test "$(value nsbox_id $W/out/pamexec.out)" = "$shared"
check share/user-runuser "runuser joins bob's box" \
        test "$(runuser -u bob -- $W/bin/probe | sed -n 's/^nsbox_id=//p')" = "$shared"
login_run bob "$W/bin/probe > /home/bob/probe.login"
check share/user-login "login joins bob's box" test "$(value nsbox_id /home/bob/probe.login)" = "$shared"
if [ $have_sshd = yes ]; then
        check share/user-ssh "ssh joins bob's box" test "$(ssh_to bob $W/bin/probe | sed -n 's/^nsbox_id=//p')" = "$shared"
else
        skip share/user-ssh "sshd could not be started"
fi
check share/user-still-one "still one box" test "$(box_count)" = 1
kill $first; wait $first 2>/dev/null
wait_for 40 no_boxes

# The box's init reaps orphans: a child whose parent exits does not stay a
# zombie.
su bob -c 'sleep 30' &
first=$!
wait_for 50 box_up bob
su bob -c "bash -c '(sleep 0.2 &) ; exit'; sleep 1; ps -eo stat,comm" > $W/out/zombies
check end/reaps-orphans "no zombie is left in the box" bash -c "! grep -q '^Z' $W/out/zombies"
check end/orphans-reparented "the box saw the orphan at all" test -s $W/out/zombies
kill $first; wait $first 2>/dev/null
wait_for 40 no_boxes

# share = session: two concurrent logins of alice get two boxes.
su alice -c 'sleep 30' &
first=$!
wait_for 50 bash -c "[ \$($NSBOX list --json | grep -c alice) = 1 ]"
su alice -c "$W/bin/probe; ps -eo comm" > $W/out/alice.probe
check share/session-own-box "alice's second session has a box of its own" \
        bash -c "! grep -qx sleep $W/out/alice.probe"
kill $first; wait $first 2>/dev/null
check share/session-teardown "both of alice's boxes ended" wait_for 40 no_boxes

# Twenty logins at once: alice (share = session) gets twenty boxes, bob
# (share = user) one, even while it is still being built.
for i in $(seq 20); do
        su alice -c "echo \$NSBOX_ID" > $W/out/par-alice.$i 2>&1 &
        su bob -c "echo \$NSBOX_ID; sleep 2" > $W/out/par-bob.$i 2>&1 &
done
wait
check concurrent/alice-all-boxed "all 20 of alice's logins were boxed" \
        test "$(cat $W/out/par-alice.* | grep -cx '[0-9a-f]\{8\}')" = 20
check concurrent/alice-distinct "into 20 distinct boxes" test "$(sort -u $W/out/par-alice.* | wc -l)" = 20
check concurrent/bob-all-boxed "all 20 of bob's logins were boxed" \
        test "$(cat $W/out/par-bob.* | grep -cx '[0-9a-f]\{8\}')" = 20
check concurrent/bob-one-box "bob's overlapping logins all share one box, joined while it was built" \
        test "$(sort -u $W/out/par-bob.* | wc -l)" = 1
check concurrent/teardown "every box ended" wait_for 50 no_boxes
check concurrent/no-init "no init remains" wait_for 30 no_init

# linger: the box outlives its last session by the configured time.
write_policy "$(cat /etc/security/nsbox.conf)
linger = 2"
su bob -c true
check linger/kept "bob's box is still there right after logout" test "$(box_count)" = 1
check linger/ends "bob's box ends once linger has passed" wait_for 60 no_boxes
write_policy

# A box's leftover processes die with it.
su alice -c 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started' >/dev/null
check end/orphans-killed "a background process left by the session is gone" \
        wait_for 40 bash -c '! pgrep -u alice -x sleep >/dev/null'
check end/no-init "no nsbox-init remains" wait_for 30 no_init

# SIGKILL of the login process: the session is released all the same.
su alice -c 'sleep 300' &
victim=$!
wait_for 50 box_up alice
kill -KILL $victim
wait $victim 2>/dev/null
check crash/login-sigkill "the box ended within 2 s of the login process's SIGKILL" wait_for 20 no_boxes
check crash/login-sigkill-procs "the session's processes are gone" \
        wait_for 20 bash -c '! pgrep -u alice >/dev/null'

# SIGKILL of a box's init ends the box: the login sees its session end.
su alice -c 'sleep 300' &
victim=$!
wait_for 50 box_up alice
pkill -KILL -x nsbox-init
check crash/init-sigkill "the login returned once its box's init died" wait_for 30 bash -c "! kill -0 $victim 2>/dev/null"
check crash/init-sigkill-list "the helper forgot the box" wait_for 20 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
