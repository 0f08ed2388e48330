#!/bin/bash
# Attack 4: names and homes from NSS with '/', '..', ',', control
# characters, 300 characters.  Refused cleanly; never spliced into a path.
# (The full list runs in tests/e2e/35-hostile-policies.sh.)
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
cat >> /etc/passwd <<P
evil..:x:3101:3101::/home/../etc:/bin/bash
$(printf 'x%.0s' $(seq 300)):x:3102:3102::/home/long:/bin/bash
P
echo "g3101:x:3101:" >> /etc/group
echo "g3102:x:3102:" >> /etc/group
su 'evil..' -c true 2>/dev/null
check attack4/dotdot-home "a home with '..' is refused (status $?)" test $? = 1
su "$(printf 'x%.0s' $(seq 300))" -c true 2>/dev/null
check attack4/long-name "a 300-character name is refused" test $? = 1
log_sync
check attack4/logged "each with a clean log line" test "$(grep -c 'event=denied .*step=identity' $W/out/syslog)" = 2
check attack4/etc-unmounted "/etc was not touched" bash -c "! grep -q ' /etc ' /proc/self/mountinfo"

# The last check decides nothing about the exit status; a death before here does.
exit 0
