#!/bin/bash
# Inside the fresh namespaces: build the world, then exec the command.
set -eu
REPO=$NSBOX_REPO
cd /
W=/run/world

# /run first (the world's state and the helper's /run/nsbox), then the build
# tree at a path whose ancestors are all root-owned: the module trusts only
# such a helper.
mount -t tmpfs -o mode=0755 world-run /run
mkdir -p $W/src $W/build $W/bin $W/etc $W/out /run/sshd
# The source tree may live under /tmp, which the world covers: keep it
# reachable (read-only) at a fixed place, and run from there.
mount --bind "$REPO" $W/src
mount -o remount,bind,ro $W/src
mount --bind "$REPO/$NSBOX_BUILD" $W/build
mount -o remount,bind,ro $W/build
export NSBOX_REPO=$W/src
cd $W/src
mount -t tmpfs -o mode=1777 world-tmp /tmp
mount -t tmpfs -o mode=1777 world-vartmp /var/tmp
mount -t tmpfs -o mode=0755 world-home /home
mount -t tmpfs -o mode=0755 world-srv /srv

# A private /dev: the host's device nodes, a new devpts instance, and a
# /dev/log of our own so that syslog lines can be checked.
mkdir -p $W/hostdev
mount --bind /dev $W/hostdev
mount -t tmpfs -o mode=0755,nosuid world-dev /dev
for n in null zero full random urandom tty; do
        touch /dev/$n
        mount --bind $W/hostdev/$n /dev/$n
done
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 world-shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
ln -s /proc/self/fd /dev/fd
umount -l $W/hostdev
"$W/build/tests/logsink" /dev/log $W/out/syslog &

# Users: alice and bob are boxed, carol is exempt through the admins group,
# dave has no home, erin's home is outside /home.  Shadow entries are "*": no password, not locked.
cat > $W/etc/passwd <<'P'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
alice:x:2001:2001:Alice:/home/alice:/bin/bash
bob:x:2002:2002:Bob:/home/bob:/bin/bash
carol:x:2003:2003:Carol:/home/carol:/bin/bash
dave:x:2004:2004:Dave:/home/dave:/bin/bash
erin:x:2005:2005:Erin:/srv/erin:/bin/bash
P
cat > $W/etc/group <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
alice:x:2001:
bob:x:2002:
carol:x:2003:
dave:x:2004:
erin:x:2005:
boxed:x:2100:alice,bob
admins:x:2101:carol
G
# Two hundred more, for the stress scenarios (no homes: they need none).
for i in $(seq -w 1 200); do
        echo "user$i:x:$((4000 + 10#$i)):2100::/home/user$i:/bin/bash" >> $W/etc/passwd
done
cut -d: -f1 $W/etc/passwd | sed 's/$/:*:19000:0:99999:7:::/' > $W/etc/shadow
cut -d: -f1 $W/etc/group | sed 's/$/:*::/' > $W/etc/gshadow
chmod 0640 $W/etc/shadow $W/etc/gshadow
# alice has subordinate ids, bob has none.
echo "alice:200000:65536" > $W/etc/subuid
echo "alice:300000:65536" > $W/etc/subgid
for f in passwd group shadow gshadow subuid subgid; do
        [ -e /etc/$f ] || continue      # bind only over what exists: never create files in /etc
        mount --bind $W/etc/$f /etc/$f
done

for u in alice bob carol; do
        uid=$(id -u $u)
        mkdir -p /home/$u/.ssh
        chown -R $uid:$uid /home/$u
        chmod 0755 /home/$u
done

# The test PAM services, and /etc/security with the policy.
mkdir -p $W/pam.d $W/security/nsbox.d
cp -a /etc/security/. $W/security/ 2>/dev/null || true
mount --bind $W/pam.d /etc/pam.d
mount --bind $W/security /etc/security
rm -f /etc/security/nsbox.conf /etc/security/nsbox.d/*

ip link set lo up
hostname world

export NSBOX_WORLD=$W
if [ "${NSBOX_SANITIZE:-}" != 1 ]; then
        exec "$@"
fi

# Sanitizer run (see the Makefile for what is built how): reports go to
# files, and any file is a failure.
chmod 1777 $W/out      # a box's init reports as its user
export ASAN_OPTIONS=log_path=$W/out/asan:detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=log_path=$W/out/ubsan:print_stacktrace=1:halt_on_error=1
"$@"
rc=$?
for f in $W/out/asan*.[0-9]* $W/out/ubsan*.[0-9]*; do
        [ -e "$f" ] || continue
        echo "FAIL sanitizer/$(basename $f): $(grep -m1 -E 'ERROR|runtime error' $f)"
        sed 's/^/   /' $f | head -30
done
exit $rc
