#!/bin/bash
# Attack 30: the networks the helper makes ahead of logins.  alice (in her
# box) and carol (exempt, on the host) look for them, try to get into one,
# to hold one, or to get the network bob's box had; bob races logins for
# them.  A prepared network has no process in it but its waiting init
# (root's, nsbox-prepared) and is held by the helper alone, each goes to
# one new box, and nothing of a box comes back.
source "$NSBOX_REPO/tests/lib/e2e.sh"
command -v nft >/dev/null || { skip attack30 "nft (nftables) is not installed"; exit 0; }
setup_pam; setup_fixtures; setup_probe
write_policy "[global]
pool4 = 10.213.0.0/16
prepared_linger = 2
[default]
network = veth"
host_ends() { ip -br link | awk '/^nsb/ {sub(/@.*/, "", $1); print $1}' | sort; }
listed() { $NSBOX list --json | sed -n 's/.*"id": "\([0-9a-f]*\)".*/nsb\1/p' | sort; }
prepared() { comm -23 <(host_ends) <(listed); }
two_prepared() { [ "$(prepared | wc -l)" = 2 ]; }

su alice -c 'sleep 60' &
a=$!
wait_for 50 box_up alice
wait_for 50 two_prepared
helper=$(pgrep -x nsbox-helper)
# The net namespaces processes are in: the host's and the box's; the
# prepared ones hold their root-owned inits alone.
check attack30/no-process "no process of anyone is in a prepared network: only its init, root's, waiting" \
        bash -c "[ \"\$(for p in /proc/[0-9]*; do [ \"\$(cat \$p/comm 2>/dev/null)\" = nsbox-prepared ] || readlink \$p/ns/net; done 2>/dev/null | sort -u | wc -l)\" = 2 ] &&
                 [ \"\$(ps -o user= -C nsbox-prepared | sort -u)\" = root ]"
check attack30/helper-fds "carol cannot open the helper's fds, which hold them" \
        not setpriv --reuid carol --regid carol --clear-groups ls /proc/$helper/fd
check attack30/helper-nsenter "nor enter a net namespace through them" \
        not setpriv --reuid carol --regid carol --clear-groups \
        bash -c "for f in /proc/$helper/fd/*; do nsenter --net=\$f true && exit 0; done; exit 1"
su alice -c 'ip -br link' > $W/out/alice.links 2>&1
check attack30/box-blind "alice in her box sees no prepared network's link" \
        test "$(grep -c '^nsb' $W/out/alice.links)" = 0

# bob's box ends; alice and bob then log in again and again: nobody gets
# what bob's box had, and every box gets a network no one had.
su bob -c 'sleep 30' &
b=$!
wait_for 50 box_up bob
bid=$(box_field bob id)
kill $b; wait $b 2>/dev/null
wait_for 50 bash -c "! ip link show nsb$bid 2>/dev/null"
seen=$W/out/seen
: > $seen
pids=()
for i in $(seq 12); do
        u=$( ((i % 2)) && echo alice || echo bob)
        su $u -c 'echo $NSBOX_ID' >> $seen 2>/dev/null &
        pids+=($!)
done
wait "${pids[@]}"
check attack30/race-boxed "12 racing logins of alice and bob were all boxed" test "$(grep -cx '[0-9a-f]\{8\}' $seen)" = 12
check attack30/never-back "none got the network of bob's ended box" not grep -qx "$bid" $seen
check attack30/fresh-ids "each got a box, and a network, of its own" test -z "$(sort $seen | uniq -d)"
kill $a 2>/dev/null; wait $a 2>/dev/null
check attack30/gone "when the boxes end, no prepared network is left after their linger (2 s here)" \
        wait_for 80 bash -c "! ip -br link | grep -q '^nsb'"
exit 0
