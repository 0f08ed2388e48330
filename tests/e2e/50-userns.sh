#!/bin/bash
# Scenario: every box has a user namespace of its own.  Its PID 1 is the
# user on the host with no capability; box root is the user, box ids 1..N
# are the user's subordinate ids.  The session stays in the initial user
# namespace, so the views are locked against the user — even from
# `unshare -r -m` or `nsbox root` — while su, sshd and login keep working.
# no_new_privs and capability_bounding shape what the session can gain.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
base=$(write_policy; cat /etc/security/nsbox.conf)
write_policy "$base
[user:alice]
user_root = yes"

init_of() { box_field $1 pid; }
hold() { su $1 -c 'sleep 60' & wait_for 50 box_up $1; }

# The init from outside: the user's uid, no capability, the maps.
hold alice
held=$!
pid=$(init_of alice)
status=/proc/$pid/status
check userns/init-uid "the box init runs as alice on the host" \
        bash -c "grep -Eq '^Uid:\s+2001\s+2001\s+2001\s+2001' $status"
check userns/init-no-caps "the box init has no capability (CapEff/CapPrm/CapBnd/CapInh/CapAmb 0)" \
        bash -c "for k in CapEff CapPrm CapBnd CapInh CapAmb; do grep -q \"^\$k:\s*0000000000000000\" $status || exit 1; done"
check userns/init-own-userns "the box init is in a user namespace of its own" \
        test "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)"
check userns/uid-map-subuid "alice's uid map: 0 -> 2001, 1.. -> her subuid range" \
        test "$(awk '{print $1,$2,$3}' /proc/$pid/uid_map | tr '\n' ';')" = "0 2001 1;1 200000 65536;"
check userns/gid-map-subgid "alice's gid map: 0 -> 2001, 1.. -> her subgid range" \
        test "$(awk '{print $1,$2,$3}' /proc/$pid/gid_map | tr '\n' ';')" = "0 2001 1;1 300000 65536;"
check userns/setgroups-allow "setgroups is allowed when a subgid range is mapped" test "$(cat /proc/$pid/setgroups)" = allow
check userns/owner "the box's user namespace is owned by alice (so nsbox root needs no setuid)" \
        test "$(python3 -c "import fcntl,os,struct; fd=os.open('/proc/$pid/ns/user',os.O_RDONLY); b=bytearray(4); fcntl.ioctl(fd,0xb704,b); print(struct.unpack('I',b)[0])")" = 2001
# NS_GET_USERNS: which user namespace owns each of the session's namespaces.
for ns in mnt pid uts ipc; do
        check userns/$ns-owned-by-initial "the box's $ns namespace is owned by the initial user namespace, where alice has no capability" \
                python3 -c "
import fcntl, os
fd = os.open('/proc/$pid/ns/$ns', os.O_RDONLY)
owner = fcntl.ioctl(fd, 0xb701)
assert os.fstat(owner).st_ino == os.stat('/proc/1/ns/user').st_ino
assert os.fstat(owner).st_ino != os.stat('/proc/$pid/ns/user').st_ino
"
done
# The session's namespaces are owned by the initial user namespace.
out=$W/out/session
su alice -c 'sleep 1 & p=$!; echo $p; readlink /proc/self/ns/user; wait' > $out
check userns/session-initial-userns "the session stays in the initial user namespace" \
        test "$(sed -n 2p $out)" = "$(readlink /proc/self/ns/user)"
kill $held; wait $held 2>/dev/null
wait_for 30 no_boxes

hold bob
held=$!
pid=$(init_of bob)
check userns/uid-map-plain "bob (no subuid entry) maps only himself" \
        test "$(awk '{print $1,$2,$3}' /proc/$pid/uid_map | tr '\n' ';')" = "0 2002 1;"
check userns/gid-map-plain "bob's gid map holds only his group" \
        test "$(awk '{print $1,$2,$3}' /proc/$pid/gid_map | tr '\n' ';')" = "0 2002 1;"
check userns/setgroups-deny "setgroups is deny without a subgid range" test "$(cat /proc/$pid/setgroups)" = deny
kill $held; wait $held 2>/dev/null
wait_for 30 no_boxes

# With fs.suid_dumpable = 1 the helper's memory could be traced through a
# child sharing it, so the namespace is made by a copied child that became
# alice: the result must be the same box.
dumpable=$(cat /proc/sys/fs/suid_dumpable)
trap 'echo $dumpable > /proc/sys/fs/suid_dumpable' EXIT
echo 1 > /proc/sys/fs/suid_dumpable
hold alice
held=$!
pid=$(init_of alice)
echo $dumpable > /proc/sys/fs/suid_dumpable
trap - EXIT
check userns/dumpable-owner "with fs.suid_dumpable=1, alice's box namespace is still owned by alice" \
        test "$(python3 -c "import fcntl,os,struct; fd=os.open('/proc/$pid/ns/user',os.O_RDONLY); b=bytearray(4); fcntl.ioctl(fd,0xb704,b); print(struct.unpack('I',b)[0])")" = 2001
check userns/dumpable-maps "with fs.suid_dumpable=1, alice's uid map is still 0 -> 2001, 1.. -> her subuids" \
        test "$(awk '{print $1,$2,$3}' /proc/$pid/uid_map | tr '\n' ';')" = "0 2001 1;1 200000 65536;"
check userns/dumpable-restored "fs.suid_dumpable is back as it was" test "$(cat /proc/sys/fs/suid_dumpable)" = "$dumpable"
kill $held; wait $held 2>/dev/null
wait_for 30 no_boxes

# Without a user namespace the box init is simply alice on the host, with
# no capability either.
write_policy "$base
[user:alice]
namespaces = mount pid uts ipc"
hold alice
held=$!
pid=$(init_of alice)
check userns/none-login "a box without a user namespace works" test -n "$pid"
check userns/none-init-uid "its init runs as alice" bash -c "grep -Eq '^Uid:\s+2001\s+2001\s+2001\s+2001' /proc/$pid/status"
check userns/none-init-caps "with no capability and an empty bounding set" \
        bash -c "grep -q '^CapEff:\s*0000000000000000' /proc/$pid/status && grep -q '^CapBnd:\s*0000000000000000' /proc/$pid/status"
check userns/none-same-userns "in the initial user namespace" test "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/self/ns/user)"
kill $held; wait $held 2>/dev/null
wait_for 30 no_boxes
write_policy "$base
[user:alice]
user_root = yes"

# Locked views, from the session.
out=$W/out/locked
su alice -c '
        umount /home 2>/dev/null; echo plain_umount=$?
        unshare -r -m sh -c "umount /home 2>/dev/null; echo nested_umount=\$?; echo nested_homes=\$(ls /home | tr \"\n\" \" \")"
        unshare -r -m sh -c "mount -o remount,bind,rw /srv/ro 2>/dev/null; touch /srv/ro/x 2>/dev/null; echo nested_ro_write=\$?"
        unshare -r -m sh -c "umount /srv/secret 2>/dev/null; cat /srv/secret/data 2>/dev/null; echo nested_secret=\$?"
        unshare -r -m sh -c "umount -l /tmp 2>/dev/null; ls -A /tmp | grep -c world-marker; true" | sed "s/^/nested_tmp_marker=/"
' > $out 2>&1
check locked/umount "alice cannot unmount the tmpfs hiding the homes" test "$(value plain_umount $out)" != 0
check locked/unshare-umount "nor from unshare -r -m" test "$(value nested_umount $out)" != 0
check locked/unshare-homes "other homes stay hidden there" test "$(value nested_homes $out)" = alice
check locked/unshare-ro "a read_only path cannot be made writable there" test "$(value nested_ro_write $out)" != 0
check locked/unshare-inaccessible "an inaccessible path cannot be revealed there" test "$(value nested_secret $out)" != 0
check locked/unshare-tmp "the host's /tmp cannot be uncovered there" test "$(value nested_tmp_marker $out)" = 0

# nsbox root.
out=$W/out/root
su alice -c "
        echo uid=\$($NSBOX root -- id -u)
        $NSBOX root -- sh -c 'mount -t tmpfs none /srv/ro && touch /srv/ro/inside && echo mounted=yes'
        echo session_sees=\$(ls /srv/ro | tr '\n' ' ')
        $NSBOX root -- sh -c 'umount /home 2>/dev/null; echo root_umount=\$?; echo root_homes=\$(ls /home | tr \"\n\" \" \")'
        $NSBOX root -- sh -c 'mount -o remount,bind,rw /srv/ro 2>/dev/null; touch /srv/ro/y 2>/dev/null; echo root_ro_write=\$?'
        sleep 30 & s=\$!
        $NSBOX root -- sh -c \"nsenter --mount=/proc/\$s/ns/mnt mount -t tmpfs none /etc 2>/dev/null; echo root_etc=\\\$?\"
        echo etc_after=\$(test -e /etc/passwd && echo intact)
        kill \$s
" > $out 2>&1
check root/uid0 "nsbox root -- id -u prints 0" test "$(value uid $out)" = 0
check root/mount "nsbox root can mount in its own mount namespace" test "$(value mounted $out)" = yes
check root/mount-invisible "its tmpfs is invisible to the session" test "$(value session_sees $out)" = ""
check root/locked-umount "nsbox root cannot unmount the tmpfs hiding the homes" test "$(value root_umount $out)" != 0
check root/locked-homes "nsbox root sees only alice's home" test "$(value root_homes $out)" = alice
check root/locked-ro "nsbox root cannot make a read_only path writable" test "$(value root_ro_write $out)" != 0
check root/no-session-mounts "nsbox root cannot mount over /etc in the session's mount namespace" \
        test "$(value root_etc $out)" != 0 -a "$(value etc_after $out)" = intact
check root/setuid-safe "su still reads the real /etc: setuid programs stay safe" \
        bash -c "su alice -c 'su -c true carol' </dev/null >/dev/null 2>&1"
check root/audit "nsbox root is logged" grep -q 'event=root box=[0-9a-f]* user=alice uid=2001 service=nsbox-root .*caller_uid=2001' $W/out/syslog

# PID 1 holds nothing worth stealing, and cannot be traced or read, not
# even by box root.
peek='ls /proc/1/fd >/dev/null 2>&1 && echo fd=open || echo fd=denied; cat /proc/1/environ >/dev/null 2>&1 && echo env=open || echo env=denied'
su alice -c "$peek" > $out 2>&1
check root/init-untraceable-session "the session cannot look into PID 1's fds or environment" \
        test "$(value fd $out) $(value env $out)" = "denied denied"
su alice -c "$NSBOX root -- sh -c '$peek'" > $out 2>&1
check root/init-untraceable-root "nor can nsbox root" test "$(value fd $out) $(value env $out)" = "denied denied"

check root/refused-user-root-no "bob (user_root = no) is refused" \
        bash -c "! su bob -c '$NSBOX root -- id -u' >$W/out/r 2>&1 && grep -q 'user_root is not enabled' $W/out/r"
check root/refused-not-in-box "carol, not in a box, is refused" \
        bash -c "! su carol -c '$NSBOX root -- id -u' >$W/out/r 2>&1 && grep -q 'not in a box' $W/out/r"
check root/refused-other-box "carol inside alice's box is refused: not her box" \
        bash -c "su alice -c \"su carol -c '$NSBOX root -- id -u'\" >$W/out/r 2>&1; grep -q 'this box is not yours' $W/out/r"
check root/no-setuid "no binary of the project is setuid" \
        bash -c "! find $B -path $B/vm -prune -o -perm /6000 -type f -print | grep -q ."

# no_new_privs and capability_bounding.
cp /usr/bin/id $W/bin/suid-id
chmod 4755 $W/bin/suid-id
write_policy "$base
[user:alice]
no_new_privs = yes
capability_bounding = cap_net_raw,cap_kill
[user:bob]
capability_bounding = cap_setuid,cap_setgid,cap_net_raw"
out=$W/out/privs
su alice -c "grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status; echo euid=\$($W/bin/suid-id -u)" > $out
check privs/nnp-visible "NoNewPrivs: 1 in the session shell" grep -Eq '^NoNewPrivs:\s+1' $out
check privs/bounding-visible "CapBnd is cap_kill+cap_net_raw (0x2020)" grep -Eq '^CapBnd:\s+0000000000002020' $out
check privs/setuid-gains-nothing "a setuid-root binary runs as alice under no_new_privs" test "$(value euid $out)" = 2001
su carol -c "echo euid=\$($W/bin/suid-id -u)" > $out
check privs/setuid-works-elsewhere "the same binary does gain root without no_new_privs" test "$(value euid $out)" = 0
su bob -c "su root -c 'grep -E \"^Cap(Eff|Bnd)\" /proc/self/status'" > $out 2>&1
check privs/root-via-su-bounded "root reached through su in bob's box holds only setuid, setgid and net_raw (0x20c0)" \
        bash -c "grep -Eq '^CapEff:\s+00000000000020c0' $out && grep -Eq '^CapBnd:\s+00000000000020c0' $out"
check privs/explain "nsbox explain shows the keys" \
        bash -c "$NSBOX explain alice | grep -Eq '^no_new_privs += yes' && $NSBOX explain alice | grep -Eq '^capability_bounding += cap_net_raw,cap_kill'"

# Every real login path completes a login and a logout with all of it on.
write_policy "$base
[default]
user_root = yes
no_new_privs = yes
capability_bounding = cap_net_raw"
out=$W/out/all
su alice -c "$W/bin/probe" > $out
check all-on/su "su logs in and out" test "$(value init_comm $out)$(value uid $out)" = nsbox-init2001
runuser -u alice -- $W/bin/probe > $out
check all-on/runuser "runuser logs in and out" test "$(value init_comm $out)" = nsbox-init
login_run alice "$W/bin/probe > /home/alice/probe.login"
check all-on/login "login logs in and out" test "$(value init_comm /home/alice/probe.login)" = nsbox-init
if [ $have_sshd = yes ]; then
        ssh_to alice -tt "$W/bin/probe" 2>/dev/null | tr -d '\r' > $out
        check all-on/ssh-pty "ssh with a pty logs in and out" test "$(value init_comm $out)" = nsbox-init
        ssh_to alice "$NSBOX root -- id -u" > $out 2>&1
        check all-on/ssh-root "nsbox root works from an ssh session" test "$(cat $out)" = 0
else
        skip all-on/ssh "sshd could not be started"
fi
check all-on/teardown "every box ended" wait_for 40 no_boxes
check all-on/no-init "no init remains" wait_for 30 no_init

# The last check decides nothing about the exit status; a death before here does.
exit 0
