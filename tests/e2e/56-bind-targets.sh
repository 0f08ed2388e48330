#!/bin/bash
# Scenario: a bind's target that does not exist is made, as systemd makes
# BindPaths= targets: below the user's home as the user, elsewhere as root
# (where every directory on the way is root's); only its last component;
# an empty file for a file.  What the user put in its place is not
# followed.  A missing source, also below a missing directory, is named in
# full in the denial, and ignored when written with a leading '-'.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
mkdir -p /srv/scratch/alice /srv/files
chown alice: /srv/scratch/alice
echo data > /srv/files/f
write_policy "[global]
exempt_users = root
[default]
namespaces = mount pid
hide_homes = yes
bind = /srv/scratch/\${USER}:\${HOME}/scratch /srv/files:/srv/made /srv/files/f:\${HOME}/file.txt
[user:bob]
bind = /srv/scratch/\${USER}:\${HOME}/scratch
[user:carol]
bind = -/srv/nothing/\${USER}:\${HOME}/x
[user:dave]
bind = /srv/nothing/\${USER}:/srv/made"

rm -rf /home/alice/scratch /home/alice/file.txt /srv/made
out=$(su alice -c 'ls -d ~/scratch && touch ~/scratch/w && cat ~/file.txt && ls /srv/made' 2>&1)
check bindtgt/made-in-home "alice's missing bind targets are made and bound: $out" \
        bash -c "grep -qx /home/alice/scratch <<< '$out' && grep -qx data <<< '$out' && grep -qx f <<< '$out'"
check bindtgt/home-as-user "the ones in her home are hers (made as her, never by root)" \
        bash -c "[ \$(stat -c %U /home/alice/scratch) = alice ] && [ \$(stat -c %U /home/alice/file.txt) = alice ] &&
                 [ -d /home/alice/scratch ] && [ -f /home/alice/file.txt ] && [ -e /srv/scratch/alice/w ]"
check bindtgt/outside-as-root "one outside her home is made by root" bash -c "[ \$(stat -c %U /srv/made) = root ]"

# bob plants a symlink where his target goes: it is not followed.
rm -rf /home/bob/scratch
mkdir -p /srv/scratch/bob
ln -s /etc /home/bob/scratch
chown -h bob: /home/bob/scratch
su bob -c true 2>/dev/null
check bindtgt/symlink-refused "a symlink in the target's place is refused, and named" \
        grep -q 'event=denied user=bob .*step=bind object=/home/bob/scratch: Too many levels of symbolic links' $W/out/syslog
check bindtgt/symlink-untouched "and nothing was made through it" test ! -e /etc/scratch
rm -f /home/bob/scratch

out=$(su carol -c 'echo in' 2>&1)
check bindtgt/optional-missing-parent "an optional source whose directory is missing too is ignored: $out" test "$out" = in
su dave -c true 2>/dev/null
check bindtgt/full-path "a missing source is named in full in the denial, not by its first missing directory" \
        grep -q 'event=denied user=dave .*step=bind object=/srv/nothing/dave: No such file or directory' $W/out/syslog
exit 0
