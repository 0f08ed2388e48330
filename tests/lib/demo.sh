#!/bin/bash
# `make demo`: a real ssh login into a box, inside a throwaway test world.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam
write_policy
setup_fixtures
setup_probe
setup_sshd || { echo "sshd could not be started"; exit 1; }
echo "\$ ls /home                           # outside, in the test world"
ls /home
echo "\$ ssh alice@127.0.0.1 'echo \$NSBOX_ID; hostname; ps -e; ls /home'"
ssh_to alice 'echo "box $NSBOX_ID"; cat /proc/sys/kernel/hostname; ps -eo pid,user,comm; ls /home'
echo "\$ nsbox list                          # after logout"
sleep 0.3
$NSBOX list
