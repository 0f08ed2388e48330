#!/bin/bash
# Attack 8: alice gains CAP_SYS_ADMIN over a mount namespace (nsbox root,
# unshare -r) and mounts over /etc, then runs su in her session.  Her
# mounts stay in her own namespace; su reads the real /etc.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy "$(write_policy; cat /etc/security/nsbox.conf)
[user:alice]
user_root = yes"
mkdir -p $W/fake && echo 'root::0:0:root:/root:/bin/bash' > $W/fake/passwd
echo 'root::19000:0:99999:7:::' > $W/fake/shadow
# su authenticates for real here: root needs nothing, anyone else a
# password, and an empty one would do -- if alice could show su a shadow
# file of her own.
sed -i 's/^auth *required *pam_permit.so/auth     required   pam_unix.so nullok/' /etc/pam.d/su
out=$W/out/attack8
su alice -c "
        unshare -r -m sh -c 'mount --bind $W/fake/shadow /etc/shadow && echo mounted-in-own-ns'
        $NSBOX root -- sh -c 'mount --bind $W/fake/shadow /etc/shadow && echo mounted-as-box-root'
        grep -c '^root::' /etc/shadow 2>/dev/null || echo shadow-unreadable
        su -c 'id -u' root </dev/null 2>/dev/null && echo BECAME-ROOT || echo su-refused
" > $out 2>&1
check attack8/own-ns "alice could mount only in namespaces of her own" grep -q mounted-in-own-ns $out
check attack8/box-root "and as box root" grep -q mounted-as-box-root $out
check attack8/session-etc "her session still has the real /etc/shadow" grep -qx shadow-unreadable $out
check attack8/no-root "su did not make her root" bash -c "grep -q su-refused $out && ! grep -q BECAME-ROOT $out"

# The last check decides nothing about the exit status; a death before here does.
exit 0
