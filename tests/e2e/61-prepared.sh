#!/bin/bash
# Scenario: veth boxes made ahead of logins (prepared_boxes).  While veth
# boxes live, the helper keeps that many more boxes of their kind made: an
# nsbox-init waiting as nsbox-prepared in a net namespace with its veth
# pair, addresses, routes and nftables elements.  A new box is started in
# one: it works as any box, isolated as any box, and carries nothing of
# anyone.  The prepared ones are nobody's: not listed, not counted against
# a user, kept prepared_linger after the last box of their kind and no
# longer, not kept when the helper dies, and they give their leases back
# when the pool is full.
source "$NSBOX_REPO/tests/lib/e2e.sh"
TCP="python3 $NSBOX_REPO/tests/tools/tcp.py"

command -v nft >/dev/null || { skip prepared "nft (nftables) is not installed to inspect the ruleset"; exit 0; }
setup_all
# The default policy of the tests, with the default linger.
base=$(write_policy; grep -v '^prepared_linger' /etc/security/nsbox.conf)
net_policy() {
        write_policy "[global]
pool4 = ${pool4:-10.213.0.0/16}
pool6 = fd00:213::/64
$1
$base
[default]
network = veth"
}
links() { ip -br link | awk '{print $1}' | sort; }
host_ends() { ip -br link | awk '/^nsb/ {sub(/@.*/, "", $1); sub(/^nsb/, "", $1); print $1}' | sort; }
n_host_ends() { host_ends | wc -l; }
listed_ids() { $NSBOX list --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' | sort; }
prepared_ids() { comm -23 <(host_ends) <(listed_ids); }
n_links_is() { [ "$(ip -br link | grep -c '^nsb')" = "$1" ]; }
only_host_end() { [ "$(host_ends | tr '\n' ' ')" = "$1 " ]; }
all_clean() { [ "$(links)" = "$links_before" ] && ruleset_clean && run_clean; }
chmod 1777 $W/out
$TCP listen 0.0.0.0 7001 $W/out/host4.log &
$TCP listen :: 7006 $W/out/host6.log &
links_before=$(links)
ruleset_before=$(nft list ruleset)
sleep 0.3
out=$W/out/prep.probe

# --- made while a box lives, and nobody's ---
net_policy ""
su alice -c "$TCP listen 0.0.0.0 8080 $W/out/alice8080.log & sleep 60" &
a=$!
wait_for 50 box_up alice
check prepared/made "with one box, two more networks of its kind are made (the default)" \
        wait_for 50 n_links_is 3
check prepared/not-listed "nsbox list shows the box alone" test "$(listed_ids | wc -l)" = 1
check prepared/no-process "no process of anyone's is in them: one nsbox-init, the box's, and two waiting as nsbox-prepared" \
        bash -c '[ "$(pgrep -c -x nsbox-init)" = 1 ] && [ "$(pgrep -c -x nsbox-prepared)" = 2 ]'
ready=$(prepared_ids)
check prepared/isolated-from-birth "each one's host end is in the isolation sets already" \
        bash -c "for id in $(echo $ready); do nft list set inet nsbox isolated | grep -q nsb\$id || exit 1; done"

# --- a new box is started in one, and works as any box ---
su bob -c "ip -br -4 addr show eth0; ip -br -6 addr show eth0 scope global; ip route; ip -6 route
           echo links=\$(ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d ' ' | sort | tr '\n' ,)
           echo sockets=\$(tail -n +2 /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 | grep -c :)
           $TCP connect \$(ip route | awk '/^default/ {print \$3}') 7001 bob4 && echo tcp4=ok
           $TCP connect fd00:213::\$(ip -6 route | awk '/^default/ {print \$3}' | sed 's/.*:://') 7006 bob6 && echo tcp6=ok
           echo id=\$NSBOX_ID; sleep 20" > $out 2>&1 &
b=$!
wait_for 50 box_up bob
bid=$(box_field bob id)
check prepared/used "bob's box took one of them: its id is a prepared network's" grep -qx "$bid" <<< "$ready"
check prepared/logged "its debug record says the network was prepared" \
        wait_for 30 grep -q "event=step .*box=$bid .*step=network:prepared" $W/out/syslog
wait_for 50 grep -q '^id=' $out
check prepared/address "its eth0 has its lease's addresses" \
        bash -c "grep -q '^eth0@.* 10\.213\.[0-9.]*/30' $out && grep -q '^eth0@.* fd00:213::[0-9a-f]*/126' $out"
check prepared/route "and a default route through its host end" grep -q '^default via 10.213.' $out
check prepared/tcp4 "it reaches the host over IPv4" grep -q '^tcp4=ok' $out
check prepared/tcp6 "and over IPv6" grep -q '^tcp6=ok' $out
check prepared/fresh-links "it sees its own lo and eth0, nothing else" \
        test "$(value links $out)" = "eth0,lo,"
check prepared/fresh-sockets "and no socket of anyone" test "$(value sockets $out)" = 0
aaddr=$(box_field alice addresses)
su bob -c "$TCP connect $aaddr 8080 bob-to-alice && echo reached=yes" > $W/out/iso.probe 2>&1
check prepared/isolate "it cannot reach alice's box (isolate = yes)" not grep -q 'reached=yes' $W/out/iso.probe
check prepared/isolate-log "whose listener saw nothing" not grep -q 'bob-to-alice' $W/out/alice8080.log
baddr=$(box_field bob addresses)
check prepared/anti-spoof "its source addresses are its own in the nftables sets" \
        bash -c "nft list set inet nsbox src4 | grep -q 'nsb$bid\\\"* \\. $baddr'"
check prepared/refilled "the pool is made up again: two boxes and two prepared networks" \
        wait_for 50 n_links_is 4

# --- used once: a box's network never comes back ---
kill $b 2>/dev/null
wait $b 2>/dev/null
wait_for 50 bash -c "! ip link show nsb$bid 2>/dev/null"
su bob -c 'sleep 20' &
b=$!
wait_for 50 box_up bob
check prepared/never-reused "an ended box's network is not handed out again" test "$(box_field bob id)" != "$bid"
check prepared/not-kept "nor kept: its host end is gone" not ip link show nsb$bid
kill $a $b 2>/dev/null
wait $a $b 2>/dev/null
wait_for 50 no_boxes
lingering=$(prepared_ids)
check prepared/linger-kept "after the last box of their kind, its two prepared boxes linger (prepared_linger, 30 s)" \
        bash -c "[ $(echo $lingering | wc -w) = 2 ] && [ \"\$(pgrep -c -x nsbox-prepared)\" = 2 ] && ! pgrep -x nsbox-init"
check prepared/linger-unlisted "and are listed nowhere" no_boxes
# A login within the linger takes one; prepared_linger = 2 from its policy on.
net_policy "prepared_linger = 2"
su alice -c 'echo id=$NSBOX_ID' > $out 2>&1
check prepared/linger-used "a login in that time starts in one of them" grep -qx "$(value id $out)" <<< "$lingering"
wait_for 50 no_boxes
check prepared/gone-links "when the linger is over, the prepared boxes go: links as before" \
        wait_for 50 bash -c "[ \"\$(ip -br link | awk '{print \$1}' | sort)\" = \"$links_before\" ]"
check prepared/gone-ruleset "and the ruleset" wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"
check prepared/gone-init "and no nsbox-init or nsbox-prepared is left" \
        wait_for 30 bash -c '! pgrep -x nsbox-init && ! pgrep -x nsbox-prepared'

# --- racing logins, a full pool ---
pids=()
for i in $(seq 8); do
        su alice -c "ip -br -4 addr show eth0 | awk '{print \$3}'; sleep 4" > $W/out/race.$i 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
check prepared/race-all "8 logins (8 boxes) at once, some in prepared networks, all got an address" \
        test "$(cat $W/out/race.* | grep -c '^10\.213\.')" = 8
check prepared/race-distinct "and no two share one" test "$(cat $W/out/race.* | sort -u | wc -l)" = 8
wait_for 50 no_boxes
# Their host ends keep their leases until the kernel has removed them
# (a drain), and their addresses are in the /28 below.
wait_for 50 n_links_is 0
# A /28 holds four leases: two boxes and two prepared networks fill it.
pool4=10.213.0.0/28 net_policy ""
pids=()
for u in alice alice alice alice; do
        su $u -c 'sleep 20' &
        pids+=($!)
        wait_for 50 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = ${#pids[@]} ]"
        sleep 0.5
done
check prepared/pool-full "with the pool full of prepared networks, every login still gets a lease" \
        test "$(box_count)" = 4
check prepared/pool-full-logged "nothing failed for it" not grep -q 'event=prepare-failed' $W/out/syslog
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
wait_for 50 no_boxes

# --- the helper dies: they go with it; its boxes stay ---
net_policy "prepared_linger = 2"
su alice -c "sleep 2; $TCP connect \$(ip route | awk '/^default/ {print \$3}') 7001 after-helper-death; sleep 60" &
a=$!
wait_for 50 box_up alice
aid=$(box_field alice id)
wait_for 50 n_links_is 3
pkill -KILL -x nsbox-helper
check prepared/helper-death "after SIGKILL of the helper its prepared networks go, and the box's stays" \
        wait_for 50 only_host_end $aid
check prepared/helper-death-box "the box still reaches the host" wait_for 60 grep -q 'after-helper-death' $W/out/host4.log
su bob -c 'ip -br -4 addr show eth0' > $out 2>&1
check prepared/after-death-lease "the next helper's first box gets a lease of its own" \
        bash -c "grep -q ' 10\.213\.' $out && ! grep -q ' $(box_field alice addresses)/' $out"
# Held alive from outside (or still being removed by the kernel) when the
# next helper starts: it hands out none of their leases, and deletes them
# after a grace period, as the pair of a box that ended.
wait_for 50 n_links_is 3
helper=$(pgrep -x nsbox-helper)
own=$(readlink /proc/self/ns/net)
keepers=()
for f in /proc/$helper/fd/*; do
        ns=$(readlink $f)
        [ "${ns#net:}" != "$ns" ] && [ "$ns" != "$own" ] || continue
        nsenter --net=$f sleep 30 &
        keepers+=($!)
done
held=$(prepared_ids)
held_boxes=$(for id in $held; do ip -4 addr show dev nsb$id | sed -n 's/.* peer \([0-9.]*\)\/32.*/\1/p'; done)
pkill -KILL -x nsbox-helper
sleep 1
check prepared/held-kept "with the helper killed, the two it made ahead are kept alive from outside" \
        test "$(comm -12 <(echo "$held") <(host_ends) | wc -l)" = 2
su bob -c 'ip -br -4 addr show eth0' > $out 2>&1
check prepared/sweep-lease "the next helper's first box gets neither of their leases" \
        bash -c "grep -q ' 10\.213\.' $out && ! grep -qF -f <(echo '$held_boxes' | sed 's/\$/\//') $out"
check prepared/sweep-logged "it says it found them" grep -q 'event=sweep host-ends=2' $W/out/syslog
check prepared/sweep-deleted "and deletes them after the grace period" \
        wait_for 50 bash -c "for id in $(echo $held); do ! ip link show nsb\$id 2>/dev/null || exit 1; done"
kill "${keepers[@]}" 2>/dev/null
wait "${keepers[@]}" 2>/dev/null
kill $a 2>/dev/null
wait $a 2>/dev/null

# --- prepared_networks = 0 ---
wait_for 50 no_boxes
net_policy "prepared_networks = 0"
su alice -c 'sleep 20' &
a=$!
wait_for 50 box_up alice
sleep 1
check prepared/disabled "with prepared_networks = 0 none is made" test "$(ip -br link | grep -c '^nsb')" = 1
kill $a 2>/dev/null
wait $a 2>/dev/null
check prepared/left-nothing "at the end: links, ruleset and /run as before" \
        wait_for 60 all_clean
