#!/bin/bash
# The VM tier's pieces: boot an image under qemu, reach it over ssh on a
# port forwarded on 127.0.0.1, log in on its serial console, stop it.
# Sourced by tests/vm/run.  Every check prints one line, as in the other
# tiers: "PASS name", "FAIL name: why" or "SKIP name: why".
set -u
VM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_HERE/../.." && pwd)

pass() { echo "PASS $1"; }
fail() {
        echo "FAIL $1: $2"
        # What the machine's journal says about it, while the machine is up;
        # a kernel that panicked has stopped it (panic=1, -no-reboot), and
        # its console says why.
        if [ -n "${VM_QEMU:-}" ] && ! kill -0 "$VM_QEMU" 2>/dev/null; then
                echo "   -- the machine is down; its console's last lines:"
                tail -n 12 "$VM_WORK/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/   /'
        elif [ -n "${VM_PORT:-}" ]; then
                vm_journal_tail
        fi
        return 0
}
skip() { echo "SKIP $1: $2"; }
# check NAME "what it shows" COMMAND...: what COMMAND prints is shown only
# when it fails.
check() {
        local name=$1 what=$2 said
        shift 2
        if said=$("$@" 2>&1); then
                pass "$name"
        else
                fail "$name" "$what"
                [ -z "$said" ] || sed 's/^/   | /' <<< "$said" | head -n 20
        fi
}

# A free TCP port on 127.0.0.1 (qemu binds it again right after).
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
        -o ConnectTimeout=30 -o ServerAliveInterval=10 -o ServerAliveCountMax=6)

# vm_start IMAGE_DIR WORK_DIR: start qemu (TCG: /dev/kvm here cannot boot
# a stock kernel); vm_wait waits for its sshd.  The qemu process dies with
# this shell (PDEATHSIG), so an interrupted run leaves none behind.
vm_start() {
        local img=$1 work=$2
        VM_WORK=$work
        VM_KEY=$img/id_ed25519
        VM_PORT=$(free_port)
        qemu-img create -q -f qcow2 -b "$img/disk.raw" -F raw "$work/disk.qcow2"
        VM_PORTS="${VM_PORTS:-} $VM_PORT"
        # TCG unless told otherwise: the /dev/kvm of these machines is a
        # paravirtual kind that cannot boot Debian's kernel.  One TCG
        # thread for both vCPUs: with a thread each, a kernel that patches
        # its own code while the other vCPU runs it (a static key, as when
        # the cpuset controller is first enabled) was seen to hit a stale
        # int3 and panic, once in eight runs.
        setsid setpriv --pdeathsig KILL -- qemu-system-x86_64 \
                -accel "${NSBOX_VM_ACCEL:-tcg,thread=single}" -cpu max -smp 2 -m 2048 \
                -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
                -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=0 panic=1" -no-reboot \
                -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
                -netdev "user,id=n0,ipv4=on,ipv6=on,hostfwd=tcp:127.0.0.1:$VM_PORT-:22" \
                -device virtio-net-pci,netdev=n0 \
                -serial "file:$work/console.log" \
                -serial "unix:$work/ttyS1.sock,server=on,wait=off" \
                -display none -monitor none -nodefaults -no-user-config \
                > "$work/qemu.log" 2>&1 &
        VM_QEMU=$!
        VM_STARTED=$SECONDS
        # A machine that cannot even start says so at once.
        sleep 1
        if ! kill -0 $VM_QEMU 2>/dev/null; then
                VM_BOOT_ERROR="qemu exited: $(tail -n 3 "$work/qemu.log" | tr '\n' ' ')"
                return 1
        fi
}

vm_wait() {
        local i work=$VM_WORK
        for i in $(seq 1 90); do
                if ! kill -0 $VM_QEMU 2>/dev/null; then
                        VM_BOOT_ERROR="qemu exited: $(tail -n 3 "$work/qemu.log" | tr '\n' ' ')"
                        return 1
                fi
                if ssh "${SSH_OPTS[@]}" -o ConnectTimeout=5 -i "$VM_KEY" -p $VM_PORT root@127.0.0.1 true 2>/dev/null; then
                        VM_BOOT_SECONDS=$((SECONDS - VM_STARTED))
                        return 0
                fi
                sleep 2
        done
        VM_BOOT_ERROR="no ssh after 180 s; the console's last lines: $(tail -n 5 "$work/console.log" | tr -d '\r' | tr '\n' ' ')"
        return 1
}

# The .deb, built in the image's own tree from this checkout's files
# (tracked and new, as the work tree has them), natively, in a mount
# namespace of its own.
# build_deb ROOT OUT [NEXT]: the .deb of the tree, built in the image's
# root; with NEXT, a second one in OUT/next, versioned NEXT (a newer
# release, for the upgrade scenario).
build_deb() {
        local root=$1 out=$2 next=${3:-}
        mkdir -p "$out"
        unshare --mount --propagation private -- /bin/bash -ec '
                root=$1 src=$2 out=$3 next=$4
                mount --rbind /dev "$root/dev"
                mount -t proc proc "$root/proc"
                mount -t tmpfs tmp "$root/tmp"
                mkdir -p "$root/tmp/b/src"
                git -C "$src" ls-files -z -co --exclude-standard | (cd "$src" && tar --null -T - -cf - 2>/dev/null) |
                        tar -C "$root/tmp/b/src" -xf -
                build() {
                        chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp/b LC_ALL=C.UTF-8 \
                                sh -c "cd /tmp/b/src && dpkg-buildpackage -us -uc -b" >> "$out/build.log" 2>&1
                }
                build
                cp "$root"/tmp/b/libpam-nsbox_*.deb "$out/"
                [ -n "$next" ] || exit 0
                rm -f "$root"/tmp/b/libpam-nsbox_*.deb
                { printf "nsbox (%s) unstable; urgency=medium\n\n  * A newer build, for the upgrade test.\n\n" "$next"
                  printf " -- pam_nsbox tests <nsbox@localhost>  %s\n\n" "$(date -R)"
                  cat "$root/tmp/b/src/debian/changelog"; } > "$root/tmp/b/changelog"
                mv "$root/tmp/b/changelog" "$root/tmp/b/src/debian/changelog"
                build
                mkdir -p "$out/next"
                cp "$root"/tmp/b/libpam-nsbox_*.deb "$out/next/"
        ' sh "$root" "$REPO" "$out" "$next"
}

# Root's commands share one connection; a login is always one of its own.
vm() {
        ssh "${SSH_OPTS[@]}" -i "$VM_KEY" -p $VM_PORT -o ControlMaster=auto -o ControlPath="$VM_WORK/root.ctl" \
                -o ControlPersist=600 root@127.0.0.1 "$@"
}

# as USER COMMAND: a fresh ssh login of USER with its key.
as() {
        local user=$1
        shift
        ssh "${SSH_OPTS[@]}" -i "$VM_KEY" -p $VM_PORT "$user@127.0.0.1" "$@"
}

# as_password USER PASSWORD COMMAND: a fresh ssh login with a password.
as_password() {
        local user=$1 pw=$2
        shift 2
        printf '#!/bin/sh\necho "%s"\n' "$pw" > "$VM_WORK/askpass"
        chmod 0700 "$VM_WORK/askpass"
        SSH_ASKPASS="$VM_WORK/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=: setsid -w ssh \
                -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 \
                -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
                -o NumberOfPasswordPrompts=1 -p $VM_PORT "$user@127.0.0.1" "$@" < /dev/null
}

# console USER PASSWORD COMMAND: log in on the serial getty (ttyS1), run
# COMMAND in the login shell, log out; prints what COMMAND printed.
console() {
        python3 "$VM_HERE/console.py" "$VM_WORK/ttyS1.sock" "$@"
}

# Since when the journal is read for a failure's explanation.
vm_mark() { VM_MARK=$(vm date +%s 2>/dev/null); }

vm_journal_tail() {
        local since=${VM_MARK:-}
        echo "   -- the machine's journal${since:+ since this check began}:"
        vm "journalctl --no-pager -q -o short-monotonic ${since:+--since=@$since} \
                | grep -E 'nsbox|pam_|sshd|systemd\\[1\\]: (user@|nsbox|session)|logind' | tail -n 25" 2>/dev/null |
                sed 's/^/   /'
}

# Power off, and make sure nothing of the machine is left.
vm_stop() {
        local i
        [ -n "${VM_QEMU:-}" ] || return 0
        vm "systemctl poweroff" > /dev/null 2>&1 || true
        ssh -O exit -o ControlPath="$VM_WORK/root.ctl" root@127.0.0.1 > /dev/null 2>&1 || true
        for i in $(seq 1 60); do
                kill -0 $VM_QEMU 2>/dev/null || break
                sleep 1
        done
        kill -KILL $VM_QEMU 2>/dev/null || true
        wait $VM_QEMU 2>/dev/null || true
        VM_QEMU=
}
