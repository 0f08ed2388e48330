#!/bin/bash
# Scenario: resource limits (tasks_max, memory_*, cpu_*, io_weight) on a
# host that cannot enforce them.  A policy that asks for a limit denies the
# login with one line naming what is missing -- cgroup v2 or a controller --
# and nsbox check warns about it; a login without limits is not affected,
# and root gets in.  Enforcement itself, by systemd or by the helper's own
# subtree where no systemd runs, is checked by the VM tier.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
good=$(write_policy; cat /etc/security/nsbox.conf)

# denied NAME: alice's login under tasks_max is denied once, naming what
# the host lacks ("$1" is a pattern for it).
denied() {
        local t=$1 what=$2 before
        log_sync
        before=$(grep -c 'event=denied user=alice ' $W/out/syslog)
        check $t/denied "su to alice is refused under tasks_max" not su alice -c true
        check $t/one-line "one denial line, at step limits, naming $what" bash -c "
                [ \$(grep -c 'event=denied user=alice ' $W/out/syslog) = $((before + 1)) ] &&
                grep 'event=denied user=alice ' $W/out/syslog | tail -n1 | grep 'step=limits' | grep -q '$what'"
        check $t/root-gets-in "root still gets a session" su root -c true
        check $t/nothing-left "no box was left behind" no_boxes
}

# usage_shown: on cgroup v2, nsbox show and nsbox list --json give what a
# box uses, from the cgroup of its login: CPU time here, where cgroup v2 has
# no controller (its core counts CPU time anyway).  The login is put in a
# cgroup of alice's own first, as logind puts it in a session scope below
# her slice; from a cgroup that is not hers (someone else's session, a
# service's), nothing of it is counted.
usage_login() {         # usage_login CGROUP: alice logs in from it, busy
        bash -c "echo \$\$ > $1/cgroup.procs && exec su alice -c 'while :; do :; done & sleep 30'" &
        login=$!
        wait_for 50 box_up alice
        sleep 0.5
        json=$($NSBOX list --json)
        id=$(sed -n 's/.*"id": "\([0-9a-f]*\)".*"user": "alice".*/\1/p' <<< "$json" | head -n1)
        show=$($NSBOX show "$id" 2>&1)
}
usage_logout() {
        pkill -KILL -f 'while :; do :; done' 2>/dev/null
        kill $login 2>/dev/null
        pkill -u alice 2>/dev/null
        wait $login 2>/dev/null
        wait_for 50 no_boxes
}
usage_shown() {
        local slice=/sys/fs/cgroup/user.slice/user-$(id -u alice).slice made=() d login id json show
        local cg=$slice/nsbox-test-$$.scope other=/sys/fs/cgroup/nsbox-test-$$
        for d in /sys/fs/cgroup/user.slice $slice $cg $other; do
                [ -d $d ] && continue
                mkdir $d || { skip limits/usage "cannot make a cgroup"; return; }
                made=($d "${made[@]}")
        done
        trap "rmdir ${made[*]} 2>/dev/null" EXIT
        rm -f /etc/security/nsbox.d/50-limits.conf
        usage_login $cg
        check limits/usage-list "nsbox list --json gives the box's CPU time and null for what it cannot count: $json" \
                $PY $NSBOX_REPO/tests/tools/jsoncheck.py '(box("alice")["usage"]["tasks"] is None and
                        box("alice")["usage"]["memory_bytes"] is None and box("alice")["usage"]["cpu_usec"] > 0 and
                        box("alice")["limits"]["tasks_max"] is None)' <<< "$json"
        check limits/usage-show "nsbox show gives the CPU time: $(grep -E 'tasks|memory|cpu' <<< "$show" | head -n3 | tr '\n' ' ')" \
                bash -c "grep -Eq '^  cpu time +[0-9]+\.[0-9]+ s' <<< \"\$1\" && grep -Eq '^  tasks +unknown' <<< \"\$1\"" _ "$show"
        usage_logout
        usage_login $other
        check limits/usage-not-others "a login from a cgroup not alice's own adds nothing of it: $json" \
                $PY $NSBOX_REPO/tests/tools/jsoncheck.py '(box("alice")["usage"]["tasks"] is None and
                        box("alice")["usage"]["memory_bytes"] is None and box("alice")["usage"]["cpu_usec"] is None)' <<< "$json"
        usage_logout
        for d in "${made[@]}"; do wait_for 50 rmdir $d; done
        trap - EXIT
        printf '[default]\ntasks_max = 64\nmemory_max = 256m\ncpu_max = 50%%\n' > /etc/security/nsbox.d/50-limits.conf
}

write_policy "$good"
printf '[default]\ntasks_max = 64\nmemory_max = 256m\ncpu_max = 50%%\n' > /etc/security/nsbox.d/50-limits.conf
chmod 0644 /etc/security/nsbox.d/50-limits.conf
out=$($NSBOX explain alice 2>&1)
check limits/explain "nsbox explain shows the limits and their file: $out" bash -c "
        grep -Eq '^tasks_max += 64 +# .*50-limits.conf' <<< \"\$1\" && grep -Eq '^cpu_max += 50%' <<< \"\$1\" &&
        grep -Eq '^memory_high += +# default' <<< \"\$1\"" _ "$out"

if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/self/mountinfo; then
        host_lacks="controller|systemd"
else
        host_lacks="cgroup v2"
fi
out=$($NSBOX check 2>&1)
check limits/check-warns "nsbox check warns that this host cannot enforce tasks_max: $out" \
        bash -c "grep -q 'warning: .*tasks_max = 64: this host lacks' <<< \"\$1\" && grep -q valid <<< \"\$1\"" _ "$out"
check limits/check-warns-once-a-key "one warning for each limit set, none for the unset ones" \
        test "$(grep -c 'this host lacks' <<< "$out")" = 3
denied limits/host "$(cut -d'|' -f1 <<< "$host_lacks")"

# A cgroup v2 hierarchy whose controllers are all elsewhere (bound to v1
# hierarchies here): the missing controller is named.
if umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null &&
        ! grep -qw pids /sys/fs/cgroup/cgroup.controllers; then
        denied limits/no-controller "cgroup controller pids"
        out=$($NSBOX check 2>&1)
        check limits/check-names-controller "nsbox check names the cgroup controller: $out" \
                grep -q 'lacks the cgroup controller pids' <<< "$out"
        usage_shown
elif grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        # Controllers there, but no systemd: the helper's own subtree holds
        # the limits.  It writes the host's cgroup tree, which this world
        # shares with the host: the VM tier checks it (tests/vm/subtree.sh).
        skip limits/subtree "the helper's own cgroup subtree writes the host's tree: checked by tests/vm/subtree.sh"
else
        skip limits/no-controller "cannot mount a cgroup2 hierarchy without the pids controller here"
fi

# Without limits, logins are boxed as before.
rm -f /etc/security/nsbox.d/50-limits.conf
check limits/none-boxed "without limits alice is boxed" bash -c "su alice -c 'echo \$NSBOX_ID' | grep -q '^[0-9a-f]\{8\}$'"
check limits/none-nothing-left "and her box goes with her login" wait_for 50 no_boxes
