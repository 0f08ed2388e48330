#!/bin/bash
# Attack 12: alice ptraces her box's PID 1 or the helper.  Neither is
# dumpable while it matters; PID 1 holds no privilege.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
su alice -c 'sleep 20' &
held=$!
wait_for 50 bash -c "$NSBOX list --json | grep -q alice"
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
check attack12/init-fds "PID 1 holds only its link to the helper and its signalfd" \
        test "$(ls /proc/$init/fd | wc -l)" -le 5
kill $held; wait $held 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
