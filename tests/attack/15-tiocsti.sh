#!/bin/bash
# Attack 15: keystrokes injected into a terminal outside the box.  Nothing
# of the box holds the login's controlling terminal: PID 1 has no terminal
# and no fd to one.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_all; write_policy
login_run alice "sleep 3" &
held=$!
wait_for 50 box_up alice
init=$(box_field alice pid)
check attack15/no-ctty "PID 1 has no controlling terminal" test "$(awk '{print $7}' /proc/$init/stat)" = 0
check attack15/no-tty-fd "and no fd to a terminal" bash -c "! ls -l /proc/$init/fd | grep -q '/dev/\(pts\|tty\)'"
check attack15/own-session "PID 1 leads a session of its own" test "$(awk '{print $6}' /proc/$init/stat)" = "$init"
wait $held 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
