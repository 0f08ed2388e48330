#!/bin/bash
# Attack 25: alice fills the tmpfs her box gives her (/tmp, /var/tmp,
# /dev/shm), in every box she has.
#
# Before the fix (ad80b52): none had a size or an inode limit; each could
# take half of RAM.  After: every tmpfs the box makes has both, from
# tmpfs_size and tmpfs_inodes (10% of RAM and 100k by default), and `nsbox
# explain` shows them.  A namespace someone pins after the box ends keeps
# at most that.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy '[default]
namespaces = mount pid uts ipc
private_tmp = yes

[user:bob]
tmpfs_size = 4m
tmpfs_inodes = 200'

fill() {
        su "$1" -c 'for d in /tmp /var/tmp /dev/shm; do
                b=$(dd if=/dev/zero of=$d/fill bs=1M count=64 2>&1 >/dev/null | grep -c "No space left")
                n=0; while [ $n -lt 1000 ] && : 2>/dev/null > $d/f.$n; do n=$((n + 1)); done
                echo "$d bytes_full=$b files=$n opts=$(grep " $d " /proc/self/mountinfo | tail -n1 | sed "s/.* - //")"
        done' 2>&1
}
out=$(fill bob)
echo "$out" | sed 's/^/   /'
for d in /tmp /var/tmp /dev/shm; do
        line=$(echo "$out" | grep "^$d ")
        check "attack25/size$d" "bob's $d stops at 4 MiB" grep -q 'bytes_full=1' <<< "$line"
        check "attack25/inodes$d" "and at 200 inodes" bash -c "n=\$(sed -n 's/.*files=\([0-9]*\).*/\1/p' <<< '$line'); [ \"\$n\" -lt 200 ]"
        check "attack25/opts$d" "its mount says size=4096k and nr_inodes=200" bash -c "grep -q 'size=4096k' <<< '$line' && grep -q 'nr_inodes=200' <<< '$line'"
done
# The defaults: 10% of RAM, 100k inodes.
ram_k=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
out=$(su alice -c 'grep " /tmp " /proc/self/mountinfo | tail -n1' 2>&1)
size_k=$(echo "$out" | sed -n 's/.*size=\([0-9]*\)k.*/\1/p')
check attack25/default-size "alice's /tmp has the default size, about 10% of RAM (${size_k:-none} of $ram_k kB)" \
        bash -c "[ -n '$size_k' ] && [ $((${size_k:-0} * 100 / ram_k)) -ge 9 ] && [ $((${size_k:-0} * 100 / ram_k)) -le 10 ]"
check attack25/default-inodes "and 100k inodes" grep -q 'nr_inodes=102400' <<< "$out"
check attack25/explain "nsbox explain shows bob's limits" \
        bash -c "$NSBOX explain bob | grep -q '^tmpfs_size *= *4m' && $NSBOX explain bob | grep -q '^tmpfs_inodes *= *200'"
check attack25/check-rejects "nsbox check rejects a limit that is not one" \
        bash -c "printf '[default]\ntmpfs_size = lots\n' > $W/out/bad.conf; ! $NSBOX check -c $W/out/bad.conf 2> $W/out/bad.err && grep -q 'not a tmpfs size' $W/out/bad.err"

# The last check decides nothing about the exit status; a death before here does.
exit 0
