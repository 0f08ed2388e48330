#!/bin/bash
# Attack 11: alice builds a fake box — her own namespaces, a process named
# like the helper — and hopes the module joins it.  Boxes come only from
# the root-owned socket of the real helper.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
setpriv --reuid alice --regid alice --clear-groups unshare -r -m -p -f --mount-proc \
        bash -c 'exec -a nsbox-helper sleep 30' &
fake=$!
sleep 0.3
check attack11/cannot-plant "alice cannot create the helper's directory or socket" \
        not setpriv --reuid alice --regid alice --clear-groups sh -c 'mkdir -p /run/nsbox && : > /run/nsbox/helper.sock'
fake_pidns=$(readlink /proc/$(pgrep -u alice -x sleep | head -1)/ns/pid)
su alice -c 'cat /proc/1/comm; readlink /proc/self/ns/pid' > $W/out/fake 2>&1
check attack11/real-box "the login got a real box (its init is nsbox-init)" grep -qx nsbox-init $W/out/fake
check attack11/not-fake "and not alice's PID namespace ($fake_pidns)" \
        test -n "$fake_pidns" -a "$(sed -n 2p $W/out/fake)" != "$fake_pidns"
check attack11/helper-root "the helper that answered is root's" test "$(stat -c %u /proc/$(pgrep -x nsbox-helper | head -1))" = 0
kill $fake 2>/dev/null; wait $fake 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
