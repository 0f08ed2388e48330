#!/bin/bash
# The limits on a host that runs no systemd, as the helper sees it: the
# helper's own cgroup subtree, /sys/fs/cgroup/nsbox (sourced by
# tests/vm/scenarios.sh once every box has ended and the helper has idled
# out).  A helper is started by hand in a mount namespace where
# /run/systemd is an empty tmpfs, so that sd_booted() says no, with
# systemd's sockets for it stopped; the module finds it on its usual
# socket.  Checked: the box's cgroup with its limits, its logins in it, a
# fork bomb stopped at tasks_max while bob works, an OOM kill there told to
# the terminal, usage in nsbox show, and nothing left after the box and
# after the helper: no cgroup below nsbox/, then no nsbox/ either.  The
# boxes inherit the helper's view, so their user managers find no systemd
# and fail: they are reset at the end.
sub=/sys/fs/cgroup/nsbox
vm "systemctl stop nsbox-helper.socket nsbox-user.socket nsbox-helper.service
    printf '[default]\ntasks_max = 60\nmemory_max = 200M\ncpu_max = 50%%\n' > /etc/security/nsbox.d/50-subtree.conf
    systemd-run -q --unit=nsbox-no-systemd unshare -m --propagation slave -- /bin/sh -c \
        'mount -t tmpfs -o mode=0755 nosystemd /run/systemd && exec /usr/libexec/nsbox/nsbox-helper --daemon'" > /dev/null
check "$(t subtree-helper)" "a helper runs that sees no systemd" \
        until_vm 30 "systemctl is-active -q nsbox-no-systemd && ss -Hxl | grep -q /run/nsbox/helper.sock"

# A held login, told by a file in her home: logind loses the login once it
# leaves its session scope, and with it her runtime directory, where hold
# looks (on a host without systemd there is neither).
vm_mark
vm "rm -f ~alice/held-n1"
(exec ssh "${SSH_OPTS[@]}" -tt -i "$VM_KEY" -p $VM_PORT alice@127.0.0.1 \
        'echo $NSBOX_ID > ~/held-n1; exec sleep 600') > /dev/null 2>&1 &
HOLD_n1=$!
until_vm 60 "test -s ~alice/held-n1" > /dev/null
box=$(vm "cat ~alice/held-n1")
said=$(vm "cat $sub/box-$box/pids.max $sub/box-$box/memory.max $sub/box-$box/cpu.max" 2>&1 | tr '\n' ' ')
check "$(t subtree-limits)" "alice's box $box has a cgroup of the helper's with its limits: $said" \
        is_ "$said" "60 209715200 50000 100000 "
out=$(as alice 'cat /proc/self/cgroup; echo id=$NSBOX_ID' 2>&1)
check "$(t subtree-login-in)" "her next login joins the box and runs in its cgroup: $out" \
        bash -c "grep -qx '0::/nsbox/box-$box' <<< \"\$1\" && grep -qx 'id=$box' <<< \"\$1\"" _ "$out"
init=$(vm "nsbox list --json" | sed -n "s/.*\"id\": \"$box\".*\"pid\": \([0-9]*\).*/\1/p")
check "$(t subtree-init-in)" "the box's PID 1 (${init:-?}) is in it too" \
        vm "grep -qx '0::/nsbox/box-$box' /proc/${init:-0}/cgroup"

as alice 'i=0; while [ $i -lt 100 ]; do sleep 300 > /dev/null 2>&1 & i=$((i+1)); done 2>/dev/null' > /dev/null 2>&1
n=$(vm "pgrep -c -u $(uid_of alice) -f '^sleep 300\$'")
tasks=$(vm "cat $sub/box-$box/pids.current")
check "$(t subtree-fork-bomb)" "her fork bomb stopped at tasks_max: ${n:-?} of 100 sleepers, ${tasks:-?} tasks in the cgroup" \
        bash -c "[ -n '$n' ] && [ '$n' -gt 0 ] && [ '$n' -lt 60 ] && [ '${tasks:-99}' -le 60 ]"
out=$(as bob 'echo bob-works; cat /proc/self/cgroup' 2>&1)
check "$(t subtree-others-work)" "bob logs in meanwhile, in a cgroup of his own box: $out" \
        bash -c "grep -qx bob-works <<< \"\$1\" && grep -q '^0::/nsbox/box-' <<< \"\$1\" &&
                 ! grep -q 'box-$box' <<< \"\$1\"" _ "$out"
out=$(vm "nsbox show $box")
check "$(t subtree-show-usage)" "nsbox show gives her tasks against the limit: $(grep -E '^  tasks' <<< "$out")" \
        grep -Eq '^  tasks +[0-9]+ of 60$' <<< "$out"
vm "pkill -u $(uid_of alice) -f '^sleep 300\$'" > /dev/null 2>&1
until_vm 30 "! pgrep -u $(uid_of alice) -f '^sleep 300\$'"

out=$(as alice -tt 'head -c 300M /dev/zero | tail > /dev/null; echo status=$?; sleep 3' 2>&1 < /dev/null | tr -d '\r')
said="$(grep status= <<< "$out") $(vm "sed -n 's/^oom_kill //p' $sub/box-$box/memory.events")"
check "$(t subtree-oom)" "her memory hog is killed in the box's cgroup, and her terminal told why: $said $(grep nsbox: <<< "$out")" \
        bash -c "grep -q 'status=137' <<< \"\$1\" && [ \"\${2##* }\" -ge 1 ] &&
                 grep -q '^nsbox: out of memory: the OOM killer ended 1 process here; box $box allows memory_max = 200M$' <<< \"\$1\"" \
        _ "$out" "$said"
release n1
vm "rm -f ~alice/held-n1"

check "$(t subtree-box-cgroup-gone)" "after the linger the boxes' cgroups are gone" \
        until_vm 120 "! pgrep -x nsbox-init && ! ls -d $sub/box-* 2>/dev/null"
check "$(t subtree-gone)" "and once the helper idles out, $sub is gone too" \
        until_vm 90 "! systemctl is-active -q nsbox-no-systemd && ! test -e $sub"
vm "rm -f /etc/security/nsbox.d/50-subtree.conf; systemctl reset-failed nsbox-no-systemd user@\$(id -u alice) user@\$(id -u bob) 2>/dev/null
    systemctl start nsbox-helper.socket nsbox-user.socket" > /dev/null
