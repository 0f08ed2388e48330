#!/bin/bash
# Attack 23: bob, whose boxes are shared (share = user), logs in through a
# service with a lax policy and, while that box lives, through one whose
# policy (config=) is stricter: /srv/secret inaccessible, no user_root.
#
# Before the fix (ad80b52): the second login joined the first box by uid
# alone, and the stricter rules were silently not applied: it read
# /srv/secret.  After: a login joins only a box that its own policy would
# build; this one gets a box of its own, said once in the log.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
write_policy '[default]
namespaces = mount pid uts ipc user
share = user
user_root = yes'
cat > /etc/security/nsbox-strict.conf <<'P'
[default]
namespaces = mount pid uts ipc user
share = user
inaccessible = /srv/secret
P
chmod 0644 /etc/security/nsbox-strict.conf
cat > /etc/pam.d/runuser <<P
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   $B/pam_nsbox.so helper=$B/nsbox-helper config=/etc/security/nsbox-strict.conf
P

su bob -c 'echo "lax=$NSBOX_ID"; sleep 8' > $W/out/lax 2>&1 &
held=$!
wait_for 50 box_up bob
runuser -u bob -- sh -c 'echo "strict=$NSBOX_ID"; echo "secret=$(cat /srv/secret/data 2>/dev/null || echo none)"' > $W/out/strict 2>&1
lax=$(value lax $W/out/lax)
strict=$(value strict $W/out/strict)
check attack23/strict-applies "the stricter login cannot read /srv/secret" test "$(value secret $W/out/strict)" = none
check attack23/own-box "it is in a box of its own, not bob's lax one ($strict, $lax)" \
        test -n "$strict" -a -n "$lax" -a "$strict" != "$lax"
log_sync
check attack23/said "the log says why, once" test "$(grep -c "event=own-box user=bob .*other=$lax" $W/out/syslog)" = 1
# A login under the same policy still shares.
su bob -c 'echo "again=$NSBOX_ID"' > $W/out/again 2>&1
check attack23/same-policy-shares "a login under the lax policy joins the lax box" test "$(value again $W/out/again)" = "$lax"
wait $held

# The last check decides nothing about the exit status; a death before here does.
exit 0
