#!/bin/bash
# Attack 9: alice looks for bob's box: /proc, PID 1's mountinfo, ps, /home,
# /tmp, abstract unix sockets (with a network of its own), bob's address.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy "$(write_policy; cat /etc/security/nsbox.conf)
[default]
network = veth"
su bob -c "touch /tmp/bob-was-here; python3 -c \"
import socket, time
s = socket.socket(socket.AF_UNIX); s.bind('\\\\0bob-secret'); s.listen(1); time.sleep(20)\" & sleep 20" &
held=$!
wait_for 50 box_up bob
sleep 0.5
baddr=$(box_field bob addresses)
out=$W/out/seeing
su alice -c "
        ps -eo user | grep -c '^bob' ; echo procs
        grep -c bob /proc/1/mountinfo; echo mountinfo
        ls /home | tr '\n' ' '; echo homes
        ls /tmp | grep -c bob-was-here; echo tmp
        python3 -c \"
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\\\0bob-secret'); print('ABSTRACT-REACHED')
except OSError: print('abstract-unreachable')\"
        timeout 3 python3 $NSBOX_REPO/tests/tools/tcp.py connect $baddr 22 x 2>/dev/null && echo ADDRESS-REACHED || echo address-unreachable
" > $out 2>&1
check attack9/no-bob-processes "alice sees no process of bob's" grep -qx '0' <(sed -n 1p $out)
check attack9/no-bob-mounts "nor anything of bob in PID 1's mountinfo" test "$(sed -n 3p $out)" = 0
check attack9/homes "nor bob's home: /home holds alice's alone ($(sed -n 5p $out))" test "$(sed -n 5p $out)" = "alice homes"
check attack9/tmp "nor bob's /tmp" test "$(sed -n 6p $out)" = 0
check attack9/abstract "nor reach bob's abstract socket" grep -q abstract-unreachable $out
check attack9/address "nor bob's address" grep -q address-unreachable $out
kill $held 2>/dev/null; wait $held 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
