#!/bin/bash
# Scenario: a corpus of malformed and dangerous policies (tests/corpus/policy).
# For each one: nsbox check names the problem, the module denies the boxed
# user with exactly one log line, root still logs in, nothing crashes.
# Hostile identities from NSS are refused cleanly too.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_pam
setup_fixtures
setup_probe
CORPUS=$NSBOX_REPO/tests/corpus/policy
LOG=$W/out/syslog
out=$W/out/check
n=0

# Start the helper with a good policy, so that a crash of it would show.
write_policy
su alice -c true
helper=$(pgrep -x nsbox-helper)

for f in $CORPUS/*.conf; do
        name=$(basename $f .conf)
        t=hostile/$name
        n=$((n + 1))
        expect=$(sed -n 's/^# expect: //p' $f)
        [ -e $CORPUS/$name.expect ] && expect=$(cat $CORPUS/$name.expect)
        setup=$(sed -n 's/^# setup: //p' $f)
        rm -f /etc/security/nsbox.conf /etc/security/real.conf
        cp $f /etc/security/nsbox.conf
        chmod 0644 /etc/security/nsbox.conf
        case "$setup" in
        chmod*) chmod ${setup#chmod } /etc/security/nsbox.conf ;;
        chown*) chown ${setup#chown } /etc/security/nsbox.conf ;;
        symlink) mv /etc/security/nsbox.conf /etc/security/real.conf && ln -s real.conf /etc/security/nsbox.conf ;;
        esac
        $NSBOX check > $out 2>&1
        rc=$?
        printf '%s\n' "$expect" > $W/out/expect
        check $t/check "nsbox check exits 1 ($rc) naming '$expect' ($(head -c 150 $out | tr '\n' ' '))" \
                bash -c "[ $rc = 1 ] && grep -qF -f $W/out/expect $out"
        log_sync
        before=$(grep -c 'event=denied user=alice ' $LOG)
        su alice -c true >/dev/null 2>&1
        rc=$?
        check $t/denied "su to alice is refused cleanly (status $rc, not a signal)" test $rc = 1
        # The log listener writes on its own time: wait for the line, then
        # count, so that a second one would still be seen.
        wait_for 20 bash -c "[ \$(grep -c 'event=denied user=alice ' $LOG) -gt $before ]"
        sleep 0.2
        log_sync
        check $t/one-line "with exactly one log line" test "$(grep -c 'event=denied user=alice ' $LOG)" = $((before + 1))
        check $t/root "root still logs in" su root -c true
done
check hostile/corpus-size "the corpus holds at least 40 policies ($n)" test $n -ge 40
check hostile/helper-alive "the helper survived all of it" test "$(pgrep -x nsbox-helper)" = "$helper"
check hostile/no-box "and no box was left" no_boxes
rm -f /etc/security/nsbox.conf /etc/security/real.conf
write_policy

# Hostile identities: names and homes that must never reach a path, a
# mount option or a log line unchecked.  Added to the world's passwd.
long=$(printf 'u%.0s' $(seq 300))
cat >> /etc/passwd <<P
a,b:x:3001:3001::/home/ab:/bin/bash
..:x:3002:3002::/home/dots:/bin/bash
$(printf 'ctl\001x'):x:3003:3003::/home/ctl:/bin/bash
$long:x:3004:3004::/home/long:/bin/bash
homedots:x:3005:3005::/home/../etc:/bin/bash
homecomma:x:3006:3006::/home/a,b:/bin/bash
homerel:x:3007:3007::home/rel:/bin/bash
homectl:x:3008:3008::$(printf '/home/a\001b'):/bin/bash
homespace:x:3009:3009::/home/a b:/bin/bash
homecolon:x:3010:3010::/home/a\\:b:/bin/bash
P
for g in $(seq 3001 3010); do echo "g$g:x:$g:" >> /etc/group; done
i=0
for u in 'a,b' '..' "$(printf 'ctl\001x')" "$long" homedots homecomma homerel homectl homespace; do
        i=$((i + 1))
        log_sync
        before=$(grep -c 'event=denied' $LOG)
        su "$u" -c 'echo in' > $out 2>&1
        rc=$?
        check identity/$i "a hostile identity ($(printf '%q' "$u" | head -c 40)) is refused cleanly (status $rc)" \
                bash -c "[ $rc = 1 ] && ! grep -q '^in' $out"
        wait_for 20 bash -c "[ \$(grep -c 'event=denied' $LOG) -gt $before ]"
        sleep 0.2
        log_sync
        check identity/$i-logged "with one log line" test "$(grep -c 'event=denied' $LOG)" = $((before + 1))
done
check identity/log-clean "no control character reached the project's log lines" \
        bash -c "! grep -E 'pam_nsbox|nsbox-helper' $LOG | grep -qP '\x01'"
check identity/no-box "no box was made for any of them" no_boxes
check identity/helper-alive "the helper is still the same" test "$(pgrep -x nsbox-helper)" = "$helper"

# The last check decides nothing about the exit status; a death before here does.
exit 0
