#!/bin/bash
# Attack 6: alice plants links to /etc/shadow where the module works.  The
# module never chowns or chmods existing entries by path.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
before=$(stat -c '%u:%g %a' /etc/shadow /etc/passwd)
for p in /home/alice/ro/shadow /home/alice/shadow /tmp/shadow /tmp/.X11-unix/shadow; do
        ln -sf /etc/shadow $p 2>/dev/null
done
chown -h alice: /home/alice/shadow /tmp/shadow 2>/dev/null
su alice -c true
check attack6/login "the login works" test $? = 0
check attack6/shadow "/etc/shadow and /etc/passwd keep their owner and mode" test "$(stat -c '%u:%g %a' /etc/shadow /etc/passwd)" = "$before"
check attack6/not-readable "and alice cannot read /etc/shadow through a planted link" \
        not su alice -c 'cat /home/alice/shadow'

# The last check decides nothing about the exit status; a death before here does.
exit 0
