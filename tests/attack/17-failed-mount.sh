#!/bin/bash
# Attack 17: a mount fails (a missing source, a full /run).  The login is
# denied, nothing is left half built, and the host sees no change.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
mounts=$(wc -l < /proc/self/mountinfo)
printf '[default]\nbind = /srv/gone:/srv/dst\n' > /etc/security/nsbox.d/50-x.conf
chmod 0644 /etc/security/nsbox.d/50-x.conf
check attack17/missing-source "a missing bind source denies the login" not su alice -c true
check attack17/logged "with a log line" grep -q 'event=denied user=alice .*step=bind object=/srv/gone' $W/out/syslog
check attack17/nothing "nothing half built" bash -c "[ \$(wc -l < /proc/self/mountinfo) = $mounts ]"
check attack17/no-init "no init left" wait_for 20 no_init
rm /etc/security/nsbox.d/50-x.conf
# A full /run: the helper cannot make its socket; the login is refused with
# a log line, root still gets in.
pkill -x nsbox-helper; wait_for 20 bash -c '! pgrep -x nsbox-helper >/dev/null'
rm -rf /run/nsbox && mkdir /run/nsbox
mount -t tmpfs -o size=4k,nr_inodes=2,mode=0755 full /run/nsbox
check attack17/full-run "with /run full the login is refused" not su alice -c true
check attack17/full-run-logged "with a log line" grep -q 'event=denied user=alice .*step=helper' $W/out/syslog
check attack17/full-run-root "root still gets in" su root -c true
umount /run/nsbox
check attack17/recovers "with room again, logins work" su alice -c true

# The last check decides nothing about the exit status; a death before here does.
exit 0
