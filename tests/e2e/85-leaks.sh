#!/bin/bash
# Scenario: a long-lived PAM application (a daemon opening session after
# session) runs 1,000 open/close cycles through libpam in one process.  Its
# fd count and memory must not grow, and valgrind must find no error and no
# definite leak in the module.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_pam
setup_fixtures
setup_probe
write_policy
pam_service nsbox-loop
sed -i 's/ debug$//' /etc/pam.d/nsbox-loop
out=$W/out/loop

$B/tests/pamloop nsbox-loop alice 1000 > $out 2>&1
rc=$?
check leaks/cycles "1,000 open/close cycles all succeed (status $rc: $(tail -n 1 $out))" test $rc = 0
warm_fds=$(sed -n 's/^warm fds=\([0-9]*\).*/\1/p' $out)
end_fds=$(sed -n 's/^end fds=\([0-9]*\).*/\1/p' $out)
warm_rss=$(sed -n 's/^warm .*rss_kib=\([0-9]*\)/\1/p' $out)
end_rss=$(sed -n 's/^end .*rss_kib=\([0-9]*\)/\1/p' $out)
check leaks/fds "the fd count does not grow ($warm_fds after 100 cycles, $end_fds after 1,000)" \
        test -n "$warm_fds" -a "$warm_fds" = "$end_fds"
# Allocator noise aside (a few pages), nothing may grow per session: a leak
# of 64 bytes a cycle would already show here.
if [ "${NSBOX_SANITIZE:-}" = 1 ]; then
        skip leaks/rss "AddressSanitizer's quarantine keeps freed memory; the plain run measures this"
else
        check leaks/rss "resident memory does not grow (${warm_rss} KiB after 100 cycles, ${end_rss} KiB after 1,000)" \
                test -n "$end_rss" -a $((end_rss - warm_rss)) -lt 56
fi
# Each close goes back to every namespace the open left (mount, uts, ipc,
# pid for children, cgroup), and the others were never changed.
check leaks/namespaces-back "after the last close the process is in its own namespaces again" \
        test -n "$(sed -n 's/^ns-before //p' $out)" -a "$(sed -n 's/^ns-before //p' $out)" = "$(sed -n 's/^ns-after //p' $out)"
check leaks/boxes "and no box is left" wait_for 30 no_boxes

if [ "${NSBOX_SANITIZE:-}" = 1 ]; then
        skip leaks/valgrind "valgrind cannot run AddressSanitizer binaries; the plain run does this"
elif command -v valgrind >/dev/null; then
        # The helper is started by a login outside valgrind first: valgrind
        # does not run clone3, which starting it uses.
        su alice -c true
        valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 -q \
                $B/tests/pamloop nsbox-loop alice 50 > $out 2>&1
        rc=$?
        check leaks/valgrind "valgrind is clean on 50 cycles (status $rc)" test $rc = 0
        [ $rc = 0 ] || sed 's/^/   /' $out | head -40
else
        skip leaks/valgrind "valgrind is not installed"
fi

# The last check decides nothing about the exit status; a death before here does.
exit 0
