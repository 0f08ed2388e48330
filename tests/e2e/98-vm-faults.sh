#!/bin/bash
# Scenario: the VM tier never passes what it could not run.  Without qemu
# it says SKIP with the reason; an image that does not boot is a SKIP with
# what qemu said; and either way nothing of it is left (tests/vm/run's own
# host-clean check).  The booted machines themselves are tests/vm/run's.
source "$NSBOX_REPO/tests/lib/e2e.sh"

command -v qemu-system-x86_64 > /dev/null || { skip vmfault "qemu-system-x86_64 is not installed (tests/deps.sh vm)"; exit 0; }
run_tier() { "$NSBOX_REPO/tests/vm/run" bookworm > $W/out/vm.out 2>&1; }

# No qemu: a PATH with every program but it.
mkdir -p $W/noqemu
for f in /usr/bin/* /usr/sbin/*; do
        case ${f##*/} in qemu-system-*) ;; *) ln -sf "$f" $W/noqemu/ ;; esac
done
PATH=$W/noqemu run_tier
rc=$?
sed 's/^/   /' $W/out/vm.out
check vmfault/no-qemu-skip "without qemu the release is a SKIP naming it (status $rc)" \
        bash -c "[ $rc = 0 ] && grep -q '^SKIP vm-bookworm: qemu-system-x86_64 is not installed' $W/out/vm.out"
check vmfault/no-qemu-no-pass "and nothing of it passes" not grep -q '^PASS vm-bookworm' $W/out/vm.out

# An image whose kernel is junk: qemu gives up at once.
img=$W/fakeimg
mkdir -p $img/root
head -c 4096 /dev/urandom > $img/vmlinuz
: > $img/initrd.img
truncate -s 64M $img/disk.raw
ssh-keygen -q -t ed25519 -N '' -f $img/id_ed25519
NSBOX_VM_IMAGE=$img run_tier
rc=$?
sed 's/^/   /' $W/out/vm.out
check vmfault/no-boot-skip "an image that does not boot is a SKIP with what qemu said (status $rc)" \
        bash -c "[ $rc = 0 ] && grep -q '^SKIP vm-bookworm: the bookworm image did not boot: qemu exited' $W/out/vm.out"
check vmfault/no-boot-no-pass "and nothing of it passes but the tier's own clean-up check" \
        bash -c "! grep -q '^PASS vm-bookworm' $W/out/vm.out && grep -q '^PASS vm/host-clean' $W/out/vm.out"
check vmfault/no-qemu-left "no qemu process is left" not pgrep -f "qemu-system-x86_64.*$img"
exit 0
