#!/bin/bash
# Attack 2: alice puts a FIFO where the policy expects a directory (her
# read_only path), and a socket where a bind target is.  No hang (every
# open is O_PATH), no wrong mount: the login is refused with a log line.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
rm -rf /home/alice/ro && mkfifo /home/alice/ro && chown alice: /home/alice/ro
write_policy "$(write_policy; cat /etc/security/nsbox.conf)
[user:alice]
bind = /srv/src:\${HOME}/target"
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('/home/alice/target')"
chown alice: /home/alice/target
start=$(date +%s)
timeout 20 su alice -c true 2>/dev/null
rc=$?
check attack2/no-hang "the login did not hang on a FIFO (status $rc)" test $rc != 124
check attack2/refused "a socket as bind target for a directory is refused" test $rc = 1
check attack2/logged "with a log line naming it" grep -q 'event=denied user=alice .*step=bind object=/home/alice/target: Not a directory' $W/out/syslog
rm -f /home/alice/target
write_policy
out=$(timeout 20 su alice -c 'test -p ~/ro && echo fifo; grep " /home/alice/ro " /proc/self/mountinfo | grep -c " ro,"' 2>/dev/null)
check attack2/fifo-read-only "a FIFO as read_only path is mounted over read-only, without hanging ($out)" \
        test "$(echo $out)" = "fifo 1"
check attack2/clean "nothing was left" wait_for 30 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
