#!/bin/bash
# Attack 21: root runs `nsbox enter BOX --user alice` from its shell on a
# terminal.  What alice's command leaves behind waits for root's shell to
# come back, then pushes a line into it with TIOCSTI, or reads what root
# types next.
#
# Before the fix (ad80b52): the command ran in root's session on root's
# terminal; the line ran as root on the host.  After: it runs in a session
# of its own on a new pseudo-terminal that nsbox relays, so it holds no fd to
# root's terminal, and what it injects lands on its own pty, which is gone.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_all; write_policy
if ! command -v expect > /dev/null; then
        skip attack21 "expect is not installed"
        exit 0
fi
login_run alice "sleep 20" &
held=$!
wait_for 100 box_up alice
id=$(box_field alice id)

# What alice's command does: record what it holds, leave a process behind
# that injects a line into its terminal once root's shell is back.
cat > $W/bin/leave-behind <<'P'
#!/bin/bash
# Its session as the box sees it (0: led from outside the box) and its
# controlling terminal's device number, which is the same in every namespace.
echo "sid=$(awk '{print $6}' /proc/$$/stat)" > /tmp/held
echo "tty=$(awk '{print $7}' /proc/$$/stat)" >> /tmp/held
(
        sleep 2
        $PY -c 'import fcntl, sys, termios
for c in sys.argv[1].encode() + b"\n":
    fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))' "touch PWNED" 2>/dev/null
) < /dev/tty > /dev/null 2>&1 &
P
sed -i "s|\$PY|$PY|; s|PWNED|$W/out/pwned|" $W/bin/leave-behind
chmod 0755 $W/bin/leave-behind
rm -f $W/out/pwned
TERM=dumb expect -f - > $W/out/enter.log 2>&1 <<X
set timeout 20
spawn bash --norc --noprofile
expect "# " ; send "echo roottty=\\\$(awk '{print \\\$7}' /proc/\\\$\\\$/stat)\r"
expect "# " ; send "$NSBOX enter $id --user alice -- $W/bin/leave-behind; echo entered=\\\$?\r"
expect "entered="
expect "# " ; send "sleep 4\r"
expect "# " ; send "echo piped-in | $NSBOX enter $id --user alice -- cat; echo piped=\\\$?\r"
expect "piped="
expect "# " ; send "exit\r"
expect eof
X
cp /proc/$(box_field alice pid)/root/tmp/held $W/out/held 2>/dev/null
roottty=$(sed -n 's/^roottty=\([0-9]*\).*/\1/p' $W/out/enter.log | head -n1)
sid=$(value sid $W/out/held)
tty=$(value tty $W/out/held)
check attack21/entered "the command ran in alice's box" grep -q "entered=0" $W/out/enter.log
check attack21/own-session "alice's command led a session of its own in the box, not root's from outside (sid ${sid:-?})" \
        test -n "$sid" -a "$sid" != 0
check attack21/own-terminal "on a terminal that is not root's (device ${tty:-?}, root's ${roottty:-?})" \
        test -n "$tty" -a -n "$roottty" -a "$tty" != 0 -a "$tty" != "$roottty"
check attack21/no-injection "nothing it left behind ran a line in root's shell" test ! -e $W/out/pwned
check attack21/pipe-stays "a pipe into the command stays a pipe, and its end ends the command" \
        bash -c "grep -q '^piped-in' $W/out/enter.log && grep -q '^piped=0' $W/out/enter.log"
wait $held 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
