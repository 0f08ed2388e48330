#!/bin/bash
# Scenario: concurrency and faults.  100 logins of one user at once share
# one box; 200 users at once get 200 boxes with distinct ids and
# addresses; SIGKILL at random moments — to the login, the helper, the box's
# PID 1, mid-setup included — leaves nothing of the box within a second of
# the login's end (a helper's death alone ends no box).
source "$NSBOX_REPO/tests/lib/e2e.sh"

command -v nft >/dev/null || { skip stress "nft (nftables) is not installed to inspect the ruleset"; exit 0; }
setup_pam
setup_fixtures
setup_probe
base=$(write_policy; cat /etc/security/nsbox.conf)
mounts_before=$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)
links_before=$(ip -br link | awk '{print $1}' | sort)
ruleset_before=$(nft list ruleset)

nothing_left() {
        # no box, no init, no host end, no table, no process of the users,
        # no mount, nothing but the helper's own files in /run/nsbox.  While
        # no helper runs (one was killed), nobody can list boxes, and what a
        # box that ended meanwhile left in the table and in /run/nsbox/boxes
        # waits for the next helper.
        local dead=
        pgrep -x nsbox-helper >/dev/null || dead=dead-helper
        { [ -n "$dead" ] || no_boxes; } && no_init && [ "$(ip -br link | awk '{print $1}' | sort)" = "$links_before" ] &&
                { [ -n "$dead" ] || ruleset_clean; } && ! pgrep -u alice,bob >/dev/null &&
                ! pgrep -f '^sleep 3[0-9]$' >/dev/null &&
                [ "$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)" = "$mounts_before" ] &&
                run_clean $dead
}

# What of nothing_left does not hold, for a failure's line.
left_over() {
        pgrep -x nsbox-helper >/dev/null || echo -n "(no helper) "
        no_init || echo -n "init: $(pgrep -a -x nsbox-init | tr '\n' ' ') "
        pgrep -x nsbox-helper >/dev/null && ! ruleset_clean && echo -n "ruleset "
        pgrep -f '^sleep 3[0-9]$' >/dev/null && echo -n "sleep: $(pgrep -a -f '^sleep 3[0-9]$' | tr '\n' ' ') "
        [ "$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)" = "$mounts_before" ] || echo -n "mounts "
        echo -n "run: $(ls -A /run/nsbox /run/nsbox/boxes 2>/dev/null | tr '\n' ' ')"
}

# consistent LOGIN_PID: nothing left, or exactly the login's box, alive
# (with no helper to list it, its init and its host end: the networks the
# helper made ahead went with it).
consistent() {
        nothing_left && return 0
        kill -0 $1 2>/dev/null || return 1
        if pgrep -x nsbox-helper >/dev/null; then
                [ "$(box_count)" = 1 ] && kill -0 "$(box_field alice pid)" 2>/dev/null || return 1
                # its host end, and those of the two networks made ahead
                ip link show "nsb$(box_field alice id)" >/dev/null 2>&1 && [ "$(ip -br link | grep -c '^nsb')" -le 3 ]
        else
                [ "$(pgrep -c -x nsbox-init)" = 1 ] && [ "$(ip -br link | grep -c '^nsb')" = 1 ]
        fi
}

# --- 100 logins of bob at once, share = user ---
pids=()
for i in $(seq 100); do
        su bob -c 'echo $NSBOX_ID; sleep 2' > $W/out/bob.$i 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
check stress/share-all-boxed "all 100 of bob's logins were boxed" test "$(cat $W/out/bob.* | grep -cx '[0-9a-f]\{8\}')" = 100
check stress/share-one-box "into exactly one box" test "$(sort -u $W/out/bob.* | wc -l)" = 1
check stress/share-gone "which is gone after the last logout" wait_for 50 nothing_left

# --- 200 users at once, each with a network ---
write_policy "[global]
prepared_linger = 0
[default]
private_tmp = yes
hide_homes = yes
network = veth"
pids=()
for i in $(seq -w 1 200); do
        su user$i -c 'echo "$NSBOX_ID $(ip -br -4 addr show eth0 | awk "{print \$3}")"; sleep 3' > $W/out/u.$i 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
check stress/users-all-boxed "all 200 logins were boxed with an address" \
        test "$(cat $W/out/u.* | grep -c '^[0-9a-f]\{8\} 10\.213\.')" = 200
check stress/users-distinct-ids "no two boxes share an id" test "$(cut -d' ' -f1 $W/out/u.* | sort -u | wc -l)" = 200
check stress/users-distinct-addresses "no two boxes share an address" test "$(cut -d' ' -f2 $W/out/u.* | sort -u | wc -l)" = 200
check stress/users-gone "after they end nothing is left" wait_for 100 nothing_left

# --- SIGKILL at random moments, 210 times ---
# A second to settle (in tenths), three under the sanitizers, which slow the
# helper and the init about threefold.
settle=10
[ "${NSBOX_SANITIZE:-}" = 1 ] && settle=30
fails=0
first=
for i in $(seq 210); do
        su alice -c 'sleep 30' >/dev/null 2>&1 &
        login=$!
        # 0..40 ms: before, during and after the box's setup
        sleep "0.0$((RANDOM % 40))"
        # When the helper or the init does not exist yet, the login is the
        # one killed: every round kills something.
        case $((i % 3)) in
        0) kill -KILL $login 2>/dev/null ;;
        1) pkill -KILL -x nsbox-helper || kill -KILL $login 2>/dev/null ;;
        2) pkill -KILL -x nsbox-init || kill -KILL $login 2>/dev/null ;;
        esac
        # Within a second of the kill, what remains is consistent: either
        # nothing, or a box that still has its live login (a helper killed
        # before it had made anything is simply started again).  Then,
        # within a second of the login's end, nothing.
        if ! wait_for $settle consistent $login; then
                fails=$((fails + 1))
                what="after kill $i (target $((i % 3))): $(ip -br link | grep nsb) $(pgrep -a -u alice) $($NSBOX list --json | tr -d '\n') $(left_over)"
                echo "   $what"
                first=${first:-$(echo "$what" | tr -s "\n" " ")}
        fi
        kill -KILL $login 2>/dev/null
        wait $login 2>/dev/null
        if ! wait_for $settle nothing_left; then
                fails=$((fails + 1))
                what="after the login of round $i ended: $(ip -br link | grep nsb) $(pgrep -a -u alice) $($NSBOX list --json | tr -d '\n') $(left_over)"
                echo "   $what"
                first=${first:-$(echo "$what" | tr -s "\n" " ")}
                wait_for 50 nothing_left
        fi
done 2>/dev/null
check stress/sigkill "after each of 210 SIGKILLs, within $((settle / 10)) s, no orphan of a box remained, and nothing once the login ended ($fails failures${first:+; first: $first})" test $fails = 0
check stress/ruleset-final "and a moment later the project's table is gone too" \
        wait_for 60 bash -c "[ \"\$(nft list ruleset)\" = \"$ruleset_before\" ]"
write_policy "$base"
su alice -c true
check stress/after-chaos "a login afterwards still works" test $? = 0

# The last check decides nothing about the exit status; a death before here does.
exit 0
