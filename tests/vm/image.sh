#!/bin/bash
# Build (or reuse) a bootable Debian disk image for the VM tier.
#
#   tests/vm/image.sh RELEASE        (bookworm or trixie; as root)
#
# Prints the image's directory, which holds:
#   disk.raw      ext4 root file system (sparse), never written by a test run:
#                 each boot gets a qcow2 overlay
#   vmlinuz, initrd.img   Debian's own kernel and initramfs, booted directly
#   root/         the same tree, for building the .deb natively (chroot)
#   id_ed25519    the key root's authorized_keys holds
#
# The image is cached by content: its directory is named after a hash of
# this script and the release, so it is rebuilt only when they change.
# It is made with debootstrap and apt from Debian's mirror, like a fresh
# install: systemd as PID 1, udev, logind with pam_systemd, dbus-user-session,
# openssh-server, sudo, Debian's kernel, and what building and running the
# package needs.  Nothing is mounted on the machine: the chroot steps run in
# a private mount namespace.
set -euo pipefail
release=${1:?usage: image.sh bookworm|trixie}
case $release in bookworm | trixie) ;; *) echo "image.sh: unknown release $release" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
cache=$(realpath -m "${NSBOX_VM_CACHE:-$here/../../build/vm}")
mirror=${NSBOX_VM_MIRROR:-http://deb.debian.org/debian}
security=${NSBOX_VM_SECURITY:-http://deb.debian.org/debian-security}

# What the image holds.  Build dependencies are in it too: the .deb is built
# in this tree, as an admin would build it on the machine.
packages="systemd systemd-sysv udev dbus dbus-user-session libpam-systemd libnss-systemd
        openssh-server sudo linux-image-amd64 initramfs-tools kmod iproute2 nftables procps
        less psmisc iputils-ping ca-certificates
        build-essential debhelper fakeroot pkg-config libpam0g-dev libcap-dev libiniparser-dev
        libmnl-dev libnftables-dev libnftnl-dev libsystemd-dev libjson-c-dev"
# What a fresh install of the release has beside them, where it matters:
# Debian 13's ping relies on the ping_group_range that linux-sysctl-defaults
# sets (Debian 12's has a file capability).
case $release in trixie) packages="$packages linux-sysctl-defaults" ;; esac

key=$( { cat "$0"; echo "$release $mirror $security"; } | sha256sum | cut -c1-16)
dir=$cache/$release-$key
if [ -f "$dir/done" ]; then
        echo "$dir"
        exit 0
fi
mkdir -p "$cache"
# Older images of this release go: only the current one is kept.
rm -rf "$cache/$release"-*/ "$dir.tmp"
mkdir -p "$dir.tmp"
root=$dir.tmp/root
log=$dir.tmp/build.log
trap 'echo "image.sh: building the $release image failed; the last lines of $log:" >&2; tail -n 25 "$log" >&2' ERR

echo "== building the $release image in $dir (debootstrap from $mirror)" >&2
debootstrap --variant=minbase --include=ca-certificates "$release" "$root" "$mirror" > "$log" 2>&1

cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror $release main
deb $mirror $release-updates main
deb $security $release-security main
SRC
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# The guest's kernel is booted directly (qemu -kernel): no boot loader.
cat > "$root/etc/kernel-img.conf" <<'CONF'
do_symlinks = yes
CONF

in_root() {
        unshare --mount --propagation private -- /bin/sh -ec '
                root=$1; shift
                mount --rbind /dev "$root/dev"
                mount -t proc proc "$root/proc"
                mount -t sysfs sys "$root/sys"
                mount -t tmpfs tmp "$root/tmp"
                exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"
        ' sh "$root" "$@"
}
in_root apt-get update >> "$log" 2>&1
in_root apt-get -y upgrade >> "$log" 2>&1
# shellcheck disable=SC2086
in_root apt-get install -y --no-install-recommends $packages >> "$log" 2>&1
in_root apt-get clean >> "$log" 2>&1
rm -f "$root/usr/sbin/policy-rc.d"

# A fresh install's configuration, for a VM on qemu's user network.
echo "nsbox-$release" > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 nsbox-%s\n::1 localhost ip6-localhost ip6-loopback\n' "$release" > "$root/etc/hosts"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$root/etc/fstab"
echo "nameserver 10.0.2.3" > "$root/etc/resolv.conf"
# IPv4 by hand; IPv6 by the kernel from qemu's router advertisements, as on
# hosts where nothing but the kernel takes them.
cat > "$root/etc/systemd/system/vm-net.service" <<'UNIT'
[Unit]
Description=qemu user network (static IPv4; IPv6 from router advertisements)
Before=network-online.target ssh.service
Wants=network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ip link set lo up
ExecStart=/usr/sbin/ip link set eth0 up
ExecStart=/usr/sbin/ip addr add 10.0.2.15/24 dev eth0
ExecStart=/usr/sbin/ip route add default via 10.0.2.2
[Install]
WantedBy=multi-user.target
UNIT
in_root systemctl enable vm-net.service serial-getty@ttyS1.service >> "$log" 2>&1
# Timers that would only slow a short-lived test machine down.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
        fstrim.timer systemd-tmpfiles-clean.timer >> "$log" 2>&1 || true
mkdir -p "$root/root/.ssh"
ssh-keygen -q -t ed25519 -N '' -C "nsbox-vm" -f "$dir.tmp/id_ed25519"
install -m 0600 "$dir.tmp/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
chmod 0700 "$root/root/.ssh"
# Root's password is for the serial console only (the VM's ports are on
# 127.0.0.1 alone); sshd takes root's key, never a password.
echo 'root:nsbox-vm' | in_root chpasswd
# No machine id: systemd makes one at first boot, as on a real install.
: > "$root/etc/machine-id"

cp "$(readlink -f "$root/vmlinuz")" "$dir.tmp/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$dir.tmp/initrd.img"
mkfs.ext4 -q -F -L root -E root_owner=0:0 -d "$root" "$dir.tmp/disk.raw" 6G >> "$log" 2>&1
du -sh "$root" | cut -f1 > "$dir.tmp/size"
mv "$dir.tmp" "$dir"
touch "$dir/done"
trap - ERR
echo "$dir"
