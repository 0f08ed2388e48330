#!/bin/bash
# Attack 3: a directory on the way to an admin path is writable by alice,
# so she could swap what gets mounted into bob's box.  The module refuses
# it and says why; bob's view never shows alice's content.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
mkdir -p /srv/shared/data && echo admin > /srv/shared/data/file
chmod 0777 /srv/shared
write_policy "[default]
bind = /srv/shared/data:/srv/dst:ro"
# alice swaps the admin's data for her own
mv /srv/shared/data /srv/shared/orig
setpriv --reuid alice --regid alice --clear-groups sh -c 'mkdir /srv/shared/data && echo alice-owned > /srv/shared/data/file'
su bob -c 'cat /srv/dst/file' > $W/out/bob 2>&1
rc=$?
check attack3/refused "bob's login is refused rather than shown alice's content (status $rc)" test $rc = 1
check attack3/not-shown "alice's content never reached bob's box" not grep -q alice-owned $W/out/bob
check attack3/says-why "the log says which component is writable" \
        grep -q 'event=denied user=bob .*step=bind object=/srv/shared (on the way to /srv/shared/data) is writable by group or others' $W/out/syslog
chmod 0755 /srv/shared
check attack3/root-owned-ok "with the component closed again, the (root's) path works" \
        bash -c "chown -R root: /srv/shared && su bob -c 'cat /srv/dst/file' | grep -q alice-owned"
check attack3/config-dir "a group-writable nsbox.d is refused too" \
        bash -c "chmod 0775 /etc/security/nsbox.d && ! $NSBOX check >/dev/null 2>&1; r=\$?; chmod 0755 /etc/security/nsbox.d; exit \$r"

# The last check decides nothing about the exit status; a death before here does.
exit 0
