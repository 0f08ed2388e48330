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
# RLIMIT_NPROC reached by the user: the box is built by root, so the login
# is boxed or refused, never half built.
out=$(prlimit --nproc=1 su alice -c 'echo in' 2>&1)
check attack16/nproc "with no process left to the user, the login ends cleanly ($(echo $out | head -c 80))" no_boxes
check attack16/no-init "and no init remains" wait_for 20 no_init
