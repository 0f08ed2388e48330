#!/bin/bash
# Attack 24: the admin binds /srv/scratch/${USER} to ~/scratch, and
# /srv/scratch is root's, mode 1777.  Bob makes /srv/scratch/alice first,
# with a file of his in it, before alice's first login.
#
# Before the fix (ad80b52): only the source's ancestors were checked, and a
# root-owned sticky directory passes: alice's ~/scratch was bob's directory,
# and `nsbox check` called the policy valid.  After: in a directory others
# may write, a source owned by someone other than root and the user is left
# out, with a log line naming it (alice's login goes on, without it), and
# `nsbox check` warns about such directories.  The same check covers every
# bind source.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
mkdir -p -m 1777 /srv/scratch
mkdir -p -m 0755 /home/alice/scratch /home/bob/scratch
chown alice: /home/alice/scratch
chown bob: /home/bob/scratch
write_policy '[default]
namespaces = mount pid uts ipc
bind = /srv/scratch/${USER}:${HOME}/scratch'

setpriv --reuid=bob --regid=bob --clear-groups -- bash -c 'mkdir /srv/scratch/alice && echo planted-by-bob > /srv/scratch/alice/note && chmod 0777 /srv/scratch/alice'
# bob's own is made by root for him, as the admin should.
mkdir -m 0700 /srv/scratch/bob && chown bob: /srv/scratch/bob && echo bobs-own > /srv/scratch/bob/mine

out=$(su alice -c 'echo "id=$NSBOX_ID"; echo "note=$(cat ~/scratch/note 2>/dev/null || echo none)"' 2>&1)
check attack24/boxed "alice's login goes on" test -n "$(echo "$out" | sed -n 's/^id=\([0-9a-f]\{8\}\)$/\1/p')"
check attack24/not-bobs "alice's ~/scratch is not bob's planted directory" test "$(echo "$out" | sed -n 's/^note=//p')" = none
check attack24/logged "the log names what was left out and why" \
        grep -q 'event=bind-skipped user=alice path=/srv/scratch/alice: it is owned by uid 2002' $W/out/syslog
out=$(su bob -c 'cat ~/scratch/mine' 2>&1)
check attack24/own-kept "bob's own source, made by root for him, is bound" test "$out" = bobs-own
check attack24/check-warns "nsbox check warns that /srv/scratch is writable by others" \
        bash -c "$NSBOX check 2>&1 | grep -q 'bind: the source /srv/scratch/\${USER} lies in /srv/scratch, which others may write'"

# The last check decides nothing about the exit status; a death before here does.
exit 0
