#!/bin/bash
# Attack 19: alice floods logins, 200 at once.  Every login gets a correct
# box or a clean denial; no two boxes share an id.  (With addresses, in
# tests/e2e/80-stress.sh.)
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
sed -i 's/ debug$//' /etc/pam.d/su
pids=()
for i in $(seq 200); do
        su alice -c 'echo $NSBOX_ID; sleep 1' > $W/out/flood.$i 2>&1 &
        pids+=($!)
done
wait "${pids[@]}"
boxed=$(cat $W/out/flood.* | grep -cx '[0-9a-f]\{8\}')
refused=$(grep -l 'cannot open session' $W/out/flood.* | wc -l)
check attack19/all-answered "each of 200 logins was boxed or cleanly refused ($boxed boxed, $refused refused)" \
        test $((boxed + refused)) = 200
check attack19/distinct "no two boxes shared an id" test "$(cat $W/out/flood.* | grep -x '[0-9a-f]\{8\}' | sort -u | wc -l)" = $boxed
check attack19/clean "all gone afterwards" wait_for 50 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
