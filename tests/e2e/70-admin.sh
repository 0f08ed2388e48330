#!/bin/bash
# Scenario: the admin's view.  Every box event leaves one syslog record
# with who, from where and which box; a denial leaves one, naming the step,
# the object and the error.  nsbox list, show, enter and stop work on live
# boxes: enter sees inside, stop ends a box under a running ssh session,
# show lists the sessions of a shared box.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
base=$(write_policy; cat /etc/security/nsbox.conf)
write_policy "$base
[user:alice]
network = veth"
LOG=$W/out/syslog

# --- records of a login, a join, a logout ---
if [ $have_sshd = yes ]; then
        ssh_to alice 'echo $NSBOX_ID' > $W/out/id 2>&1
        id=$(cat $W/out/id)
        wait_for 30 no_boxes
        rec() { grep "nsbox-helper.*event=$1 box=$id " $LOG; }
        check audit/start "a login leaves one start record with user, uid, service, tty, rhost, pid and the init" \
                bash -c "[ \$(grep -c 'event=start box=$id user=alice uid=2001 service=sshd tty=ssh rhost=127.0.0.1 pid=[0-9][0-9]* init=[0-9][0-9]* namespaces=mount,pid,uts,ipc,user,net share=session addresses=10.213.0.2' $LOG) = 1 ]"
        check audit/join "and one join record" \
                bash -c "[ \$(grep -c 'event=join box=$id user=alice uid=2001 service=sshd tty=ssh rhost=127.0.0.1 pid=[0-9]' $LOG) = 1 ]"
        check audit/leave "a logout leaves one leave record" \
                bash -c "[ \$(grep -c 'event=leave box=$id user=alice uid=2001 service=sshd tty=ssh rhost=127.0.0.1 pid=[0-9][0-9]* reason=close' $LOG) = 1 ]"
        check audit/end "and one end record" \
                bash -c "[ \$(grep -c 'event=end box=$id user=alice uid=2001 .* reason=last-session' $LOG) = 1 ]"
        # The pid in the records is the login process that ran the module:
        # sshd's root monitor.
        ssh_to alice 'sleep 3' &
        sshpid=$!
        wait_for 50 bash -c "grep -q 'event=join .* user=alice .* service=sshd' $LOG && [ \$(grep -c 'event=join .* user=alice .* service=sshd' $LOG) = 2 ]"
        monitor=$(grep 'event=join .* user=alice .* service=sshd' $LOG | tail -n 1 | sed -n 's/.* pid=\([0-9]*\) .*/\1/p')
        check audit/login-pid "the pid in the records is sshd's root monitor" \
                bash -c "[ \"\$(cat /proc/$monitor/comm 2>/dev/null)\" = sshd ] && [ \"\$(stat -c %u /proc/$monitor)\" = 0 ]"
        wait $sshpid 2>/dev/null
        wait_for 30 no_boxes
else
        skip audit/ssh "sshd could not be started"
fi

# A SIGKILLed login still leaves its leave record.
su bob -c 'sleep 30' &
victim=$!
wait_for 50 box_up bob
bid=$(box_field bob id)
kill -KILL $victim
wait $victim 2>/dev/null
check audit/leave-on-sigkill "a login killed by SIGKILL leaves a leave record" \
        wait_for 30 grep -q "event=leave box=$bid user=bob uid=2002 service=su .* reason=login-exit" $LOG

# --- a denied login: one record, from one layer ---
printf '[default]\nbox = sometimes\n' > /etc/security/nsbox.d/50-bad.conf
chmod 0644 /etc/security/nsbox.d/50-bad.conf
su alice -c true 2>/dev/null
# syslog() returns once the datagram is queued: the sink may not have
# written it yet.
wait_for 50 grep -q 'event=denied user=alice .* step=policy' $LOG
check audit/denied "a denied login leaves one record naming the step, the object and the reason" \
        bash -c "[ \$(grep -c \"event=denied user=alice uid=2001 service=su tty=- rhost=- pid=[0-9]* step=policy object=/etc/security/nsbox.conf: invalid: /etc/security/nsbox.d/50-bad.conf: \\[default\\] box: 'sometimes' is not a boolean\" $LOG) = 1 ]"
rm /etc/security/nsbox.d/50-bad.conf
printf '[default]\nbind = /srv/nothing-here:/srv/dst\n' > /etc/security/nsbox.d/50-bad.conf
chmod 0644 /etc/security/nsbox.d/50-bad.conf
su alice -c true 2>/dev/null
wait_for 50 grep -q 'event=denied user=alice .* step=bind' $LOG
check audit/denied-setup "a failed setup leaves one record with step, path and errno" \
        bash -c "[ \$(grep -c 'event=denied user=alice .* step=bind object=/srv/nothing-here: No such file or directory' $LOG) = 1 ]"
check audit/denied-once "and the helper does not log it a second time" \
        bash -c "! grep 'nsbox-helper' $LOG | grep -q 'nothing-here'"
rm /etc/security/nsbox.d/50-bad.conf

# --- debug: every setup step with its duration ---
sed -i 's/ debug$/ debug/' /etc/pam.d/su
su bob -c true
su alice -c true
check audit/debug-module "with debug the module logs its steps in microseconds" \
        bash -c "grep -q 'pam_nsbox(su:session): event=step user=bob box=[0-9a-f]* step=request usec=[0-9]' $LOG && grep -q 'event=step user=bob box=[0-9a-f]* step=join usec=' $LOG"
check audit/debug-helper "and the helper logs the box's setup steps" \
        bash -c "grep -q 'nsbox-helper.*event=step box=[0-9a-f]* user=bob step=clone object=helper usec=[0-9]' $LOG && grep -q 'event=step box=[0-9a-f]* user=bob step=private_tmp object=/tmp usec=' $LOG && grep -q 'event=step box=[0-9a-f]* user=bob step=drop-privileges' $LOG"
check audit/debug-network "and, for alice's veth, the network's parts: links and addresses, nftables" \
        bash -c "grep -q 'event=step box=[0-9a-f]* user=alice step=network:links object=helper usec=[0-9]' $LOG && grep -q 'event=step box=[0-9a-f]* user=alice step=network:nft object=helper usec=[0-9]' $LOG"
pam_service su
sed -i 's/ debug$//' /etc/pam.d/su
log_sync
steps=$(grep -c 'event=step' $LOG)
su bob -c true
wait_for 20 no_boxes
log_sync
check audit/no-debug "without debug no step is logged" test "$(grep -c 'event=step' $LOG)" = "$steps"

# --- list, show, enter, stop on live boxes ---
su bob -c 'sleep 60' &
b1=$!
su bob -c 'sleep 60' &
b2=$!
wait_for 50 bash -c "$NSBOX list --json | grep -q '\"sessions\": 2'"
bid=$(box_field bob id)
out=$W/out/show
$NSBOX show bob > $out
check cli/show-sessions "show lists both sessions of bob's shared box" \
        test "$(grep -c '^  service=su tty=- rhost=- login-pid=[0-9]' $out)" = 2
check cli/show-policy "show prints the box's policy" grep -q '^  share *= user' $out
check cli/show-mounts "show lists the mounts seen inside" grep -q '^  /home  *tmpfs  *ro,nosuid,nodev,noexec' $out
check cli/show-processes "show lists the box's processes" grep -Eq '^ +[0-9]+ +1 +2002  nsbox-init' $out
$NSBOX show $bid --json > $out
check cli/show-json "show --json gives the sessions, policy, mounts and processes" python3 -c "
import json
b = json.load(open('$out'))[0]
assert b['id'] == '$bid' and b['user'] == 'bob'
assert len(b['sessions']) == 2 and all(s['service'] == 'su' for s in b['sessions'])
assert b['policy']['share'] == 'user' and b['policy']['hide_homes'] == 'yes'
assert '/home' in b['mounts'] and '/proc' in b['mounts']
assert any(p['comm'] == 'sleep' for p in b['processes'])
"
$NSBOX enter bob -- sh -c 'ps -eo pid,comm; echo; cat /proc/self/mountinfo; echo hostname=$(hostname); echo uid=$(id -u)' > $out 2>&1
check cli/enter-processes "enter sees the box's processes: its init as PID 1 and the sessions' sleep" \
        bash -c "grep -Eq '^ +1 nsbox-init' $out && grep -q ' sleep$' $out"
check cli/enter-mounts "enter sees the box's mounts" grep -q ' /home .* - tmpfs ' $out
check cli/enter-uts "enter sees the box's host name" grep -q '^hostname=box-bob' $out
check cli/enter-root "enter runs as root by default" grep -q '^uid=0' $out
check cli/enter-user "enter --user runs as that user" test "$($NSBOX enter $bid --user bob -- id -u)" = 2002
check cli/enter-status "enter returns the command's exit status" bash -c "$NSBOX enter bob -- sh -c 'exit 7'; [ \$? = 7 ]"
check cli/enter-not-root "only root may enter" not runuser -u carol -- $NSBOX enter bob -- true
check cli/enter-logged "entering is recorded" grep -q "event=enter box=$bid user=bob .* by=root" $LOG
check cli/list-not-root "list needs root" not runuser -u carol -- $NSBOX list
$NSBOX stop bob > $out 2>&1
check cli/stop "stop ends bob's box" grep -q "stopped box $bid (bob)" $out
check cli/stop-gone "and it is gone" no_boxes
check cli/stop-sessions "its logins return" wait_for 30 bash -c "! kill -0 $b1 2>/dev/null && ! kill -0 $b2 2>/dev/null"
check cli/stop-record "the stop is recorded, then the end" \
        bash -c "grep -q 'event=stop box=$bid user=bob uid=2002 .* by=root force=no' $LOG && grep -q 'event=end box=$bid user=bob .* reason=stop' $LOG"
wait $b1 $b2 2>/dev/null

if [ $have_sshd = yes ]; then
        ssh_to alice 'sleep 60; echo survived' > $out 2>&1 &
        sshpid=$!
        wait_for 50 box_up alice
        check cli/stop-ssh "stop ends a box that holds a running ssh session" $NSBOX stop alice
        check cli/stop-ssh-client "and the ssh client sees its session end" wait_for 50 bash -c "! kill -0 $sshpid 2>/dev/null"
        check cli/stop-ssh-not-survived "before its command could finish" not grep -q survived $out
        check cli/stop-ssh-clean "nothing of the box is left: no host end" wait_for 20 bash -c "! ip -br link | grep -q '^nsb'"
        wait $sshpid 2>/dev/null
fi

su bob -c 'trap "" TERM; sleep 60' &
b1=$!
wait_for 50 box_up bob
bid=$(box_field bob id)
t0=$(date +%s%N)
$NSBOX stop --force bob >/dev/null
t1=$(date +%s%N)
check cli/stop-force "stop --force ends a box whose processes ignore TERM" no_boxes
check cli/stop-force-fast "at once rather than after the grace period" test $(( (t1 - t0) / 1000000 )) -lt 900
wait $b1 2>/dev/null

# A plain stop gives the box's processes TERM first, and the grace period to
# act on it (the init finds them in the box's own /proc).
rm -f /home/bob/termed
su bob -c 'trap "echo got-term > /home/bob/termed; exit 0" TERM; while :; do sleep 0.1; done' &
b1=$!
wait_for 50 box_up bob
$NSBOX stop bob >/dev/null
check cli/stop-term-first "stop gives the box's processes TERM before the end" grep -q got-term /home/bob/termed
wait $b1 2>/dev/null
rm -f /home/bob/termed

# --- one form for every command ---
for c in check explain list show enter stop root; do
        check cli/help-$c "nsbox $c --help prints its usage and exits 0" \
                bash -c "set -o pipefail; $NSBOX $c --help | grep -q '^Usage: nsbox $c'"
done
for c in show enter stop; do
        $NSBOX $c ghost >$out 2>&1
        check cli/$c-not-found "nsbox $c of nothing exits 1 with one line" \
                bash -c "[ $? = 1 ] && [ \$(wc -l < $out) = 1 ] && grep -q \"no box is called or belongs to 'ghost'\" $out"
done
$NSBOX show >/dev/null 2>&1
check cli/usage-2 "a missing argument exits 2" test $? = 2
$NSBOX list --frob >/dev/null 2>&1
check cli/usage-2-option "an unknown option exits 2" test $? = 2

# --- check warns about what is valid but probably wrong ---
write_policy "$base
[user:ghost]
box = no
[group:phantoms]
box = no
[user:erin]
bind = /srv/not-there:/srv/dst"
$NSBOX check > $out 2>&1
check cli/check-still-valid "a policy with only warnings is valid" grep -q ': valid' $out
check cli/warn-unknown-user "check warns about a user section matching no user" grep -q "warning: \[user:ghost\] matches no user" $out
check cli/warn-unknown-group "and about a group section matching no group" grep -q "warning: \[group:phantoms\] matches no user" $out
check cli/warn-bind-source "and about a bind source that does not exist" grep -q 'warning: .*bind: source /srv/not-there does not exist' $out
check cli/warn-home-outside "and about a home outside /home while hide_homes is on" grep -q 'warning: user erin has the home /srv/erin outside /home' $out

# The last check decides nothing about the exit status; a death before here does.
exit 0
