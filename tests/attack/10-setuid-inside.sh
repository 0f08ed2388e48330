#!/bin/bash
# Attack 10: alice makes setuid files inside her user namespace (nsbox root)
# or her private tmpfs, then runs them from her session.  Private mounts are
# nosuid,nodev; only her own ids are mapped.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy "$(write_policy; cat /etc/security/nsbox.conf)
[user:alice]
user_root = yes"
out=$W/out/attack10
su alice -c "
        $NSBOX root -- sh -c 'cp /usr/bin/id /tmp/rootid && chown 0:0 /tmp/rootid && chmod 6755 /tmp/rootid && echo made'
        stat -c '%u %a' /tmp/rootid
        /tmp/rootid -u
        awk '\$5 ~ /^\/(tmp|var\/tmp|dev\/shm)\$/ { top[\$5] = \$6 } END { for (m in top) print m, top[m] }' /proc/self/mountinfo | grep -vc nosuid
" > $out 2>&1
check attack10/made "box root could make a setuid file" grep -q made $out
check attack10/owner "it belongs to alice on the host (box root maps to her)" grep -q '^2001 6755' $out
check attack10/no-gain "running it gives alice nothing" grep -qx 2001 $out
check attack10/nosuid "every private tmpfs is nosuid" grep -qx 0 <(tail -n 1 $out)

# The last check decides nothing about the exit status; a death before here does.
exit 0
