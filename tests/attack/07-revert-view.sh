#!/bin/bash
# Attack 7: from her session, alice tries to undo the views: unmount the
# tmpfs hiding the homes, make a read-only path writable, add suid or dev
# to her private /tmp — also from a nested unshare -r -m.  All fail.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
out=$W/out/revert
su alice -c '
        umount /home 2>/dev/null && echo UNMOUNTED
        mount -o remount,rw /srv/ro 2>/dev/null && echo REMOUNTED
        unshare -r -m sh -c "umount /home 2>/dev/null && echo NESTED-UNMOUNTED
                mount -o remount,bind,rw /srv/ro 2>/dev/null && echo NESTED-REMOUNTED
                mount -o remount,bind,suid,dev /tmp 2>/dev/null && echo NESTED-SUID
                ls /home"
' > $out 2>&1
check attack7/nothing-reverted "no view could be undone ($(tr '\n' ' ' < $out))" not grep -q 'UNMOUNTED\|REMOUNTED\|SUID' $out
check attack7/homes-hidden "other homes stayed hidden even in the nested namespace" grep -qx alice $out

# The last check decides nothing about the exit status; a death before here does.
exit 0
