#!/bin/bash
# Scenario: the systemd user manager in its user's box.  The test world has
# no systemd, so tests/tools/usermgr does what systemd does for
# user@UID.service with pam_nsbox's drop-in: the systemd-user PAM session
# (pam_nsbox.so user_manager) as root, a "(sd-pam)" child that closes it as
# the user, then the user's ids with the drop-in's three ambient
# capabilities, and an exec of nsbox-user-manager with the manager's
# command line.  A stand-in manager reports what it sees.  The real
# systemd --user on booted Debian is the VM tier's (tests/vm/).
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
base=$(write_policy; cat /etc/security/nsbox.conf)
write_policy "$base
[user:carol]
box = yes
no_new_privs = yes
capability_bounding = cap_net_raw"
# carol is exempt through admins in the default policy; here she is boxed.
sed -i 's/^exempt_groups = admins/exempt_groups =/' /etc/security/nsbox.conf
cat > /etc/pam.d/systemd-user <<P
auth     required pam_permit.so
account  required pam_permit.so
session  required $B/pam_nsbox.so helper=$B/nsbox-helper debug user_manager
P
mkdir -p -m 1777 $W/out/mgr

# The stand-in manager: what it sees, then it waits for TERM (or exits
# with the status --exit=N asks for).
cat > $W/bin/manager <<'M'
#!/bin/bash
f=${NSBOX_WORLD_OUT:-/run/world/out}/mgr/$(id -un)
{
        echo "nsbox_id=${NSBOX_ID:-}"
        echo "pid=$$"
        echo "init_comm=$(cat /proc/1/comm 2>/dev/null)"
        echo "self_ok=$([ -d /proc/$$ ] && grep -q "^Pid:[[:space:]]*$$\$" /proc/$$/status && readlink /proc/self > /dev/null && echo yes)"
        echo "pidns=$(readlink /proc/self/ns/pid)"
        echo "hostname=$(cat /proc/sys/kernel/hostname)"
        echo "homes=$(ls /home | tr '\n' ' ')"
        grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status | sed 's/:\s*/=/'
} > $f.tmp
mv $f.tmp $f
case "${1:-}" in --exit=*) exit ${1#--exit=} ;; esac
trap 'echo got-term >> $f; exit 0' TERM
sleep 600 &
wait
M
chmod 0755 $W/bin/manager
export NSBOX_WORLD_OUT=$W/out

run_manager() {         # run_manager USER [ARGS]: in the background
        local user=$1
        shift
        rm -f $W/out/mgr/$user
        $B/tests/usermgr $user $B/nsbox-user-manager $W/bin/manager "$@" > $W/out/usermgr-$user.log 2>&1 &
        MGR=$!
        wait_for 100 test -s $W/out/mgr/$user
}
f() { value "$1" $W/out/mgr/$2; }
host_pidns=$(readlink /proc/self/ns/pid)

# --- bob (share = user): the manager is in his box, with nothing to spare ---
run_manager bob
check usermgr/started "the stand-in manager starts through the wrapper" test -s $W/out/mgr/bob
check usermgr/boxed "it runs in a box (NSBOX_ID set, PID 1 is nsbox-init)" \
        bash -c "[ -n '$(f nsbox_id bob)' ] && [ '$(f init_comm bob)' = nsbox-init ]"
check usermgr/pid-ns "it is in the box's PID namespace, where its /proc/self is its own" \
        bash -c "[ '$(f pidns bob)' != '$host_pidns' ] && [ '$(f self_ok bob)' = yes ]"
check usermgr/view "it sees the box's host name and only bob's home" \
        bash -c "[ '$(f hostname bob)' = box-bob ] && [ '$(f homes bob)' = 'bob ' ]"
check usermgr/no-caps "it holds no capability: none permitted, effective, inheritable or ambient" \
        bash -c "for k in CapInh CapPrm CapEff CapAmb; do grep -qx \"\$k=0000000000000000\" $W/out/mgr/bob || exit 1; done"
check usermgr/wrapper-no-caps "the wrapper that stays as its parent holds none either" \
        bash -c "grep -q '^CapPrm:\s*0000000000000000' /proc/$MGR/status && grep -q '^CapAmb:\s*0000000000000000' /proc/$MGR/status"
check usermgr/wrapper-outside "the wrapper itself stays in the host's PID namespace" \
        test "$(readlink /proc/$MGR/ns/pid)" = "$host_pidns"
id=$(f nsbox_id bob)
out=$(su bob -c 'echo $NSBOX_ID')
check usermgr/login-joins "bob's login joins the box his user manager is in (share = user)" test "$out" = "$id"
check usermgr/session-listed "nsbox show lists the user manager's session (service systemd-user)" \
        bash -c "$NSBOX show $id | grep -q systemd-user"
check usermgr/no-leave-failed "the session's close as the user (sd-pam) logs no failure" \
        not grep -q 'leave-failed' $W/out/syslog

# Another of bob's processes cannot have the box handed to it: the helper
# gives it only to the process that opened the manager's session.
out=$(setpriv --reuid=bob --regid=bob --clear-groups -- $B/nsbox-user-manager /bin/sh -c 'echo id=${NSBOX_ID:-}; readlink /proc/self/ns/pid; grep ^CapEff /proc/self/status' 2>&1)
check usermgr/not-for-others "run by bob himself, the wrapper gets no box and runs the command as it is: $out" \
        bash -c "grep -qx 'id=' <<< '$out' && grep -qxF '$host_pidns' <<< '$out' && grep -q 'CapEff:\s*0000000000000000' <<< '$out'"
grep -q 'event=manager ' $W/out/syslog
check usermgr/audit "the helper records the hand-over (event=manager)" grep -q "event=manager box=$id user=bob" $W/out/syslog

# TERM reaches the manager; the wrapper ends as it does; the session goes.
kill -TERM $MGR
wait $MGR
rc=$?
check usermgr/term-forwarded "TERM to the wrapper reaches the manager" grep -qx got-term $W/out/mgr/bob
check usermgr/exit-status "the wrapper exits as the manager did (status $rc)" test $rc = 0
check usermgr/box-ends "with the manager gone, its session is released and the box ends" wait_for 50 no_boxes

# The manager's exit status, as systemd would see it.
run_manager bob --exit=7
wait $MGR
check usermgr/exit-code "a manager that exits 7 makes the wrapper exit 7" test $? = 7
wait_for 50 no_boxes

# The policy's no_new_privs and bounding set apply to the manager too.
run_manager carol
check usermgr/policy-privileges "carol's manager has no_new_privs and only cap_net_raw in its bounding set" \
        bash -c "[ '$(f NoNewPrivs carol)' = 1 ] && [ '$(f CapBnd carol)' = 0000000000002000 ]"
kill -TERM $MGR
wait $MGR 2>/dev/null
wait_for 50 no_boxes

# Until pam_nsbox boxes logins, the user manager is left alone too.
mkdir -p $W/pam.d.off
cp /etc/pam.d/systemd-user /etc/pam.d/other $W/pam.d.off/
mount --bind $W/pam.d.off /etc/pam.d
run_manager alice --exit=0
wait $MGR
check usermgr/not-enabled "with the module in no login service, the manager runs unboxed, with no capability" \
        bash -c "[ -z '$(f nsbox_id alice)' ] && [ '$(f pidns alice)' = '$host_pidns' ] && [ '$(f CapEff alice)' = 0000000000000000 ]"
umount /etc/pam.d
check usermgr/none-left "no box is left" no_boxes
exit 0
