# Sourced by tests/vm/scenarios.sh: boxes outlive the helper.  Twenty users
# are logged in over ssh, each in a box of their own with an address.
#   crash    systemd restarts a SIGKILLed helper, which takes every box over;
#   stop     a helper stopped with its sockets and not started again: each
#            box ends with its last session and its linger, its scope goes;
#   upgrade  apt installs a newer build under the live sessions: nobody is
#            logged out, the helper is restarted, new logins get the new one.
vusers=$(seq -f 'vu%02g' 1 20 | tr '\n' ' ')
vm "set -e; for u in $vusers; do useradd -m -s /bin/bash \$u
        install -d -m 0700 -o \$u -g \$u /home/\$u/.ssh
        install -m 0600 -o \$u -g \$u /root/.ssh/authorized_keys /home/\$u/.ssh/; done" > /dev/null
vm_mark
# Five at a time: sshd drops unauthenticated connections beyond ten
# (MaxStartups), and a machine under TCG authenticates slowly.
batch=""
for u in $vusers; do
        (exec ssh "${SSH_OPTS[@]}" -tt -i "$VM_KEY" -p $VM_PORT "$u@127.0.0.1" \
                "echo \$NSBOX_ID > \$XDG_RUNTIME_DIR/held-$u; exec sleep 900") > /dev/null 2>&1 &
        eval "HOLD_$u=$!"
        batch="$batch $u"
        if [ $(wc -w <<< "$batch") = 5 ]; then
                until_vm 120 "for u in $batch; do test -s /run/user/\$(id -u \$u)/held-\$u || exit 1; done"
                batch=""
        fi
done
# user id init address, one line per box of a vu user, sorted.
vboxes() {
        vm "nsbox list --json" | python3 -c '
import json, sys
for b in sorted(json.load(sys.stdin), key=lambda b: b["user"]):
    if b["user"].startswith("vu") and b["state"] == "running":
        print(b["user"], b["id"], b["pid"], b["addresses"][0])'
}
before=$(vboxes)
check "$(t adopt-logged-in)" "twenty users are logged in, each in a box with an address" \
        test "$(wc -l <<< "$before")" = 20
init_of() { awk -v u=$1 '$1 == u {print $3}' <<< "$before"; }
id_of() { awk -v u=$1 '$1 == u {print $2}' <<< "$before"; }
holding() { local u v; for u in "$@"; do v="HOLD_$u"; kill -0 ${!v} 2>/dev/null || return 1; done; }
# Each box of USERS, from inside: its address, the host's sshd over the
# network, a private /tmp and only its own home.
vm "cat > /usr/local/bin/nsbox-sound; chmod 0755 /usr/local/bin/nsbox-sound" <<'S'
#!/bin/bash
# nsbox-sound ADDRESS USER, run in a box as USER.
gw=$(ip route | sed -n 's/^default via \([^ ]*\).*/\1/p')
ip -br -4 addr show eth0 | grep -q " $1/" || { echo "no address $1: $(ip -br -4 addr)"; exit 1; }
timeout 5 bash -c "exec 3<>/dev/tcp/$gw/22; head -c 4 <&3" | grep -qx SSH- || { echo "no sshd at $gw"; exit 1; }
[ "$(ls /home)" = "$2" ] || { echo "homes: $(ls /home)"; exit 1; }
[ ! -e /tmp/held-marker ] || { echo "the host's /tmp"; exit 1; }
S
sound() {
        local u out
        for u in "$@"; do
                out=$(vm "nsbox enter $(id_of $u) --user $u -- /usr/local/bin/nsbox-sound $(awk -v u=$u '$1 == u {print $4}' <<< "$before") $u" 2>&1) ||
                        { echo "   $u's box: $out"; return 1; }
        done
}
vm "touch /tmp/held-marker"
check "$(t adopt-sound-before)" "each box is sound: its address, the host over the network, its own /tmp and home" \
        sound $vusers

# ---- crash ----
old=$(vm "systemctl show -P MainPID nsbox-helper.service")
vm_mark
vm "systemctl kill -s KILL nsbox-helper.service" > /dev/null
check "$(t crash-restarted)" "systemd starts the SIGKILLed helper again" \
        until_vm 60 "p=\$(systemctl show -P MainPID nsbox-helper.service); [ \$p != 0 ] && [ \$p != $old ]"
check "$(t crash-adopted)" "the new helper takes each of the twenty boxes over" \
        until_vm 30 "[ \$(journalctl -q --no-pager --since=@$VM_MARK | grep -c 'event=adopt box=[0-9a-f]* user=vu') = 20 ]"
check "$(t crash-list)" "nsbox list shows all twenty, with their ids, inits and addresses" test "$(vboxes)" = "$before"
check "$(t crash-logins)" "every ssh login is still up" holding $vusers
check "$(t crash-sound)" "every box is as sound as before" sound $vusers
check "$(t crash-logind)" "logind still has their sessions" \
        vm "[ \$(loginctl list-sessions --no-legend | grep -c ' vu') -ge 20 ]"

# ---- stop ----
# The sockets too: any logout would start the helper through them.
vm "systemctl stop nsbox-helper.socket nsbox-user.socket nsbox-helper.service" > /dev/null
check "$(t stop-stopped)" "systemctl stop of the helper and its sockets stops it under live boxes" \
        vm "! systemctl is-active -q nsbox-helper.service && ! pgrep -x nsbox-helper"
first5="vu01 vu02 vu03 vu04 vu05"
rest=$(seq -f 'vu%02g' 6 20 | tr '\n' ' ')
check "$(t stop-inits)" "every box's init lives on" vm "kill -0 $(awk '{print $3}' <<< "$before" | tr '\n' ' ')"
for u in $first5; do release $u; done
sleep 10
check "$(t stop-linger)" "a box outlives its last session by its linger (30 s)" vm "kill -0 $(init_of vu01)"
check "$(t stop-ends)" "then each of the five ends, with no helper" \
        until_vm 90 "! kill -0 $(for u in $first5; do init_of $u; done | tr '\n' ' ') 2>/dev/null"
check "$(t stop-scopes)" "and their scopes go" \
        until_vm 30 "for id in $(for u in $first5; do id_of $u; done | tr '\n' ' '); do systemctl is-active -q nsbox-\$id.scope && exit 1; done; exit 0"
others_go_on() { holding $rest && vm "kill -0 $(for u in $rest; do init_of $u; done | tr '\n' ' ')"; }
check "$(t stop-others)" "the other fifteen logins and boxes go on" others_go_on
check "$(t stop-not-started)" "nothing started the helper meanwhile" vm "! pgrep -x nsbox-helper"

# ---- upgrade ----
before=$(grep -v "^vu0[1-5] " <<< "$before")
vm_mark
vm "systemctl start nsbox-helper.socket nsbox-user.socket nsbox-helper.service" > /dev/null
check "$(t upgrade-before)" "a started helper takes the fifteen boxes over" \
        until_vm 30 "[ \$(journalctl -q --no-pager --since=@$VM_MARK | grep -c 'event=adopt box=[0-9a-f]* user=vu') = 15 ]"
old=$(vm "systemctl show -P MainPID nsbox-helper.service")
next_version=$(dpkg-deb -f "$NEXT_DEB" Version)
scp "${SSH_OPTS[@]}" -i "$VM_KEY" -P $VM_PORT "$NEXT_DEB" root@127.0.0.1:/root/next.deb > /dev/null
vm_mark
check "$(t upgrade-install)" "apt installs the newer build ($next_version) under fifteen live logins" \
        vm "DEBIAN_FRONTEND=noninteractive apt-get install -y /root/next.deb > /root/apt-next.log 2>&1 &&
            dpkg-query -W -f '\${Version}' libpam-nsbox | grep -qx '$next_version'"
new=$(vm "systemctl show -P MainPID nsbox-helper.service")
check "$(t upgrade-restarted)" "the package restarted the helper: the new one runs ($old -> $new) and took the boxes over" \
        vm "[ '$new' != 0 ] && [ '$new' != '$old' ] &&
            journalctl -q --no-pager --since=@$VM_MARK | grep -q 'nsbox-helper\[$new\]: event=helper-start version=$next_version adopted=' &&
            [ \$(journalctl -q --no-pager --since=@$VM_MARK | grep -c 'nsbox-helper\[$new\]: event=adopt box=[0-9a-f]* user=vu') = 15 ]"
check "$(t upgrade-logins)" "nobody was logged out" holding $rest
check "$(t upgrade-list)" "every box is still there, as it was" test "$(vboxes)" = "$before"
check "$(t upgrade-sound)" "and as sound" sound vu06 vu13 vu20
out=$(as vu01 'echo id=$NSBOX_ID' 2>&1)
id=$(sed -n 's/^id=//p' <<< "$out")
check "$(t upgrade-new-login)" "a new login gets a box from the new helper: $out" \
        vm "[ -n '$id' ] && journalctl -q --no-pager --since=@$VM_MARK | grep -q 'nsbox-helper\[$new\]: event=start box=$id user=vu01 '"
check "$(t upgrade-version)" "nsbox --version says the new release" vm "nsbox --version | grep -qx 'nsbox $next_version'"
for u in $rest; do release $u; done
vm "rm -f /tmp/held-marker" > /dev/null
