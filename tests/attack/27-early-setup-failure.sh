#!/bin/bash
# Attack 27: a box whose setup fails early, before its bind sources are
# opened: four binds and a tmp_keep path that is missing (a user may
# remove what a tmp_keep names).
#
# Before the fix (ad80b52): nsbox-init kept each bind's index where its
# source fd would go, and the cleanup closed those indices as fds: 0 to 3,
# and 3 is its link to the helper, so the reason for the failure was lost
# ("init exited").  After: the denial names the step and the path.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
mkdir -p /srv/b0 /srv/b1 /srv/b2 /srv/b3
write_policy '[default]
namespaces = mount pid uts ipc
private_tmp = yes
tmp_keep = /tmp/alice-keep
bind = /srv/b0:/srv/b0 /srv/b1:/srv/b1 /srv/b2:/srv/b2 /srv/b3:/srv/b3'
rm -rf /tmp/alice-keep
out=$(su alice -c true 2>&1)
check attack27/denied "the login is denied" grep -q 'cannot open session' <<< "$out"
check attack27/reason "the denial names the step and the path" \
        grep -q 'event=denied user=alice .*step=tmp_keep object=/tmp/alice-keep' $W/out/syslog
check attack27/clean "and nothing is left" wait_for 50 no_init

# The last check decides nothing about the exit status; a death before here does.
exit 0
