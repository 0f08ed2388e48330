#!/bin/bash
# Scenario: the admin's CLI.  check validates the policy the way the module
# reads it; explain shows what applies to a user and where it comes from;
# list shows the live boxes.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_pam
write_policy
setup_fixtures
setup_probe

out=$W/out/cli
$NSBOX check > $out 2>&1
check cli/check-valid "nsbox check accepts the good policy" test $? = 0
check cli/check-valid-says "and says so" grep -q 'valid' $out

printf '[default]\nbox = perhaps\n' > $W/bad.conf
chmod 0644 $W/bad.conf
$NSBOX check -c $W/bad.conf > $out 2>&1
check cli/check-invalid-exit "nsbox check -c on a bad file exits 1" test $? = 1
check cli/check-names-file-section-key "the message names file, section, key and what is valid" \
        grep -q "$W/bad.conf: \[default\] box: 'perhaps' is not a boolean; write yes or no" $out

# The example policy the project ships is valid as it stands.
cp "$NSBOX_REPO/conf/nsbox.conf" $W/example.conf
chmod 0644 $W/example.conf
check cli/example-policy-valid "conf/nsbox.conf passes nsbox check" $NSBOX check -c $W/example.conf

# Drop-ins are read after the main file, in lexical order; later wins.
printf '[user:alice]\nhostname = first-${USER}\n' > /etc/security/nsbox.d/10-a.conf
printf '[user:alice]\nhostname = second-${USER}\n' > /etc/security/nsbox.d/20-b.conf
chmod 0644 /etc/security/nsbox.d/*.conf
$NSBOX explain alice > $out 2>&1
check cli/explain-exit "nsbox explain alice succeeds" test $? = 0
check cli/explain-dropin-order "the later drop-in wins, and explain says where it came from" \
        grep -Eq '^hostname +=.*second-\$\{USER\}.*# /etc/security/nsbox.d/20-b.conf \[user:alice\]' $out
check cli/explain-expanded "explain shows the expanded value" grep -q 'hostname     -> second-alice' $out
check cli/explain-default "keys nobody set show as defaults" grep -Eq '^linger +=.*# default' $out
check cli/explain-section "keys from [default] name that section" grep -Eq '^private_tmp +=.*\[default\]' $out
su alice -c true
check cli/dropin-applies "the module applies the drop-in too" \
        bash -c "su alice -c 'cat /proc/sys/kernel/hostname' | grep -qx second-alice"

# Group sections apply in file order, then the user's own section.
printf '[group:boxed]\nlinger = 5\n[group:alice]\nlinger = 7\n' > /etc/security/nsbox.d/30-groups.conf
chmod 0644 /etc/security/nsbox.d/30-groups.conf
check cli/explain-group-order "of two group sections the later one wins" \
        bash -c "$NSBOX explain alice | grep -Eq '^linger +=  ?7 '"
check cli/explain-group-source "and explain names it" \
        bash -c "$NSBOX explain alice | grep -Eq '^linger .*\[group:alice\]'"
check cli/explain-exempt "explain says carol is exempt" bash -c "$NSBOX explain carol | grep -q exempt"
$NSBOX explain nosuchuser > $out 2>&1
check cli/explain-unknown "explain of an unknown user exits 1" test $? = 1
rm -f /etc/security/nsbox.d/*.conf

# list, while alice and bob are logged in.
su alice -c 'sleep 30' &
a=$!
su bob -c 'sleep 30' &
b=$!
wait_for 50 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = 2 ]"
json=$($NSBOX list --json)
echo "$json" > $out
check cli/list-json-parses "list --json is valid JSON" python3 -c "import json,sys; json.load(open('$out'))"
check cli/list-json-fields "each box has id, user, uid, pid and sessions" python3 -c "
import json
boxes = json.load(open('$out'))
assert len(boxes) == 2, boxes
for b in boxes:
    for k in ('id', 'user', 'uid', 'pid', 'sessions'):
        assert k in b, (k, b)
users = sorted(b['user'] for b in boxes)
assert users == ['alice', 'bob'], users
"
pid=$(box_field alice pid)
check cli/list-pid-is-init "pid is the box init's host pid" test "$(cat /proc/$pid/comm 2>/dev/null)" = nsbox-init
check cli/list-table "the plain list has a header and a line per box" test "$($NSBOX list | wc -l)" = 3
kill $a $b
wait $a $b 2>/dev/null
check cli/list-empty "list is empty after logout" wait_for 30 no_boxes
$NSBOX frobnicate >/dev/null 2>&1
check cli/usage-exit "an unknown command exits 2" test $? = 2

# The last check decides nothing about the exit status; a death before here does.
exit 0
