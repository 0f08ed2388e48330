#!/bin/bash
# Attack 1: alice swaps ~/ro (a path the policy makes read-only) with a
# symlink to /etc, in a tight RENAME_EXCHANGE loop, while she logs in 500
# times.  Every login must either get ~/ro read-only or be refused; /etc is
# never mounted over in any box, and nothing on the host changes.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
sed -i 's/ debug$//' /etc/pam.d/su
ln -s /etc /home/alice/evil
chown -h alice: /home/alice/evil
setpriv --reuid alice --regid alice --clear-groups $PY $NSBOX_REPO/tests/tools/swap.py \
        /home/alice/ro /home/alice/evil 30 > $W/out/swaps &
swapper=$!
ok=0 denied=0 bad=0
for i in $(seq 500); do
        out=$(su alice -c 'grep -c " /etc " /proc/self/mountinfo; touch /etc/nsbox-attack 2>/dev/null && echo WROTE; true' 2>/dev/null)
        rc=$?
        if [ $rc = 0 ] && [ "$out" = 0 ]; then ok=$((ok + 1))
        elif [ $rc = 1 ] && [ -z "$out" ]; then denied=$((denied + 1))
        else bad=$((bad + 1)); echo "   login $i: status $rc, saw: $out"; fi
done
wait $swapper 2>/dev/null     # it stops by itself and reports its count
swaps=$(cat $W/out/swaps 2>/dev/null)
check attack1/swapping "the swapper really raced (${swaps:-no} swaps)" test "${swaps:-0}" -gt 1000
check attack1/never-etc "in 500 logins /etc was never mounted over ($ok completed, $denied refused, $bad otherwise)" test $bad = 0
check attack1/both "the race was hit both ways: some logins completed, some were refused" test $ok -gt 0 -a $denied -gt 0
check attack1/etc-untouched "/etc was never written" test ! -e /etc/nsbox-attack
log_sync
named='event=denied user=alice .*step=read_only object=/home/alice/ro: Too many levels of symbolic links'
# A refusal for another reason is shown, to tell which.
grep 'event=denied' $W/out/syslog | grep -v "$named" | head -3 | sed 's/^/   other refusal: /'
check attack1/denials-logged "each of the $denied refusals left a log line naming the symlink" \
        test "$(grep -c "$named" $W/out/syslog)" = $denied
check attack1/clean "nothing was left" wait_for 30 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
