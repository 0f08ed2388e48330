#!/bin/bash
# The Debian packages each target needs, in one place.
#
#   tests/deps.sh --list GROUP...     print them
#   tests/deps.sh GROUP...            install the missing ones (as root, with apt)
#
# Groups: build (make), check (make check), demo (make demo), fuzz (make fuzz),
# lint (make lint: clang and cppcheck),
# desktop (the LightDM scenario of make check), vm (the VM tier: make check-vm,
# and the end of make check).  make check does not install
# the desktop group by itself: on a machine with systemd, installing LightDM
# makes it the display manager at the next boot.  .ci/run installs it.
set -eu
declare -A pkgs=(
        [build]="gcc make libc6-dev pkg-config libpam0g-dev libcap-dev libiniparser-dev libmnl-dev libnftables-dev libnftnl-dev
                 libsystemd-dev libjson-c-dev"
        [check]="libcmocka-dev pamtester openssh-server openssh-client expect valgrind login passwd util-linux procps
                 iproute2 nftables python3 groff-base mandoc man-db debhelper dpkg-dev"
        [demo]="openssh-server openssh-client util-linux procps iproute2 nftables"
        [fuzz]="clang libclang-rt-14-dev"
        [lint]="clang cppcheck"
        [desktop]="lightdm xvfb x11-utils dbus dbus-x11"
        [vm]="qemu-system-x86 qemu-utils debootstrap e2fsprogs openssh-client python3 util-linux git"
)
list=no
[ "${1:-}" = --list ] && { list=yes; shift; }
want=()
for g in "$@"; do
        [ -n "${pkgs[$g]:-}" ] || { echo "deps.sh: unknown group '$g'" >&2; exit 2; }
        want+=(${pkgs[$g]})
        [ $g = build ] || want+=(${pkgs[build]})
done
want=($(printf '%s\n' "${want[@]}" | sort -u))
if [ $list = yes ]; then
        echo "${want[@]}"
        exit 0
fi
missing=()
for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "deps.sh: missing Debian packages (install them as root): ${missing[*]}" >&2
        exit 0  # the build or the tests then say what they lack
fi
echo "== installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
