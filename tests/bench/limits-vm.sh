#!/bin/bash
# make bench, the limits: on a booted Debian machine of the VM tier
# (systemd, logind, cgroup v2; qemu with TCG), with the .deb installed as
# the README says, side by side in one run, twice:
#
#   login   a login that makes a box with limits against one that makes a
#           box without (su from root's session: the box's scope is
#           started, and the login moved into it, before its shell runs);
#   join    a login joining a live share = user box, with limits and
#           without;
#   share   two boxes of equal cpu_weight, each with two busy loops on the
#           machine's two CPUs: the CPU time of one against the other's;
#   quota   a box with cpu_max = 50% and two busy loops: its CPU time
#           against half the wall time.
#
# Each ratio is printed against its target, with the range over the two
# runs.  Times under TCG are slow in themselves; the ratios are what holds.
# Without what the VM tier needs, it says SKIP and why.
set -u
source "$(cd "$(dirname "$0")/../vm" && pwd)/lib.sh"
REL=${BENCH_VM_RELEASE:-bookworm}
N=${BENCH_VM_N:-15}
SECS=${BENCH_VM_SECONDS:-20}

echo; echo "== limits, on a booted Debian ($REL) machine, N=$N logins a row, $SECS s a CPU row"
for t in qemu-system-x86_64 qemu-img debootstrap ssh python3; do
        command -v $t > /dev/null || { echo "   SKIP: $t is not installed (tests/deps.sh vm)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "   SKIP: the VM tier needs root"; exit 0; }
work=$(mktemp -d /tmp/nsbox-bench-vm.XXXXXX)
trap 'vm_stop; rm -rf "$work"' EXIT
if ! img=$("$VM_HERE/image.sh" "$REL" 2> "$work/image.log"); then
        echo "   SKIP: no $REL image: $(tail -n 2 "$work/image.log" | tr '\n' ' ')"
        exit 0
fi
vm_start "$img" "$work" || { echo "   SKIP: the image did not boot: $VM_BOOT_ERROR"; exit 0; }
build_deb "$img/root" "$work/deb" || { echo "   SKIP: the .deb did not build"; exit 0; }
vm_wait || { echo "   SKIP: the image did not boot: $VM_BOOT_ERROR"; exit 0; }
deb=$(ls "$work"/deb/libpam-nsbox_*.deb)
scp "${SSH_OPTS[@]}" -i "$VM_KEY" -P $VM_PORT "$deb" root@127.0.0.1:/root/ > /dev/null
vm "DEBIAN_FRONTEND=noninteractive apt-get install -y /root/$(basename "$deb") > /root/apt.log 2>&1 &&
    pam-auth-update --enable nsbox && for u in alice bob carol dave erin frank gina; do useradd -m \$u; done
    cat > /etc/security/nsbox.conf <<P
[default]
namespaces = mount pid uts ipc
private_tmp = yes
[user:bob]
tasks_max = 200
memory_max = 512M
cpu_weight = 100
[user:carol]
share = user
linger = 600
tasks_max = 200
memory_max = 512M
[user:dave]
share = user
linger = 600
[user:erin]
share = user
cpu_weight = 100
[user:frank]
share = user
cpu_weight = 100
[user:gina]
share = user
cpu_max = 50%
P
    chmod 0644 /etc/security/nsbox.conf; nsbox check > /dev/null" > /dev/null 2>&1 ||
        { echo "   SKIP: the package did not install"; exit 0; }

# logins A B: N su logins of each, interleaved; prints "ms-of-A ms-of-B"
# per pair, timed on the machine.
logins() {
        vm "for i in \$(seq $N); do
                for u in $1 $2; do
                        t=\$(date +%s%N); su \$u -c true; echo \$(( (\$(date +%s%N) - t) / 1000 ))
                done | paste -sd' '
            done"
}
median_ratio() {        # the median of column 1 over the median of column 2
        python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if len(l.split()) == 2]
a = statistics.median(int(r[0]) for r in rows); b = statistics.median(int(r[1]) for r in rows)
print(f"{a / 1000:.1f} {b / 1000:.1f} {a / b:.2f}")'
}
# busy USER...: two busy loops in each user's shared box for SECS seconds,
# the box held by a login of its own; prints the CPUs each box used over
# the middle of that time (CPU seconds a second), from its scope's
# cpu.stat, read with the time of reading.
vm 'cg() {
        local id=$(nsbox list --json | sed -n "s/.*\"id\": \"\([0-9a-f]*\)\", \"user\": \"$1\".*/\1/p" | head -n1)
        echo $(sed -n "s/^usage_usec //p" /sys/fs/cgroup/user.slice/user-$(id -u $1).slice/nsbox-$id.scope/cpu.stat) \
                $(( $(date +%s%N) / 1000 ))
}
declare -f cg > /root/cg.sh' > /dev/null
busy() {
        vm "exec 2>/dev/null; source /root/cg.sh
            for u in $*; do su \$u -c 'exec sleep 600' > /dev/null 2>&1 & done; sleep 5
            for u in $*; do su \$u -c 'yes > /dev/null & yes > /dev/null & sleep $SECS; kill %1 %2' > /dev/null 2>&1 & done
            sleep 2; before=\$(for u in $*; do cg \$u; done); sleep $((SECS - 4)); after=\$(for u in $*; do cg \$u; done)
            paste -d' ' <(echo \"\$before\") <(echo \"\$after\") | awk '{printf \"%.3f \", (\$3 - \$1) / (\$4 - \$2)}'; echo
            for u in $*; do pkill -u \$u; done; wait" 2>/dev/null
}

declare -A lo hi
keep() {        # keep NAME VALUE: the range of a ratio over the runs
        lo[$1]=$(python3 -c "print(f'{min(${lo[$1]:-$2}, $2):.2f}')")
        hi[$1]=$(python3 -c "print(f'{max(${hi[$1]:-$2}, $2):.2f}')")
}
for run in 1 2; do
        echo "   run $run"
        read -r a b r < <(logins bob alice | median_ratio)
        echo "     login: a box with limits ${a} ms, without ${b} ms (medians): ${r}x"
        keep login "$r"
        vm "su carol -c 'exec sleep 900' > /dev/null 2>&1 & su dave -c 'exec sleep 900' > /dev/null 2>&1 & sleep 3" > /dev/null 2>&1
        read -r a b r < <(logins carol dave | median_ratio)
        echo "     join: a live box with limits ${a} ms, without ${b} ms (medians): ${r}x"
        keep join "$r"
        vm "pkill -u \$(id -u carol) -x sleep; pkill -u \$(id -u dave) -x sleep" > /dev/null 2>&1
        read -r e f < <(busy erin frank)
        r=$(python3 -c "print(f'{$e / $f:.2f}')")
        echo "     share: erin's box used ${e} CPUs, frank's ${f}, of 2: ${r}"
        keep share "$r"
        read -r g < <(busy gina)
        r=$(python3 -c "print(f'{$g / 0.5:.2f}')")
        echo "     quota: gina's box (cpu_max = 50%) used ${g} CPUs: ${r} of its quota"
        keep quota "$r"
done
verdict() { python3 -c "print('met' if $1 else 'NOT met')"; }
echo "   targets (range over the runs)"
echo "     a box with limits <= 1.2 x one without: ${lo[login]}-${hi[login]}x  $(verdict "${hi[login]} <= 1.2")"
echo "     joining a box with limits <= 1.2 x one without: ${lo[join]}-${hi[join]}x  $(verdict "${hi[join]} <= 1.2")"
echo "     equal weights share CPU within 10%: ${lo[share]}-${hi[share]}  $(verdict "0.9 <= ${lo[share]} and ${hi[share]} <= 1.1")"
echo "     cpu_max = 50% holds within 10%: ${lo[quota]}-${hi[quota]}  $(verdict "0.9 <= ${lo[quota]} and ${hi[quota]} <= 1.1")"
