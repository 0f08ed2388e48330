#!/bin/bash
# The scenarios of the VM tier, run against one booted machine (sourced by
# tests/vm/run with RELEASE and DEB set).  They do what the README tells
# an admin: install the .deb with apt, write the README's policy, enable it
# with pam-auth-update; then users log in for real -- ssh with a key and
# with a password, login(1) on a serial getty, su, su -, runuser, sudo --
# and each check looks from inside the box and from outside.
R=$RELEASE
t() { echo "vm-$R/$1"; }

# The README's policies, as written: the ini blocks under their headings.
readme_policy() {
        awk -v h="$1" 'index($0, h) == 1 { s = 1 } s && /^```ini/ { f = 1; next } f && /^```/ { exit } f' "$REPO/README.md"
}

# A login that stays: an ssh session of USER that sleeps, in the background.
# Its box and logind session are written where root can read them, in the
# user's runtime directory (under /run, shared with the host):
# held_box TAG and held_session TAG say them.
hold() {
        local user=$1 tag=$2
        # A terminal, so that the session ends when the connection does.
        # exec: $! is then ssh itself, which release kills.
        (exec ssh "${SSH_OPTS[@]}" -tt -i "$VM_KEY" -p $VM_PORT "$user@127.0.0.1" \
                "echo \$NSBOX_ID \$XDG_SESSION_ID > \$XDG_RUNTIME_DIR/held-$tag; exec sleep 600") > /dev/null 2>&1 &
        eval "HOLD_$tag=$!"
        for _ in $(seq 1 60); do
                vm "test -s /run/user/\$(id -u $user)/held-$tag" > /dev/null 2>&1 && break
                sleep 1
        done
        eval "HELD_$tag=\"\$(vm 'cat /run/user/\$(id -u $user)/held-$tag')\""
        local v="HELD_$tag"
        [ -n "${!v}" ]
}
held_box() { local v="HELD_$1"; echo "${!v% *}"; }
held_session() { local v="HELD_$1"; echo "${!v#* }"; }
# End a held login: the connection goes, and with it the session.
release() {
        local v="HOLD_$1"
        kill ${!v} 2>/dev/null
        wait ${!v} 2>/dev/null
}
no_boxes() { [ "$(vm 'nsbox list --json' | tr -d ' \n')" = "[]" ]; }

# Wait until COMMAND (run on the machine) succeeds, up to N seconds.
until_vm() {
        local n=$1
        shift
        for _ in $(seq 1 "$n"); do
                vm "$@" > /dev/null 2>&1 && return 0
                sleep 1
        done
        return 1
}

# ---- install, as the README says ---------------------------------------
vm_mark
vm "uname -r; systemctl --version | head -n1" | sed 's/^/   /'
scp "${SSH_OPTS[@]}" -i "$VM_KEY" -P $VM_PORT "$DEB" root@127.0.0.1:/root/ > /dev/null
check "$(t install)" "apt installs the .deb" \
        vm "DEBIAN_FRONTEND=noninteractive apt-get install -y /root/$(basename "$DEB") > /root/apt.log 2>&1"
check "$(t not-enabled)" "installing does not box logins by itself" vm "! grep -q pam_nsbox /etc/pam.d/common-session"
check "$(t socket-enabled)" "the package enables the helper's sockets" \
        vm "systemctl is-enabled nsbox-helper.socket nsbox-user.socket && systemctl is-active nsbox-helper.socket nsbox-user.socket"
check "$(t nsbox-on-path)" "a user finds nsbox on the default PATH" vm "su - nobody -s /bin/sh -c 'command -v nsbox' | grep -qx /usr/bin/nsbox"

vm 'set -e
for u in alice bob dave; do
        useradd -m -s /bin/bash $u
        echo "$u:pw-$u-1" | chpasswd
        install -d -m 0700 -o $u -g $u /home/$u/.ssh
        install -m 0600 -o $u -g $u /root/.ssh/authorized_keys /home/$u/.ssh/
done
useradd -m -s /bin/bash -G sudo carol
echo "carol:pw-carol-1" | chpasswd
install -d -m 0700 -o carol -g carol /home/carol/.ssh
install -m 0600 -o carol -g carol /root/.ssh/authorized_keys /home/carol/.ssh/
groupadd students
usermod -aG students bob' > /dev/null

# The shell-server policy, as the README writes it.
readme_policy "## A policy for a multi-tenant shell server" > "$VM_WORK/shell.conf"
check "$(t readme-policy)" "the README has the shell-server policy" test -s "$VM_WORK/shell.conf"
scp "${SSH_OPTS[@]}" -i "$VM_KEY" -P $VM_PORT "$VM_WORK/shell.conf" root@127.0.0.1:/etc/security/nsbox.conf > /dev/null
vm "chmod 0644 /etc/security/nsbox.conf"
out=$(vm "nsbox check 2>&1")
check "$(t check-valid)" "nsbox check calls the README policy valid: $out" grep -q "valid" <<< "$out"
check "$(t check-missing-bind-source)" "nsbox check names the missing bind source of bob (/srv/scratch/bob): $out" \
        grep -q "/srv/scratch/bob" <<< "$out"
check "$(t check-missing-read-only)" "nsbox check names the missing read-only /srv/course: $out" \
        grep -q "/srv/course" <<< "$out"
vm "pam-auth-update --enable nsbox" > /dev/null 2>&1
# The host's mounts before any box, for the end (logind's runtime
# directories come and go with the users).
mounts_before=$(vm "findmnt -rn -o TARGET | grep -v '^/run/user/' | sort")
check "$(t enabled)" "pam-auth-update --enable nsbox puts it in common-session" \
        vm "grep -Eq '^session[[:space:]]+required[[:space:]]+pam_nsbox.so' /etc/pam.d/common-session"

# ---- logins ------------------------------------------------------------
vm_mark
out=$(as alice 'echo id=$NSBOX_ID; hostname; ls /home; cat /proc/1/comm; cat /etc/resolv.conf' 2>&1)
check "$(t ssh-key)" "alice's ssh login (key) is boxed: $out" grep -q "^id=[0-9a-f]\{8\}$" <<< "$out"
check "$(t ssh-key-view)" "she sees her box: her host name, only her home, the box's init, its resolver: $out" \
        bash -c "grep -qx alice-box <<< \"\$1\" && grep -qx alice <<< \"\$1\" && ! grep -qx bob <<< \"\$1\" &&
                 grep -qx nsbox-init <<< \"\$1\" && grep -q 'nameserver 192.0.2.53' <<< \"\$1\"" _ "$out"

vm_mark
out=$(as_password alice pw-alice-1 'echo id=$NSBOX_ID; hostname' 2>&1)
check "$(t ssh-password)" "alice's ssh login with a password is boxed: $out" grep -q "^id=[0-9a-f]\{8\}$" <<< "$out"

vm_mark
out=$(as bob 'echo id=$NSBOX_ID' 2>&1)
check "$(t missing-bind-denied)" "bob's login is denied while his bind source is missing" \
        bash -c "! grep -q '^id=' <<< \"\$1\"" _ "$out"
log=$(vm "journalctl -q --no-pager --since=@$VM_MARK | grep 'event=denied user=bob'")
check "$(t denial-names-path)" "the denial names the full missing path /srv/scratch/bob: $log" grep -q "/srv/scratch/bob" <<< "$log"
vm "install -d -m 0755 /srv/course /srv/scratch && install -d -o bob -g bob /srv/scratch/bob && echo course > /srv/course/readme"
out=$(as bob 'echo id=$NSBOX_ID; cat /srv/course/readme; touch /srv/course/x 2>&1; ls -d ~/scratch' 2>&1)
check "$(t bind-read-only)" "with them made, bob is boxed with /srv/course read-only and his scratch bound: $out" \
        bash -c "grep -q '^id=' <<< \"\$1\" && grep -qx course <<< \"\$1\" && grep -q 'Read-only' <<< \"\$1\" &&
                 grep -qx /home/bob/scratch <<< \"\$1\"" _ "$out"

vm_mark
hold alice c1
held=$(held_box c1)
out=$(console alice pw-alice-1 'echo id=$NSBOX_ID; hostname; cat /proc/1/comm')
check "$(t console-login)" "login(1) on the serial getty is boxed: $out" \
        bash -c "grep -q '^id=[0-9a-f]\{8\}$' <<< \"\$1\" && grep -qx nsbox-init <<< \"\$1\"" _ "$out"
check "$(t share-user-ssh-console)" "with share = user, the console login joins alice's ssh box ($held)" \
        grep -qx "id=$held" <<< "$out"
release c1

vm_mark
out=$(vm "su alice -c 'echo id=\$NSBOX_ID; cat /proc/1/comm'; su - alice -c 'echo id=\$NSBOX_ID; pwd'" 2>&1)
check "$(t su)" "su and su - by root box alice: $out" \
        bash -c "[ \$(grep -c '^id=[0-9a-f]\{8\}$' <<< \"\$1\") = 2 ] && grep -qx /home/alice <<< \"\$1\"" _ "$out"
out=$(vm "runuser -u alice -- id -un; runuser -l alice -c 'id -un'" 2>&1)
check "$(t runuser)" "runuser and runuser -l still work (Debian's runuser stacks leave out common-session): $out" \
        bash -c "[ \$(grep -cx alice <<< \"\$1\") = 2 ]" _ "$out"

# An exempt admin of Debian's sudo group, and the admins' tools from inside a box.
vm_mark
out=$(as carol 'echo id=${NSBOX_ID:-none}; echo pw-carol-1 | sudo -S -p "" id -u' 2>&1)
check "$(t sudo-exempt-admin)" "carol (group sudo, exempt) is not boxed and sudo works: $out" \
        bash -c "grep -qx id=none <<< \"\$1\" && grep -qx 0 <<< \"\$1\"" _ "$out"
out=$(as alice 'ping -c1 -W5 127.0.0.1 > /dev/null && echo ping-ok; grep NoNewPrivs /proc/self/status' 2>&1)
check "$(t ping-in-box)" "ping works in alice's box, and nothing sets no_new_privs: $out" \
        bash -c "grep -qx ping-ok <<< \"\$1\" && grep -q 'NoNewPrivs:.0' <<< \"\$1\"" _ "$out"
out=$(as alice "(sleep 3; echo pw-carol-1) | script -qec \"su carol -c 'echo su-ok'\" /dev/null" 2>&1)
check "$(t su-from-box)" "su to an exempt user with the right password works from inside a box: $out" grep -q su-ok <<< "$out"

# ---- every view and key on this release's kernel ------------------------
vm 'set -e
useradd -m -s /bin/bash erin
install -d -m 0700 -o erin -g erin /home/erin/.ssh
install -m 0600 -o erin -g erin /root/.ssh/authorized_keys /home/erin/.ssh/
mkdir -p /srv/ro /srv/secret /srv/src /srv/files
echo secret > /srv/secret/data; echo src > /srv/src/file; echo file > /srv/files/f
cat > /etc/security/nsbox.d/50-erin.conf <<P
[user:erin]
namespaces = mount pid uts ipc user net
share = session
linger = 0
private_tmp = yes
tmp_keep = -/tmp/krb5cc_\${UID}
read_only = /srv/ro
inaccessible = /etc/issue /srv/secret
bind = /srv/src:/srv/dst:ro /srv/files/f:\${HOME}/f.txt
hostname = erin-views
user_root = yes
capability_bounding = cap_net_raw
tmpfs_size = 64m
tmpfs_inodes = 5k
P
chmod 0644 /etc/security/nsbox.d/50-erin.conf
echo host > /tmp/host-marker
echo ticket > /tmp/krb5cc_$(id -u erin)
chown erin: /tmp/krb5cc_$(id -u erin)' > /dev/null
vm_mark
out=$(as erin "echo id=\$NSBOX_ID; hostname; cat /etc/issue 2>&1; ls /srv/secret 2>&1; touch /srv/ro/x 2>&1; cat /srv/dst/file;
        touch /srv/dst/x 2>&1; cat ~/f.txt; ls /tmp; cat /tmp/krb5cc_\$(id -u); ls /home; grep CapBnd /proc/self/status;
        ip -br addr show eth0; cat /etc/resolv.conf; (exec 3<>/dev/tcp/10.0.2.2/$VM_PORT && head -c 7 <&3; echo)
        nsbox root -- sh -c 'id -u; cat /proc/self/uid_map'
        for d in /tmp /var/tmp /dev/shm; do echo \"tmpfs \$d \$(grep \" \$d \" /proc/self/mountinfo | tail -n1 | sed 's/.* - //')\"; done" 2>&1)
has() { grep -q -- "$1" <<< "$out"; }
check "$(t view-box)" "erin's box is built on this kernel: $out" has "^id=[0-9a-f]\{8\}$"
check "$(t view-hostname)" "hostname" has "^erin-views$"
check "$(t view-inaccessible-file)" "inaccessible = /etc/issue (a file) cannot be read" has "/etc/issue: Permission denied"
check "$(t view-inaccessible-dir)" "inaccessible = /srv/secret (a directory) cannot be listed" has "/srv/secret': Permission denied"
check "$(t view-read-only)" "read_only = /srv/ro is read-only" has "/srv/ro/x': Read-only file system"
check "$(t view-bind-ro)" "a read-only bind of a directory" bash -c "grep -qx src <<< \"\$1\" && grep -q \"/srv/dst/x': Read-only file system\" <<< \"\$1\"" _ "$out"
check "$(t view-bind-file)" "a bind of a file onto a target it makes in the home" has "^file$"
check "$(t view-private-tmp)" "a private /tmp without the host's files, but the kept ticket" \
        bash -c "! grep -qx host-marker <<< \"\$1\" && grep -qx ticket <<< \"\$1\"" _ "$out"
check "$(t view-hide-homes)" "only erin's home" bash -c "grep -qx erin <<< \"\$1\" && ! grep -qx alice <<< \"\$1\"" _ "$out"
check "$(t view-bounding)" "capability_bounding leaves cap_net_raw alone" has "^CapBnd:.0000000000002000$"
check "$(t view-veth)" "a veth with the leased IPv4 and IPv6 addresses" bash -c "grep -q '^eth0@.* 10\.213\.' <<< \"\$1\" && grep -q 'fd00:213::' <<< \"\$1\"" _ "$out"
check "$(t view-dns)" "the box's resolver" has "^nameserver 192.0.2.53$"
check "$(t view-nat)" "NAT out of the machine (to this machine's ssh, back through qemu)" has "^SSH-2.0"
check "$(t view-nsbox-root)" "nsbox root: uid 0 of the box's user namespace, the subordinate ids mapped" \
        bash -c "grep -qx 0 <<< \"\$1\" && [ \$(grep -cE '^ +[0-9]+ +[0-9]+ +[0-9]+$' <<< \"\$1\") -ge 2 ]" _ "$out"
check "$(t view-tmpfs-limits)" "tmpfs_size and tmpfs_inodes on /tmp, /var/tmp and /dev/shm" \
        bash -c "[ \$(grep -c '^tmpfs /.*size=65536k,nr_inodes=5120' <<< \"\$1\") = 3 ]" _ "$out"
# propagation = slave: what the host mounts later shows in the box.
hold erin e1
vm "mkdir -p /srv/late && mount -t tmpfs late /srv/late && touch /srv/late/here" > /dev/null
check "$(t view-propagation)" "a mount the host makes later reaches the box (propagation = slave)" \
        vm "nsbox enter $(held_box e1) -- test -e /srv/late/here"
vm "umount /srv/late" > /dev/null
out=$(vm "nsbox enter $(held_box e1) --user erin -- cat /proc/self/stat; nsbox list" 2>&1)
check "$(t enter-own-session)" "nsbox enter --user runs in a session of its own, in the box: $out" \
        bash -c "s=\$(head -n1 <<< \"\$1\" | awk '{print \$6}'); [ -n \"\$s\" ] && [ \"\$s\" != 0 ]" _ "$out"
check "$(t list-state)" "nsbox list says each box's state" grep -q " running " <<< "$out"
# The firewall loaded as nftables.service loads it: Debian's
# /etc/nftables.conf begins with "flush ruleset", which takes the
# project's table too.  The helper makes it anew, and the box keeps its NAT.
vm_mark
vm "nft -f /etc/nftables.conf" > /dev/null 2>&1
check "$(t nft-reload)" "after the host's firewall is loaded (flush ruleset), the table is back, with the box's end" \
        until_vm 10 "nft list set inet nsbox ifaces | grep -q nsb && nft list tables | grep -q 'inet filter'"
out=$(vm "nsbox enter $(held_box e1) --user erin -- bash -c '(exec 3<>/dev/tcp/10.0.2.2/$VM_PORT && head -c 7 <&3; echo)'" 2>&1)
check "$(t nft-reload-nat)" "and erin's box still gets out through NAT: $out" grep -q "^SSH-2.0" <<< "$out"
check "$(t nft-reload-log)" "the journal says the table was made anew, and by whom" \
        vm "journalctl -q --no-pager --since=@$VM_MARK | grep -q 'event=nft-rebuilt object=\"table inet nsbox\" boxes=[0-9]* by=nft'"
vm "nft delete table inet filter" > /dev/null 2>&1
release e1
vm "rm /etc/security/nsbox.d/50-erin.conf" > /dev/null

# The other network and propagation: only loopback, nothing flows in.
vm 'useradd -m -s /bin/bash frank
install -d -m 0700 -o frank -g frank /home/frank/.ssh
install -m 0600 -o frank -g frank /root/.ssh/authorized_keys /home/frank/.ssh/
printf "[user:frank]\nnamespaces = mount pid uts ipc\nnetwork = loopback\nnat = no\npropagation = private\nshare = session\n" \
        > /etc/security/nsbox.d/50-frank.conf
chmod 0644 /etc/security/nsbox.d/50-frank.conf' > /dev/null
out=$(as frank 'ip -br link; cat /proc/self/uid_map' 2>&1)
check "$(t view-loopback)" "network = loopback: only lo; no user namespace without user in namespaces: $out" \
        bash -c "grep -q '^lo ' <<< \"\$1\" && [ \$(grep -cE '^[a-z]' <<< \"\$1\") = 1 ] &&
                 grep -qE '^ +0 +0 +4294967295$' <<< \"\$1\"" _ "$out"
hold frank f1
vm "mkdir -p /srv/late2 && mount -t tmpfs late2 /srv/late2 && touch /srv/late2/here" > /dev/null
check "$(t view-propagation-private)" "propagation = private: a mount the host makes later stays out of the box" \
        vm "nsbox enter $(held_box f1) -- test ! -e /srv/late2/here"
vm "umount /srv/late2" > /dev/null
release f1
vm "rm /etc/security/nsbox.d/50-frank.conf" > /dev/null

# ---- cgroups: nothing privileged in a user's session ---------------------
# From a clean slate, so that alice's next login is the one that has
# systemd start the helper.
vm 'systemctl stop "user@*.service"; for b in $(nsbox list | awk "NR > 1 { print \$1 }"); do nsbox stop --force $b; done
    sleep 1; systemctl stop nsbox-helper.service' > /dev/null 2>&1
hold alice a1
helper=$(vm "systemctl show -P MainPID nsbox-helper.service")
check "$(t helper-unit)" "the helper runs in nsbox-helper.service" \
        vm "test $helper -gt 0 && grep -qx '0::/system.slice/nsbox-helper.service' /proc/$helper/cgroup"
box=$(vm "nsbox list --json" | python3 -c 'import json,sys; print(next(b["id"] for b in json.load(sys.stdin) if b["user"]=="alice"))' 2>/dev/null)
init=$(vm "nsbox list --json" | python3 -c 'import json,sys; print(next(b["pid"] for b in json.load(sys.stdin) if b["user"]=="alice"))' 2>/dev/null)
check "$(t box-scope)" "alice's box init runs in nsbox-$box.scope, known to systemd" \
        vm "grep -qx '0::/nsbox.slice/nsbox-$box.scope' /proc/$init/cgroup && systemctl is-active nsbox-$box.scope"
check "$(t sessions-tracked)" "logind still tracks alice's session" vm "loginctl list-sessions --no-legend | grep -q alice"

hold bob b1
vm "nsbox enter $(held_box b1) -- sh -c 'echo bobs > /tmp/bobs-file'" > /dev/null
out=$(as alice 'echo id=$NSBOX_ID; ps -e -o user= | sort -u; ls /home; ls /tmp/bobs-file 2>&1' 2>&1)
bobs=$(held_box b1)
check "$(t two-users)" "alice and bob at once: boxes of their own; alice sees none of bob's processes, home or /tmp: $out" \
        bash -c "! grep -qx 'id=$bobs' <<< \"\$1\" && ! grep -qx bob <<< \"\$1\" && grep -q 'No such file' <<< \"\$1\"" _ "$out"
sid=$(held_session a1)
as alice "loginctl terminate-session $sid" > /dev/null 2>&1
sleep 3
check "$(t helper-outlives)" "the helper that alice's login had systemd start outlives that login" \
        vm "! loginctl show-session $sid > /dev/null 2>&1 && systemctl show -P MainPID nsbox-helper.service | grep -qx $helper"
check "$(t terminate-session)" "alice ending her own session ends it, and leaves the helper and bob's box alone" \
        vm "[ -n '$sid' ] && ! loginctl show-session $sid > /dev/null 2>&1 &&
            systemctl show -P MainPID nsbox-helper.service | grep -qx $helper && nsbox enter $(held_box b1) -- true"
vm "loginctl kill-user alice" > /dev/null 2>&1
sleep 3
check "$(t kill-user)" "loginctl kill-user alice leaves bob's box and session alone" \
        vm "nsbox enter $(held_box b1) -- true && loginctl list-sessions --no-legend | grep -q bob &&
            ! pgrep -u alice -x sleep"
hold alice a2
vm "systemctl stop user@\$(id -u alice)" > /dev/null 2>&1
check "$(t stop-user-manager)" "systemctl stop user@ of alice leaves bob alone" \
        vm "nsbox enter $(held_box b1) -- true && systemctl show -P MainPID nsbox-helper.service | grep -qx $helper"
release a1
release a2
vm "mkdir -p /etc/systemd/logind.conf.d && printf '[Login]\nKillUserProcesses=yes\n' > /etc/systemd/logind.conf.d/kill.conf &&
    systemctl restart systemd-logind" > /dev/null 2>&1
hold alice a3
release a3
sleep 3
check "$(t kill-user-processes)" "with KillUserProcesses=yes alice's logout leaves the helper and bob alone" \
        vm "nsbox enter $(held_box b1) -- true && systemctl show -P MainPID nsbox-helper.service | grep -qx $helper"
vm "rm /etc/systemd/logind.conf.d/kill.conf && systemctl restart systemd-logind" > /dev/null 2>&1
release b1

# ---- systemd --user ------------------------------------------------------
vm_mark
hold alice a4
vm "nsbox enter $(held_box a4) -- sh -c 'echo from-the-box > /tmp/marker'"
out=$(as alice "systemd-run --user --wait --pipe -q sh -c 'echo id=\$NSBOX_ID; hostname; ls /home; cat /tmp/marker; cat /proc/1/comm'" 2>&1)
check "$(t user-service-view)" "alice's user services see her box: host name, homes, /tmp, PID 1: $out" \
        bash -c "grep -qx alice-box <<< \"\$1\" && grep -qx alice <<< \"\$1\" && ! grep -qx bob <<< \"\$1\" &&
                 grep -qx from-the-box <<< \"\$1\" && grep -qx nsbox-init <<< \"\$1\"" _ "$out"
out=$(as alice 'systemctl --user is-system-running; systemctl --user show -P MainPID init.scope >/dev/null && echo ctl-ok' 2>&1)
check "$(t systemctl-user)" "systemctl --user works from inside the box: $out" grep -qx ctl-ok <<< "$out"
mgr=$(vm "systemctl show -P MainPID user@\$(id -u alice).service")
check "$(t manager-no-caps)" "the user manager and its wrapper hold no capability" \
        vm "[ \"$mgr\" -gt 0 ] || exit 1; for p in $mgr \$(pgrep -u alice -x systemd); do grep -E '^Cap(Prm|Eff|Amb):' /proc/\$p/status | grep -vq '0000000000000000\$' && exit 1; done; true"
as alice 'mkdir -p ~/.config/systemd/user ~/.local/share/dbus-1/services
cat > ~/.config/systemd/user/probe.service <<U
[Service]
Type=oneshot
ExecStart=/bin/sh -c "hostname > /tmp/unit-probe; ls /home >> /tmp/unit-probe"
U
cat > ~/.local/share/dbus-1/services/org.nsbox.Probe.service <<U
[D-BUS Service]
Name=org.nsbox.Probe
Exec=/bin/sh -c "hostname > /tmp/dbus-probe; ls /home >> /tmp/dbus-probe; sleep 2"
U
systemctl --user daemon-reload; systemctl --user start probe.service
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.StartServiceByName string:org.nsbox.Probe uint32:0 > /dev/null 2>&1
sleep 1' > /dev/null 2>&1
out=$(vm "nsbox enter alice -- sh -c 'cat /tmp/unit-probe; echo --; cat /tmp/dbus-probe'" 2>&1)
check "$(t user-unit-view)" "a user unit and a D-Bus-activated service see the box: $out" \
        bash -c "[ \$(grep -cx alice-box <<< \"\$1\") = 2 ] && ! grep -qx bob <<< \"\$1\"" _ "$out"
release a4

# ---- IPv6 router advertisements and forwarding ----------------------------
check "$(t ra-default-route)" "the machine keeps its IPv6 default route from router advertisements while veth boxes live" \
        vm "ip -6 route show default | grep -q 'proto ra'"
vm "sysctl -n net.ipv6.conf.eth0.accept_ra net.ipv6.conf.all.forwarding" | tr '\n' ' ' | sed 's/^/   accept_ra, forwarding: /'
echo

# ---- resource limits -------------------------------------------------------
source "$VM_HERE/limits.sh"

# ---- boxes outlive the helper: crash, stop, upgrade ---------------------
source "$VM_HERE/adoption.sh"

# ---- logout plus linger leaves nothing -----------------------------------
vm "systemctl stop user@\$(id -u alice) user@\$(id -u bob)" > /dev/null 2>&1
check "$(t all-boxes-end)" "after the last logout and the linger (30 s) every box is gone" \
        until_vm 120 "! pgrep -x nsbox-init"
check "$(t helper-idles-out)" "the helper exits 30 s after its last box" until_vm 90 "! pgrep -x nsbox-helper"
check "$(t nothing-left-links)" "no box's link is left" vm "! ip -br link | grep '^nsb'"
check "$(t nothing-left-nft)" "nor the project's nftables table" vm "! nft list tables | grep nsbox"
check "$(t nothing-left-units)" "nor a box's scope, nor its cgroup" \
        vm "left=\$(systemctl list-units --all --no-legend 'nsbox-*.scope'; ls -d /sys/fs/cgroup/nsbox.slice/nsbox-*.scope 2>/dev/null)
            echo \"\$left\"; for p in \$(cat /sys/fs/cgroup/nsbox.slice/nsbox-*.scope/cgroup.procs 2>/dev/null); do
            ps -o pid=,ppid=,user=,stat=,args= -p \$p; grep -E '^(NSpid|PPid)' /proc/\$p/status; done; [ -z \"\$left\" ]"
same_mounts() { diff <(echo "$mounts_before") <(vm "findmnt -rn -o TARGET | grep -v '^/run/user/' | sort"); }
check "$(t nothing-left-mounts)" "and the host's mounts are as they were before the first box" same_mounts
check "$(t nothing-left-forwarding)" "and forwarding is off again, as it was before" \
        vm "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding; [ \$(sysctl -n net.ipv4.ip_forward) = 0 ] &&
            [ \$(sysctl -n net.ipv6.conf.all.forwarding) = 0 ]"
check "$(t nothing-left-state)" "and /run/nsbox holds only what systemd's sockets are" \
        vm "ls -A /run/nsbox; [ \"\$(ls -A /run/nsbox | sort | tr '\n' ' ')\" = 'helper.lock helper.sock user.sock ' ]"
check "$(t ra-after)" "router advertisements are still taken after the boxes" \
        vm "[ \$(sysctl -n net.ipv6.conf.eth0.accept_ra) = 1 ] && ip -6 route show default | grep -q 'proto ra'"

# ---- limits without systemd: the helper's own subtree --------------------
source "$VM_HERE/subtree.sh"

# ---- the desktop policy, as written ----------------------------------------
readme_policy "## A policy for desktops" > "$VM_WORK/desktop.conf"
scp "${SSH_OPTS[@]}" -i "$VM_KEY" -P $VM_PORT "$VM_WORK/desktop.conf" root@127.0.0.1:/etc/security/nsbox.conf > /dev/null
vm_mark
out=$(as dave 'echo id=$NSBOX_ID share=$NSBOX_SHARE; ls /home; systemd-run --user --wait --pipe -q sh -c "echo svc=\$NSBOX_ID"' 2>&1)
check "$(t desktop-policy)" "the desktop policy boxes dave, and his user manager shares his box: $out" \
        bash -c "id=\$(sed -n 's/^id=\([0-9a-f]*\) .*/\1/p' <<< \"\$1\"); [ -n \"\$id\" ] && grep -qx \"svc=\$id\" <<< \"\$1\" &&
                 grep -q share=user <<< \"\$1\" && grep -qx dave <<< \"\$1\"" _ "$out"
