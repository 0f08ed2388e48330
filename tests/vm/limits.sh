#!/bin/bash
# The resource limits on a booted machine (sourced by tests/vm/scenarios.sh,
# with its hold, release and until_vm): a shared box's limits on the user's
# slice, the limits of a [group:] section, a whole CPU in cpu_max as a
# cpuset, a fork bomb that stops at tasks_max while bob works, a memory hog
# killed in alice's box only (her terminal and the journal told why), usage
# in nsbox show, a changed policy that leaves running boxes as they are,
# the limits of a share = session box on its session scope, and no drop-in
# of systemd's left after the boxes.
uid_of() { vm "id -u $1"; }
slice_file() { vm "cat /sys/fs/cgroup/user.slice/user-$(uid_of "$1").slice/$2"; }
# is_ WHAT VALUE: the check's own comparison, to say in its line.
is_() { [ "$1" = "$2" ]; }

vm "mkdir -p /etc/security/nsbox.d && printf '[default]\ntasks_max = 80\nmemory_max = 256M\ncpu_max = 100%%\n\n[group:students]\ntasks_max = 50\n' \
        > /etc/security/nsbox.d/50-limits.conf && chmod 0644 /etc/security/nsbox.d/50-limits.conf"
out=$(vm "nsbox check 2>&1; nsbox explain bob | grep tasks_max")
check "$(t limits-check)" "nsbox check calls the limits valid, and bob's come from [group:students]: $out" \
        bash -c "grep -q valid <<< \"\$1\" && ! grep -q warning <<< \"\$1\" &&
                 grep -Eq '^tasks_max += 50 .*group:students' <<< \"\$1\"" _ "$out"

vm_mark
hold alice l1
box=$(held_box l1)
said="$(slice_file alice pids.max) $(slice_file alice memory.max)"
check "$(t limits-user-slice)" "alice's shared box puts tasks_max 80 and memory_max 256M on her slice: $said" \
        is_ "$said" "80 268435456"
check "$(t limits-dropin)" "systemd keeps them as runtime drop-ins while the box lives" \
        vm "test -f /run/systemd/system.control/user-$(uid_of alice).slice.d/50-TasksMax.conf"
check "$(t limits-box-scope)" "the box's scope lives in her slice, with the limits too" \
        vm "systemctl show -P Slice nsbox-$box.scope | grep -qx user-$(uid_of alice).slice &&
            systemctl show -P TasksMax nsbox-$box.scope | grep -qx 80"
out=$(as bob 'echo id=$NSBOX_ID' 2>&1)
said="$(sed -n 's/^id=.*/boxed/p' <<< "$out") $(slice_file bob pids.max)"
check "$(t limits-group)" "bob, of the students, is boxed with tasks_max 50 on his slice: $said" is_ "$said" "boxed 50"

# cpu_max = 100% is one whole CPU: each box runs on one, and nproc says
# so from a login's first command.  alice's box holds one CPU, so bob's,
# started after, gets the other (the machine has two).
a=$(as alice 'echo $(nproc) $(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status)' 2>&1)
b=$(as bob 'echo $(nproc) $(sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status)' 2>&1)
sa=$(slice_file alice cpuset.cpus) sb=$(slice_file bob cpuset.cpus)
said="alice: $a, her slice: $sa; bob: $b, his slice: $sb"
check "$(t limits-cpuset-nproc)" "nproc and the affinity agree with cpu_max = 100%, and the boxes spread ($said)" \
        bash -c "[ '${a%% *}' = 1 ] && [ '${b%% *}' = 1 ] && [ '${a#* }' != '${b#* }' ] && [ '${a#* }' = '$sa' ] &&
                 [ '${b#* }' = '$sb' ]"

# A fork bomb, of sleepers that stay: the slice stops it at 80 tasks.
as alice 'i=0; while [ $i -lt 150 ]; do sleep 300 > /dev/null 2>&1 & i=$((i+1)); done 2>/dev/null' > /dev/null 2>&1
n=$(vm "pgrep -c -u $(uid_of alice) -f '^sleep 300\$'")
tasks=$(slice_file alice pids.current)
check "$(t limits-fork-bomb)" "alice's fork bomb stopped at tasks_max: ${n:-?} of 150 sleepers, ${tasks:-?} tasks in her slice" \
        bash -c "[ -n '$n' ] && [ '$n' -gt 0 ] && [ '$n' -lt 80 ] && [ '${tasks:-99}' -le 80 ]"
out=$(as bob 'echo bob-works; id -un' 2>&1)
check "$(t limits-others-work)" "bob logs in and works meanwhile: $out" grep -qx bob-works <<< "$out"
out=$(vm "nsbox show $box")
check "$(t limits-show-usage)" "nsbox show gives her tasks against the limit: $(grep -E '^  (tasks|memory)' <<< "$out" | tr '\n' ' ')" \
        grep -Eq '^  tasks +[0-9]+ of 80$' <<< "$out"
out=$(vm "nsbox list --json")
check "$(t limits-list-json)" "nsbox list --json carries usage and limits" \
        python3 "$REPO/tests/tools/jsoncheck.py" "(box('$box')['usage']['tasks'] >= 0 and box('$box')['usage']['memory_bytes'] >= 0 and
                box('$box')['limits']['tasks_max'] == 80)" <<< "$out"
vm "pkill -u $(uid_of alice) -f '^sleep 300\$'" > /dev/null 2>&1
until_vm 30 "! pgrep -u $(uid_of alice) -f '^sleep 300\$'"

# A memory hog: tail keeps a line with no end.  The OOM killer takes it,
# within her slice; her held login and bob's slice are untouched.  On a
# terminal, the helper says why; the journal has the record.
vm_mark
out=$(as alice -tt 'head -c 400M /dev/zero | tail > /dev/null; echo status=$?; sleep 3' 2>&1 < /dev/null | tr -d '\r')
check "$(t limits-oom-killed)" "alice's memory hog is killed: $(grep status= <<< "$out")" grep -q 'status=137' <<< "$out"
check "$(t limits-oom-terminal)" "her terminal is told why: $(grep nsbox: <<< "$out")" \
        grep -q "^nsbox: out of memory: the OOM killer ended 1 process here; box $box allows memory_max = 256M$" <<< "$out"
log=$(vm "journalctl -q --no-pager --since=@$VM_MARK -t nsbox-helper | grep 'event=oom '")
check "$(t limits-oom-audit)" "the journal records the kill in her login's scope, and the terminal told: $log" \
        grep -Eq "event=oom box=$box user=alice uid=[0-9]+ service=sshd .* cgroup=/user.slice/user-[0-9]+.slice/session-[0-9]+.scope killed=1 memory_max=256M told=pts/[0-9]+$" <<< "$log"
said="$(slice_file alice memory.events | sed -n 's/^oom_kill //p') $(slice_file bob memory.events | sed -n 's/^oom_kill //p')"
check "$(t limits-oom-in-her-slice)" "the OOM kill is counted in her slice, none in bob's (alice, bob: $said)" \
        bash -c "[ '${said% *}' -ge 1 ] && [ '${said#* }' = 0 ]"
said="$(kill -0 $HOLD_l1 && vm "nsbox enter $box -- echo alive") $(as bob 'echo works' 2>&1)"
check "$(t limits-oom-others-live)" "her other login lives on, and bob's login works: $said" is_ "$said" "alive works"
out=$(vm "nsbox show $box")
check "$(t limits-show-oom)" "nsbox show tells of the OOM kill: $(grep -E '^  memory' <<< "$out")" \
        grep -Eq '^  memory .* killed by the OOM killer' <<< "$out"

# The policy changes: the running box keeps its limits, a new box of the
# new policy has none of its own.
vm "rm /etc/security/nsbox.d/50-limits.conf"
out=$(as alice 'echo id=$NSBOX_ID' 2>&1)
new=$(sed -n 's/^id=//p' <<< "$out")
said="$(vm "systemctl show -P TasksMax nsbox-$box.scope") $(vm 'nsbox list --json' | grep "\"id\": \"${new:-none}\"" |
        sed -n 's/.*"tasks_max": \([a-z0-9]*\).*/\1/p')"
check "$(t limits-policy-change)" "after the change her running box keeps tasks_max 80, and her new login's box $new has none: $said" \
        bash -c "[ -n '$new' ] && [ '$new' != '$box' ] && [ '$said' = '80 null' ]"
release l1

# share = session: the limits go on the login's own session scope and on
# the box's scope, and his slice keeps none of them.
vm "printf '[user:frank]\nshare = session\ntasks_max = 40\n' > /etc/security/nsbox.d/50-session.conf &&
    chmod 0644 /etc/security/nsbox.d/50-session.conf"
hold frank s2
said="$(vm "systemctl show -P TasksMax session-$(held_session s2).scope") $(vm "systemctl show -P TasksMax nsbox-$(held_box s2).scope")"
slice=$(slice_file frank pids.max)
check "$(t limits-share-session)" "with share = session, tasks_max 40 is on frank's session scope and on his box's ($said), not on his slice ($slice)" \
        bash -c "[ '$said' = '40 40' ] && [ -n '$slice' ] && [ '$slice' != 40 ]"
# Such a box shows its login's session scope at /sys/fs/cgroup, read-only,
# and nothing of anyone else's; a shared box shows the host's tree, which
# systemd --user writes at its paths.
# The login roots a cgroup namespace there, so that /proc/self/cgroup
# agrees: a program that joins the two finds its limits.
out=$(as frank 'cat /sys/fs/cgroup/pids.max; ls /sys/fs/cgroup | grep -c "\.slice$"; cat /proc/self/cgroup
                cat "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/pids.max"; touch /sys/fs/cgroup/x' 2>&1)
check "$(t limits-cgroup-view)" "frank's box reads its limit at /sys/fs/cgroup/pids.max, read-only, sees no slice, and its /proc/self/cgroup agrees: $out" \
        bash -c "[ \"\$(sed -n 1p <<< \"\$1\")\" = 40 ] && [ \"\$(sed -n 2p <<< \"\$1\")\" = 0 ] &&
                 [ \"\$(sed -n 3p <<< \"\$1\")\" = 0::/ ] && [ \"\$(sed -n 4p <<< \"\$1\")\" = 40 ] &&
                 grep -q 'Read-only file system' <<< \"\$1\"" _ "$out"
# su to frank from root's session is no session of his: it starts in the
# scope of its new box, with the box's PID 1, before its shell runs.
out=$(vm "su frank -c 'cat /proc/self/cgroup; echo id=\$NSBOX_ID'" 2>&1)
id=$(sed -n 's/^id=//p' <<< "$out")
check "$(t limits-su-in-scope)" "su to frank runs, from its first command, in the scope of his new box: $out" \
        grep -Eqx "0::/user.slice/user-[0-9]+.slice/nsbox-${id:-none}.scope" <<< "$out"
check "$(t limits-cgroup-view-shared)" "alice's shared box sees the host's tree" as alice 'test -d /sys/fs/cgroup/user.slice'
check "$(t limits-cgroup-view-host)" "and the host's /sys/fs/cgroup is one mount, as before" \
        vm "[ \$(findmnt -rn /sys/fs/cgroup | wc -l) = 1 ]"
release s2
vm "rm /etc/security/nsbox.d/50-session.conf"

# The end of her last box with limits takes the drop-ins systemd wrote for
# them; nothing of systemd's is left for a later login to inherit.
check "$(t limits-nothing-left)" "after the linger no runtime drop-in of the limits is left" \
        until_vm 120 "! ls /run/systemd/system.control/user-*.slice.d/50-*.conf"
