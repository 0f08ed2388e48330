#!/bin/bash
# Attack 16: a privilege change or a map write cannot be done (here: the
# admin's subuid entry would map host root).  The failure is noticed and
# the login denied with a clear log line; nothing is half built.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
cp /etc/subuid $W/subuid.saved 2>/dev/null
if [ -e /etc/subuid ]; then
        echo "alice:0:1000" > /etc/subuid
        check attack16/denied "a subuid range holding uid 0 denies the login" not su alice -c true
        check attack16/logged "with a log line saying why" grep -q "event=denied user=alice .*holds id 0 or the user's own id" $W/out/syslog
        check attack16/nothing "and nothing is left" no_boxes
        cp $W/subuid.saved /etc/subuid
else
        skip attack16/subuid "this machine has no /etc/subuid to bind over"
fi
# The process table is full when the helper needs to fork for the box (the
# world's PID namespace has its own pid_max): the login is refused with a
# log line, and nothing is half built.
su alice -c true     # the helper runs already
rc=$($PY $NSBOX_REPO/tests/tools/exhaust.py su alice -c true)
check attack16/no-pids "with no pid left, the login is refused (status $rc)" test "$rc" = 1
check attack16/no-pids-logged "with a log line naming the step" \
        grep -q 'event=denied user=alice .*step=\(userns\|create\|init\).*Resource temporarily unavailable' $W/out/syslog
check attack16/no-pids-clean "and nothing half built: no box" wait_for 20 no_boxes
check attack16/no-pids-no-init "and no init" wait_for 20 no_init
check attack16/no-pids-recovers "afterwards logins work again" su alice -c true

# RLIMIT_NPROC reached by the user: the box is built by root, so the login
# is boxed or refused, never half built.
log_sync
denials=$(grep -c 'event=denied user=alice ' $W/out/syslog)
out=$(prlimit --nproc=1 su alice -c 'echo in; cat /proc/1/comm' 2>&1)
rc=$?
boxed_or_refused() {
        if [ $rc = 0 ]; then
                [ "$out" = "$(printf 'in\nnsbox-init')" ]
        else
                log_sync
                [ "$(grep -c 'event=denied user=alice ' $W/out/syslog)" -gt "$denials" ]
        fi
}
check attack16/nproc "with no process left to the user, the login is boxed or refused with a log line (status $rc: $(echo $out | head -c 80))" \
        boxed_or_refused
check attack16/nproc-clean "and it leaves no box" wait_for 20 no_boxes
check attack16/no-init "and no init remains" wait_for 20 no_init

# The last check decides nothing about the exit status; a death before here does.
exit 0
