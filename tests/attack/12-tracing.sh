#!/bin/bash
# Attack 12: alice ptraces her box's PID 1 or the helper.  Neither is
# dumpable while it matters; PID 1 holds no privilege.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
su alice -c 'sleep 20' &
held=$!
wait_for 50 box_up alice
init=$(box_field alice pid)
helper=$(pgrep -x nsbox-helper)
check attack12/init-caps "PID 1 holds no capability" grep -q '^CapEff:\s*0000000000000000' /proc/$init/status
check attack12/init-not-dumpable "alice cannot read PID 1's memory map" \
        not setpriv --reuid alice --regid alice --clear-groups cat /proc/$init/maps
check attack12/helper-not-dumpable "nor the helper's" not setpriv --reuid alice --regid alice --clear-groups cat /proc/$helper/maps
check attack12/gdb "a ptrace attach to PID 1 fails" \
        not setpriv --reuid alice --regid alice --clear-groups $PY -c "
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
sys.exit(0 if libc.ptrace(16, $init, 0, 0) == 0 else 1)"
# What PID 1 holds, by kind: its link to the helper (both ends: it keeps the
# helper's for the next helper), a pidfd of the helper and one of each login
# process, its signalfd, and its three standard fds; nothing else.
fd_kinds() {
        ls -l /proc/$1/fd | awk 'NR > 1 {print $NF}' | sed 's/socket:.*/socket/; s/anon_inode:\[pidfd\]/pidfd/' |
                sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'
}
init_fds_ok() {
        local k
        k=$(fd_kinds $1)
        [ "$(ls /proc/$1/fd | wc -l)" -le 8 ] && grep -q 'socket=2 ' <<< "$k" && grep -q 'pidfd=2 ' <<< "$k" ||
                { echo "   PID 1's fds: $k"; return 1; }
}
check attack12/init-fds "PID 1 holds only its link, a pidfd of the helper and of the login, its signalfd" \
        init_fds_ok $init
kill $held; wait $held 2>/dev/null
wait_for 30 no_boxes

# With many boxes live the helper holds many fds; a new box's PID 1 gets none
# of them, and the helper keeps none of a box's once it has ended.
helper_fds() { ls /proc/$(pgrep -x nsbox-helper)/fd | wc -l; }
export -f helper_fds
before=$(helper_fds)
# (user001.. have no home: their ${HOME}/ro is optional here.)
write_policy "$(sed 's|\${HOME}/ro|-${HOME}/ro|' /etc/security/nsbox.conf)"
others=()
for i in $(seq -w 1 20); do
        su user0$i -c 'sleep 60' >/dev/null 2>&1 &
        others+=($!)
done
check attack12/twenty-boxes "twenty other boxes run" \
        wait_for 100 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = 20 ]"
many=$(helper_fds)
su alice -c 'sleep 20' &
held=$!
wait_for 50 box_up alice
init=$(box_field alice pid)
check attack12/init-fds-many "with 20 other boxes (helper at $many fds) PID 1 still holds just as many" \
        init_fds_ok $init
check attack12/init-fds-none-of-helper "and none of them is another of the helper's sockets, pidfds or namespace fds" \
        not bash -c "ls -l /proc/$init/fd | grep -q 'user:\|net:\|mnt:\|anon_inode:\[timerfd\]'"
kill $held "${others[@]}"; wait $held "${others[@]}" 2>/dev/null
wait_for 60 no_boxes
check attack12/helper-fds-back "after they end the helper holds as many fds as before ($before)" \
        wait_for 50 bash -c "[ \$(helper_fds) = $before ]"

# The first process of a box's user namespace is alice's to kill (she owns
# the namespace): killing everything she may, over and over, while her
# boxes are made must fail her logins, never hang the helper for others.
pam_service b-kill
setpriv --reuid alice --regid alice --clear-groups bash -c 'while :; do kill -9 -1; done' >/dev/null 2>&1 &
killer=$!
for i in $(seq 150); do
        timeout 20 pamtester b-kill alice open_session close_session >/dev/null 2>&1
        [ $? = 124 ] && { echo "hung=yes"; break; }
done > $W/out/killrun
kill $killer; wait $killer 2>/dev/null
check attack12/kill-holder-no-hang "no login of alice hung while she killed her boxes' processes" not grep -q hung=yes $W/out/killrun
check attack12/kill-holder-helper-answers "the helper still answers: bob logs in and is boxed" \
        timeout 20 su bob -c 'test -n "$NSBOX_ID"'
wait_for 60 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
