#!/bin/bash
# Scenario: what the helper changes on the host, and only that.  A routed
# box (nat = yes) switches forwarding on; the host keeps taking IPv6 router
# advertisements meanwhile (a router ignores them unless accept_ra is 2, and
# switching forwarding on even drops the routes they gave); everything is
# logged, and put back when the last such box is gone, or by the next
# helper when one was killed.  A value the admin set is never touched.  The
# world's network namespace has an upstream router of its own, which sends
# real router advertisements.
source "$NSBOX_REPO/tests/lib/e2e.sh"
RA="python3 $NSBOX_REPO/tests/tools/ra.py"

setup_all
base=$(write_policy; cat /etc/security/nsbox.conf)
write_policy "[global]
pool4 = 10.213.0.0/16
pool6 = fd00:213::/64
$base
[user:alice]
network = veth
nat = yes"
sysctl_() { cat /proc/sys/net/$1; }

# The upstream router, and the host taking its advertisements as a host does.
ip netns add router
ip link add ra0 type veth peer name ra1 netns router
echo 1 > /proc/sys/net/ipv6/conf/ra0/accept_ra
ip link set ra0 up
ip -n router link set ra1 up
ip netns exec router sh -c 'echo 1 > /proc/sys/net/ipv6/conf/ra1/forwarding'
# Both link-local addresses done with duplicate address detection.
wait_for 50 bash -c "ip -6 addr show dev ra0 scope link | grep -q inet6 && ! ip -6 addr show dev ra0 | grep -q tentative &&
                     ip -n router -6 addr show dev ra1 scope link | grep -q inet6 && ! ip -n router -6 addr show dev ra1 | grep -q tentative"
ip netns exec router $RA ra1 2001:db8:7::/64
check host/ra-before "the host takes the router's advertisement: an address and a default route" \
        wait_for 50 bash -c "ip -6 route show default | grep -q 'dev ra0 proto ra' && ip -6 addr show dev ra0 | grep -q 2001:db8:7:"

# A NAT box with IPv6: forwarding on, advertisements still taken.
su alice -c 'sleep 60' &
held=$!
wait_for 50 box_up alice
check host/forwarding-on "a NAT box switches IPv4 and IPv6 forwarding on" \
        test "$(sysctl_ ipv4/ip_forward)$(sysctl_ ipv6/conf/all/forwarding)" = 11
check host/accept-ra-2 "interfaces that took advertisements (and the default) now take them as a router (accept_ra 2)" \
        test "$(sysctl_ ipv6/conf/ra0/accept_ra)$(sysctl_ ipv6/conf/default/accept_ra)" = 22
check host/ra-route-kept "the default route the advertisement gave is still there" \
        bash -c "ip -6 route show default | grep -q 'dev ra0 proto ra'"
ip netns exec router $RA ra1 2001:db8:8::/64
check host/ra-still-taken "a new advertisement is still taken while forwarding is on (a new address)" \
        wait_for 50 bash -c "ip -6 addr show dev ra0 | grep -q 2001:db8:8:"
check host/changes-logged "each change is logged with what it was" \
        bash -c "grep -q 'event=host-change object=/proc/sys/net/ipv4/ip_forward from=0 to=1 reason=nat' $W/out/syslog &&
                 grep -q 'event=host-change object=/proc/sys/net/ipv6/conf/ra0/accept_ra from=1 to=2' $W/out/syslog &&
                 grep -q 'event=host-change object=/proc/sys/net/ipv6/conf/all/forwarding from=0 to=1' $W/out/syslog"
check host/changes-listed "and listed in /run/nsbox/host-changes while in force" grep -q ip_forward /run/nsbox/host-changes
kill $held; wait $held 2>/dev/null

check host/restored "when the last box is gone, forwarding is off and accept_ra is 1 again" \
        wait_for 100 bash -c "[ \"\$(cat /proc/sys/net/ipv4/ip_forward)\$(cat /proc/sys/net/ipv6/conf/all/forwarding)\$(cat /proc/sys/net/ipv6/conf/ra0/accept_ra)\" = 001 ]"
check host/restore-logged "the restore is logged too" grep -q 'event=host-restore object=/proc/sys/net/ipv4/ip_forward from=1 to=0' $W/out/syslog
check host/list-gone "and the list is gone" test ! -e /run/nsbox/host-changes
check host/ra-after "the host still has its route from the advertisements" bash -c "ip -6 route show default | grep -q 'dev ra0 proto ra'"

# A helper killed with forwarding on: the next one puts it back at its start.
su alice -c 'sleep 60' &
held=$!
wait_for 50 box_up alice
pkill -KILL -x nsbox-helper
kill $held; wait $held 2>/dev/null
wait_for 50 no_init
check host/left-by-killed "a killed helper leaves its changes, and their list, though its box ended" \
        bash -c "[ \$(cat /proc/sys/net/ipv4/ip_forward) = 1 ] && [ -s /run/nsbox/host-changes ]"
su bob -c true
check host/recovered "the next helper undoes them as it starts (bob's box needs no forwarding)" \
        bash -c "[ \"\$(cat /proc/sys/net/ipv4/ip_forward)\$(cat /proc/sys/net/ipv6/conf/ra0/accept_ra)\" = 01 ] && [ ! -e /run/nsbox/host-changes ]"

# What the admin set is the admin's: neither logged as ours nor undone.
echo 1 > /proc/sys/net/ipv4/ip_forward
log_sync
n=$(grep -c 'object=/proc/sys/net/ipv4/ip_forward' $W/out/syslog)
su alice -c true
wait_for 50 no_boxes
sleep 3         # the table's linger
check host/admin-value-kept "forwarding the admin switched on stays on, untouched" \
        bash -c "[ \$(cat /proc/sys/net/ipv4/ip_forward) = 1 ] && [ \$(grep -c 'object=/proc/sys/net/ipv4/ip_forward' $W/out/syslog) = $n ]"
ip netns del router
exit 0
