#!/bin/bash
# Scenario: a veth-backed network for every box.  Each login has its own
# addresses and default route, reaches the host end over IPv4 and IPv6,
# gets out through NAT or a bridge, can listen on the same port as another
# user, cannot reach an isolated box nor spoof its source, and leaves the
# host's interfaces, routes, ruleset and leases as they were.  Everything
# happens in the test world's own network namespace, with real traffic.
source "$NSBOX_REPO/tests/lib/e2e.sh"
TCP="python3 $NSBOX_REPO/tests/tools/tcp.py"

command -v nft >/dev/null || { skip network "nft (nftables) is not installed to inspect the ruleset"; exit 0; }
setup_all
base=$(write_policy; cat /etc/security/nsbox.conf)
net_policy() {
        write_policy "[global]
pool4 = 10.213.0.0/16
pool6 = fd00:213::/64
$base
[default]
network = veth
dns = 192.0.2.53
$1"
}
links() { ip -br link | awk '{print $1}' | sort; }
routes() { ip route; ip -6 route; }
links_before=$(links)
routes_before=$(routes)
ruleset_before=$(nft list ruleset)
chmod 1777 $W/out      # listeners inside boxes run as the users

# The world's listener on every address, and an upstream network behind a
# second namespace for NAT.
$TCP listen 0.0.0.0 7001 $W/out/host4.log &
$TCP listen :: 7006 $W/out/host6.log &
ip netns add upstream
ip link add upl type veth peer name upr netns upstream
ip addr add 192.0.2.1/24 dev upl
ip link set upl up
ip -n upstream addr add 192.0.2.2/24 dev upr
ip -n upstream link set upr up
ip -n upstream link set lo up
ip netns exec upstream $TCP listen 192.0.2.2 7002 $W/out/upstream.log &
links_before=$(links)   # with the test's own links, which stay
routes_before=$(routes)
sleep 0.3

net_policy "[user:alice]
nat = yes"
# Unprivileged ping, as systemd opens it on Debian 13 (Debian 12's ping has
# a file capability instead): a box's net namespace mirrors the host.
echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range

# --- addresses, routes, the host end ---
out=$W/out/net.probe
su alice -c "ip -br -4 addr show eth0; ip -br -6 addr show eth0 scope global; ip route; ip -6 route; cat /etc/resolv.conf
             echo eth0_queues=\$(ip -d link show eth0 | grep -o 'numtxqueues [0-9]* numrxqueues [0-9]*' | tr ' ' _)
             $TCP connect 10.213.0.1 7001 alice4 && echo tcp4=ok
             $TCP connect fd00:213::1 7006 alice6 && echo tcp6=ok
             $TCP connect 192.0.2.2 7002 alice-nat && echo nat=ok
             echo ping_groups=\$(cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' ')
             echo id=\$NSBOX_ID" > $out 2>&1
id=$(value id $out)
check net/eth0-v4 "eth0 carries the leased IPv4 address" grep -q '^eth0@.* 10.213.0.2/30' $out
check net/eth0-v6 "eth0 carries the leased IPv6 address" grep -q '^eth0@.* fd00:213::2/126' $out
check net/route-v4 "the default route goes through the host end" grep -q '^default via 10.213.0.1 dev eth0' $out
check net/route-v6 "the IPv6 default route goes through the host end" grep -q '^default via fd00:213::1 dev eth0' $out
check net/dns "resolv.conf names the policy's server" grep -qx 'nameserver 192.0.2.53' $out
check net/tcp4 "a TCP connection to the host end over IPv4 succeeds" grep -q '^tcp4=ok' $out
check net/tcp4-peer "the host sees the box's address" grep -q '^10.213.0.2 alice4' $W/out/host4.log
check net/tcp6 "and over IPv6" grep -q '^tcp6=ok' $out
check net/tcp6-peer "the host sees the box's IPv6 address" grep -q '^fd00:213::2 alice6' $W/out/host6.log
check net/nat "with nat, the box reaches the upstream network" grep -q '^nat=ok' $out
check net/nat-peer "the upstream listener sees the host's address as the peer" grep -q '^192.0.2.1 alice-nat' $W/out/upstream.log
check net/ping-groups "the box's ping_group_range is the host's (unprivileged ping works as on the host)" \
        test "$(value ping_groups $out)" = "0 2147483647"
check net/one-queue "eth0 is made with one queue each way (not one per CPU, cut down after registering)" \
        test "$(value eth0_queues $out)" = "numtxqueues_1_numrxqueues_1"
check net/start-record "the start record names the leased addresses" grep -q "event=start .* addresses=10.213.0.2,fd00:213::2" $W/out/syslog
check net/forwarding-logged "switching on forwarding for nat was logged" grep -q 'event=host-change object=/proc/sys/net/ipv4/ip_forward from=0 to=1 reason=nat' $W/out/syslog
check net/teardown-links "after logout the host's interface list is as before" wait_for 20 bash -c "[ \"\$(ip -br link | awk '{print \$1}' | sort)\" = \"$links_before\" ]"
check net/teardown-routes "and its routes" test "$(routes)" = "$routes_before"
# Without nat, nothing comes back from upstream: bob's box gets the address
# alice's had, in the table that lingers a moment after her box ended, which
# must not masquerade it any more.
check net/table-lingers "the project's table lingers a moment after the last box" \
        bash -c "nft list tables | grep -qx 'table inet nsbox'"
su bob -c "ip -br -4 addr show eth0; $TCP connect 192.0.2.2 7002 bob-nat && echo nat=ok" > $out 2>&1
check net/no-nat-same-address "bob's box has the address alice's had" grep -q ' 10.213.0.2/30' $out
check net/no-nat "without nat the upstream network is not reachable" not grep -q '^nat=ok' $out
check net/teardown-ruleset "then the nftables ruleset is as before" \
        wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"

# --- while a box lives: its host end, list, lease ---
su alice -c 'sleep 30' &
held=$!
wait_for 50 box_up alice
json=$($NSBOX list --json)
hostif=nsb$(echo "$json" | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p')
check net/host-end "the host end nsb<ID> exists on the host" ip link show $hostif
check net/host-end-len "and its name fits IFNAMSIZ" test ${#hostif} -le 15
# A link-local address would put routes of each box in the host's one IPv6
# table, which the kernel walks whole at every link change there.
check net/host-end-no-link-local "the host end has no IPv6 link-local address, and the host no route of one" \
        bash -c "ip -6 addr show dev $hostif | grep -q 'fd00:213::1/126' && ! ip -6 addr show dev $hostif | grep -q 'scope link' &&
                 ! ip -6 route show table all dev $hostif | grep -q fe80"
# Each multicast packet a host end takes in costs the host a walk of one
# route per host end: the box's eth0 sends no DAD probe nor router
# solicitation.
# Each route of a host end is walked at every link change on the host.
check net/host-end-peer "the host end's IPv4 address is point to point: a route to the box, no prefix or broadcast route" \
        bash -c "ip -4 addr show dev $hostif | grep -q 'inet 10.213.0.1 peer 10.213.0.2/32' &&
                 [ \"\$(ip -4 route show table all dev $hostif | sed 's/ proto.*//' | sort | tr '\n' ,)\" = '10.213.0.2,local 10.213.0.1 table local,' ]"
check net/box-end-quiet "the box's eth0 does no duplicate address detection and sends no router solicitation" \
        bash -c "[ \"\$($NSBOX enter alice -- cat /proc/sys/net/ipv6/conf/eth0/accept_dad /proc/sys/net/ipv6/conf/eth0/accept_ra | tr -d '\n')\" = 00 ]"
check net/one-queue-host "it too is made with one queue each way" \
        bash -c "ip -d link show $hostif | grep -q 'numtxqueues 1 numrxqueues 1 '"
check net/list-addresses "nsbox list --json shows the addresses" \
        $PY $NSBOX_REPO/tests/tools/jsoncheck.py 'box("alice")["addresses"] == ["10.213.0.2", "fd00:213::2"]' <<< "$json"
check net/table-owned "the rules live in the project's own table inet nsbox" bash -c "nft list tables | grep -qx 'table inet nsbox'"

# SIGKILL of the login process: everything of its box goes all the same.
kill -KILL $held
wait $held 2>/dev/null
check net/sigkill-links "after SIGKILL of the login the interface list is as before" \
        wait_for 20 bash -c "[ \"\$(ip -br link | awk '{print \$1}' | sort)\" = \"$links_before\" ]"
check net/sigkill-ruleset "and the ruleset" wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"
su alice -c 'ip -br -4 addr show eth0' > $out
check net/sigkill-lease "and the lease is free again: the next box gets the first block" grep -q '10.213.0.2/30' $out

# A box's net namespace held alive from outside (here by root; a user can
# do it with an fd of their own box): the pair outlives the box, so its lease
# stays taken until the helper, after a grace period, deletes the host end.
wait_for 50 bash -c "! ip -br link | grep -q '^nsb'"
# The box of the last login may still be listed while it ends.
wait_for 30 no_boxes
su alice -c 'sleep 30' &
held=$!
wait_for 50 box_up alice
hostif=nsb$(box_field alice id)
held_addr=$(box_field alice addresses)
held_ns=$(readlink /proc/$(box_field alice pid)/ns/net)
nsenter --net=/proc/$(box_field alice pid)/ns/net sleep 30 &
keeper=$!
wait_for 50 bash -c "[ \"\$(readlink /proc/$keeper/ns/net)\" = '$held_ns' ]"
kill -KILL $held
wait $held 2>/dev/null
wait_for 30 no_boxes
check net/held-netns-link "a net namespace held from outside keeps the host end after the box ended" ip link show $hostif
su alice -c 'ip -br -4 addr show eth0' > $out
check net/held-netns-lease "meanwhile its lease is not handed out again" not grep -q " $held_addr/30" $out
check net/held-netns-deleted "after the grace period the helper deletes the host end" \
        wait_for 50 bash -c "! ip link show $hostif 2>/dev/null"
check net/held-netns-logged "and says so" grep -q "outlived its box; deleting $hostif" $W/out/syslog
su alice -c 'ip -br -4 addr show eth0' > $out
check net/held-netns-freed "then the lease is free again" grep -q " $held_addr/30" $out
kill $keeper; wait $keeper 2>/dev/null

# SIGKILL of the helper ends no box: the network stays as it was, host end
# and table included; when the box ends, with no helper, its pair goes with
# its namespace, and the next helper clears the table of what it left.
su alice -c "sleep 2; $TCP connect \$(ip route | awk '/^default/ {print \$3}') 7001 after-helper-death && sleep 30" &
held=$!
wait_for 50 box_up alice
hostif=nsb$(box_field alice id)
pkill -KILL -x nsbox-helper
check net/helper-sigkill-kept "after SIGKILL of the helper the box keeps its host end and table" \
        bash -c "sleep 0.5; ip link show $hostif >/dev/null && nft list set inet nsbox ifaces | grep -q $hostif"
check net/helper-sigkill-traffic "and reaches the host" wait_for 60 grep -q 'after-helper-death' $W/out/host4.log
kill $held; wait $held 2>/dev/null
check net/helper-dead-links "when it ends, with no helper, no host end remains" \
        wait_for 30 bash -c "! ip -br link | grep -q '^nsb'"
su bob -c true
check net/helper-dead-ruleset "and after the next helper's first box the ruleset is as before" \
        wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"

# --- two users, one port; isolation ---
net_policy ""
su alice -c "$TCP listen 0.0.0.0 8080 $W/out/alice8080.log & sleep 60" &
a=$!
su bob -c "$TCP listen 0.0.0.0 8080 $W/out/bob8080.log & sleep 60" &
b=$!
wait_for 50 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = 2 ]"
json=$($NSBOX list --json)
addr_of() { box_field $1 addresses; }
aaddr=$(addr_of alice)
baddr=$(addr_of bob)
sleep 0.5
check net/same-port-alice "alice listens on 8080 in her box" $TCP connect $aaddr 8080 world-to-alice
check net/same-port-bob "bob listens on 8080 in his box at the same time" $TCP connect $baddr 8080 world-to-bob
check net/distinct "their boxes have distinct addresses" test "$aaddr" != "$baddr"
su alice -c "$TCP connect $baddr 8080 alice-to-bob && echo reached=yes" > $out 2>&1
check net/isolate "with isolate = yes alice cannot reach bob's box" not grep -q 'reached=yes' $out
check net/isolate-log "bob's listener saw nothing from alice" not grep -q 'alice-to-bob' $W/out/bob8080.log
# A box may not send from another address: a compromised box (root adds an
# address inside it) still cannot reach the host with it.
apid=$(box_field alice pid)
nsenter --net=/proc/$apid/ns/net ip addr add 10.213.77.77/32 dev eth0
check net/anti-spoof "a packet from a forged source is dropped" \
        not nsenter --net=/proc/$apid/ns/net $TCP connect 10.213.0.1 7001 spoofed 10.213.77.77
check net/anti-spoof-own "while the box's own address still works" \
        nsenter --net=/proc/$apid/ns/net $TCP connect 10.213.0.1 7001 genuine $aaddr
kill $a $b 2>/dev/null
wait $a $b 2>/dev/null
wait_for 40 no_boxes

net_policy "isolate = no"
su bob -c "$TCP listen 0.0.0.0 8080 $W/out/bob8080b.log & sleep 6" &
b=$!
wait_for 50 box_up bob
json=$($NSBOX list --json)
baddr=$(addr_of bob)
sleep 0.5
su alice -c "$TCP connect $baddr 8080 alice-to-bob && echo reached=yes" > $out 2>&1
check net/no-isolate "with isolate = no alice reaches bob's box" grep -q 'reached=yes' $out
kill $b 2>/dev/null
wait $b 2>/dev/null
wait_for 40 no_boxes

# --- 50 boxes at once ---
net_policy ""
pids=()
for i in $(seq 50); do
        su alice -c "ip -br -4 addr show eth0 | awk '{print \$3}'; sleep 3" > $W/out/par.$i 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: the listeners never end
check net/parallel-all "50 boxes started in parallel all got an address" test "$(cat $W/out/par.* | grep -c '^10\.213\.')" = 50
check net/parallel-distinct "and no two share one" test "$(cat $W/out/par.* | sort -u | wc -l)" = 50
check net/parallel-teardown "afterwards the interface list is as before" \
        wait_for 50 bash -c "[ \"\$(ip -br link | awk '{print \$1}' | sort)\" = \"$links_before\" ]"
check net/parallel-ruleset "and the ruleset" wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"

# --- the table changed behind the helper's back ---
# An admin removes the table while a box lives (as nftables.service's
# reload does with "flush ruleset"): the helper makes it anew at once, as
# it was, with the live box's elements, and says who changed it.  A second
# change within the second is undone at the second's end; a login meanwhile
# has its elements refused and is denied, naming the set and the error, and
# nothing half made stays.
write_policy "[global]
pool4 = 10.213.0.0/16
pool6 = fd00:213::/64
prepared_boxes = 0
$base
[default]
network = veth"
su alice -c 'sleep 30' &
held=$!
wait_for 50 box_up alice
table_before=$(nft list table inet nsbox)
mark=$(wc -l < $W/out/syslog)
nft delete table inet nsbox
wait_for 20 nft list table inet nsbox >/dev/null 2>&1
table_after=$(nft list table inet nsbox 2>&1)
# again, within the second: the next making waits for its end
nft delete table inet nsbox
su bob -c 'echo bob=in' > $out 2>&1
log_sync
check net/nft-rebuilt "removed under a live box, the table is back at once, as it was, with her elements" \
        test "$table_after" = "$table_before"
check net/nft-rebuilt-log "and the helper says so, naming who changed it" \
        bash -c "tail -n +$((mark + 1)) $W/out/syslog | grep -q 'event=nft-rebuilt object=\"table inet nsbox\" boxes=1 by=nft\\[[0-9]*\\]'"
if grep -q '^bob=in' $out; then
        skip net/elements-refused "the table was back before bob's login (a slow machine): the refusal was not seen"
else
        check net/elements-refused "removed again within the second, a new box's elements are refused and the login denied" true
        check net/elements-refused-log "the denial names the step, the set and the kernel's error" \
                bash -c "tail -n +$((mark + 1)) $W/out/syslog | grep -q 'event=denied user=bob .*step=nftables object=element of set ifaces: No such file or directory'"
fi
check net/elements-refused-clean "and leaves no host end of bob's behind" \
        wait_for 20 bash -c "[ \$(ip -br link | grep -c '^nsb') = 1 ]"
check net/nft-rebuilt-again "the second change is undone at the second's end" \
        wait_for 30 bash -c "[ \"\$(nft list table inet nsbox 2>&1)\" = \"\$1\" ]" _ "$table_before"
mark2=$(wc -l < $W/out/syslog)
nft flush set inet nsbox ifaces
check net/nft-rebuilt-elements "her elements removed by someone else are put back" \
        wait_for 30 bash -c "[ \"\$(nft list table inet nsbox 2>&1)\" = \"\$1\" ]" _ "$table_before"
kill $held 2>/dev/null
wait $held 2>/dev/null
wait_for 40 no_boxes
check net/nft-own-quiet "the helper's own changes (her box's end) are not taken for someone else's" \
        bash -c "[ \$(tail -n +$((mark2 + 1)) $W/out/syslog | grep -c 'event=nft-rebuilt') = 1 ]"
su alice -c "ip -br -4 addr show eth0; $TCP connect 10.213.0.1 7001 alice-again && echo tcp4=ok" > $out 2>&1
check net/elements-table-anew "the next box gets the table, with its elements" \
        bash -c "grep -q '^tcp4=ok' $out && nft list tables | grep -qx 'table inet nsbox'"
check net/elements-ruleset "and at the end the ruleset is as before" \
        wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"

# --- bridge ---
ip link add br0 type bridge
ip addr add 10.214.0.254/24 dev br0
ip link set br0 up
ip netns add peer
ip link add brp type veth peer name eth0 netns peer
ip link set brp master br0 up
ip -n peer addr add 10.214.0.250/24 dev eth0
ip -n peer link set eth0 up
ip netns exec peer $TCP listen 10.214.0.250 7003 $W/out/peer.log &
sleep 0.3
write_policy "[global]
pool4 = 10.214.0.0/24
$base
[default]
network = veth
bridge = br0
gateway = 10.214.0.254"
su alice -c "ip -br -4 addr show eth0; ip route; $TCP connect 10.214.0.250 7003 alice-bridge && echo bridge=ok" > $out 2>&1
check net/bridge "on a bridge the box reaches another host there" grep -q '^bridge=ok' $out
check net/bridge-peer "which sees the box's own address" grep -q '^10.214.0.2 alice-bridge' $W/out/peer.log
check net/bridge-gateway "the default route goes through the gateway" grep -q '^default via 10.214.0.254 dev eth0' $out
check net/bridge-teardown "the bridge has no port of the box left" \
        wait_for 20 bash -c "[ \"\$(ip -br link show master br0 | awk '{print \$1}')\" = brp@if2 ]"

# --- loopback only ---
write_policy "$base
[default]
network = loopback"
su alice -c 'ip -br link' > $out 2>&1
check net/loopback "network = loopback gives only lo, up" \
        bash -c "[ \"\$(awk '{print \$1, \$2}' $out)\" = 'lo UNKNOWN' ]"

# --- check warns about an unreachable loopback resolver ---
printf 'nameserver 127.0.0.53\n' > $W/resolv.conf
mount --bind $W/resolv.conf /etc/resolv.conf
$NSBOX check > $out 2>&1
check net/check-dns-warning "nsbox check warns when boxes cannot reach a loopback resolver" grep -q 'loopback resolver' $out
umount /etc/resolv.conf
check net/links-final "at the end the host's interfaces are the test's own only" \
        wait_for 20 bash -c "! ip -br link | grep -q '^nsb'"

# The last check decides nothing about the exit status; a death before here does.
exit 0
