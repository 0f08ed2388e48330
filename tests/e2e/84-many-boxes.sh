#!/bin/bash
# Scenario: a large shell server.  5,000 live boxes (200 users, 25 each,
# kept by their linger): nsbox list, its JSON and nsbox show answer for
# every one of them (the list comes in parts, far beyond one 64 KiB reply),
# and a box of 300 sessions is shown whole; a box with a network is still
# made among them; a helper killed under them all is replaced by one that
# takes every box over; and once they end nothing is left.
source "$NSBOX_REPO/tests/lib/e2e.sh"

N_USERS=200
PER_USER=25
TOTAL=$((N_USERS * PER_USER))
setup_pam
write_policy "[global]
exempt_users = root

[default]
box = yes
namespaces = mount pid
share = session
linger = 3600"
mounts_before=$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)

# One box with 300 sessions, each with a 200-byte remote host: nsbox show
# answers with all of them, over several parts.
write_policy "$(cat /etc/security/nsbox.conf)

[user:user001]
share = user"
rhost=$(printf 'h%.0s' $(seq 190)).example
held=()
for i in $(seq 300); do
        PAMLOOP_RHOST=$rhost-$i PAMLOOP_HOLD=120 $B/tests/pamloop su user001 1 > /dev/null 2>&1 &
        held+=($!)
done
wait_for 600 bash -c "$NSBOX list --json | grep -q '\"sessions\": 300'"
check many/show-sessions "nsbox show lists all 300 sessions of a box, beyond one reply" \
        bash -c "$NSBOX show user001 --json | $PY -c '
import json, sys
s = json.load(sys.stdin)[0][\"sessions\"]
assert len(s) == 300 and len(set(x[\"rhost\"] for x in s)) == 300, len(s)'"
check many/show-text "and so does its text" \
        bash -c "[ \$($NSBOX show user001 | grep -c '$rhost') = 300 ]"
kill "${held[@]}" 2>/dev/null
wait "${held[@]}" 2>/dev/null
$NSBOX stop --force user001 > /dev/null      # it would linger an hour
wait_for 100 no_boxes
write_policy "$(sed '/^\[user:user001\]/,$d' /etc/security/nsbox.conf)"

count_json() { $NSBOX list --json | $PY -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# Two streams of logins, each login one box that stays after it.
t0=$SECONDS
stream() {
        local i u
        for i in $(seq $1 2 $N_USERS); do
                u=$(printf 'user%03d' $i)
                for _ in $(seq $PER_USER); do su $u -c true >/dev/null 2>&1; done
        done
}
stream 1 & s1=$!
stream 2 & s2=$!
wait $s1 $s2
echo "   $TOTAL logins in $((SECONDS - t0)) s"
n=$(count_json)
check many/made "$TOTAL boxes live, each kept by its linger ($n listed)" test "$n" = $TOTAL
$NSBOX list > $W/out/list.txt 2>&1
check many/list "nsbox list prints every one of them, in parts" \
        test "$(awk 'NR > 1' $W/out/list.txt | wc -l)" = $TOTAL
$NSBOX list --json > $W/out/list.json
check many/json "the JSON lists each box once, every user's 25" $PY -c "
import collections, json, sys
v = json.load(open('$W/out/list.json'))
ids = [b['id'] for b in v]
per = collections.Counter(b['user'] for b in v)
assert len(ids) == len(set(ids)) == $TOTAL, len(set(ids))
assert set(per.values()) == {$PER_USER} and len(per) == $N_USERS, per.most_common(3)"
last=$($PY -c "import json; print(sorted(b['id'] for b in json.load(open('$W/out/list.json')))[-1])")
check many/show "nsbox show answers for a box among $TOTAL" bash -c "$NSBOX show $last | grep -q $last"
check many/show-user "and for a user's 25 boxes" \
        bash -c "[ \$($NSBOX show user200 --json | $PY -c 'import json, sys; d = json.load(sys.stdin); print(len(d) if isinstance(d, list) else 1)') = $PER_USER ]"
rss=$(awk '/^VmRSS:/ {print $2}' /proc/$(pgrep -x nsbox-helper)/status)
echo "   the helper's RSS with $TOTAL boxes: $rss KiB ($((rss / TOTAL)) KiB a box)"

# A box with a network, made with the helper holding the fds of 5,000
# boxes (libnftables must still get a socket it can wait on).
write_policy "$(cat /etc/security/nsbox.conf)

[user:user199]
network = veth"
su user199 -c "$(command -v ip) -br -4 addr show eth0" > $W/out/veth.out 2>&1
check many/veth "a box with a network is still made among them: $(cat $W/out/veth.out)" grep -q ' 10\.213\.' $W/out/veth.out
TOTAL=$((TOTAL + 1))

# A helper killed under all of them: the next one takes every box over.
pkill -KILL -x nsbox-helper
wait_for 50 bash -c '! pgrep -x nsbox-helper >/dev/null'
su user001 -c true >/dev/null 2>&1
log_sync
line=$(grep 'nsbox-helper.*event=helper-start' $W/out/syslog | tail -n 1)
echo "   ${line#*event=}"
n=$(count_json)
check many/adopted "a new helper takes all $TOTAL over" test "$n" = $((TOTAL + 1))
check many/adopt-logged "and says so" grep -q "event=helper-start version=[^ ]* adopted=$TOTAL " <<< "$line"

# The end: every box stopped, nothing left.
# Half of them by id, half by user (each of those stops 25).
$NSBOX list --json | $PY -c 'import json, sys; [print(b["id"]) for b in json.load(sys.stdin) if b["uid"] % 2]' |
        xargs -n 50 -P 2 sh -c 'for b; do '"$NSBOX"' stop --force $b; done' _ > /dev/null 2>&1
for i in $(seq 2 2 $N_USERS); do $NSBOX stop --force $(printf 'user%03d' $i); done > /dev/null 2>&1
check many/end "stopping them all leaves no box, no init, no state file, no mount" \
        wait_for 600 bash -c "$(declare -f no_boxes no_init run_clean); NSBOX=$NSBOX; no_boxes && no_init && run_clean &&
                [ \"\$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)\" = \"\$1\" ]" _ "$mounts_before"

exit 0
