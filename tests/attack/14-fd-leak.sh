#!/bin/bash
# Attack 14: alice lists /proc/self/fd in her session: no fd of the module,
# the helper or the policy is there.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_all; write_policy
leaky() { grep -E 'socket:|anon_inode|mnt:|pid:|net:|uts:|ipc:|user:|nsbox' "$1"; }
su alice -c 'ls -l /proc/self/fd' > $W/out/fd.su 2>&1
check attack14/su "su's session holds no fd of ours ($(leaky $W/out/fd.su | head -c 200))" not leaky $W/out/fd.su
runuser -u alice -- ls -l /proc/self/fd > $W/out/fd.runuser 2>&1
check attack14/runuser "nor runuser's" not leaky $W/out/fd.runuser
if [ $have_sshd = yes ]; then
        ssh_to alice 'ls -l /proc/self/fd' > $W/out/fd.ssh 2>&1
        check attack14/ssh "nor ssh's" not leaky $W/out/fd.ssh
fi
login_run alice "ls -l /proc/self/fd > /home/alice/fd.login"
check attack14/login "nor login's" not leaky /home/alice/fd.login

# The last check decides nothing about the exit status; a death before here does.
exit 0
