#!/bin/bash
# Scenario: the build is what an admin can trust inside sshd — only the PAM
# entry points exported, hardened binaries — and the module's arguments are
# handled as documented.
source "$NSBOX_REPO/tests/lib/e2e.sh"

exports=$(nm -D --defined-only $B/pam_nsbox.so | awk '$2 ~ /^[TDBW]$/ {print $3}' | sort | tr '\n' ' ')
check build/exports "only pam_sm_* are exported, not '$exports'" \
        test "$exports" = "pam_sm_close_session pam_sm_open_session "
for f in pam_nsbox.so nsbox-helper nsbox; do
        check build/relro-$f "$f has full RELRO" bash -c "readelf -lW $B/$f | grep -q GNU_RELRO && readelf -dW $B/$f | grep -q BIND_NOW"
done
for f in nsbox-helper nsbox; do
        check build/pie-$f "$f is position independent" bash -c "readelf -hW $B/$f | grep -q 'DYN'"
done
if [ "${NSBOX_SANITIZE:-}" = 1 ]; then
        skip build/fortify "sanitizer builds leave _FORTIFY_SOURCE out (it hides errors from AddressSanitizer)"
else
        check build/fortify "the module is built with _FORTIFY_SOURCE" bash -c "nm -D $B/pam_nsbox.so | grep -q '_chk@'"
fi
check build/stack-protector "the helper is built with a stack protector" bash -c "nm -D $B/nsbox-helper | grep -q __stack_chk_fail"

setup_pam
write_policy
setup_fixtures
setup_probe
pam_service su-bogus
sed -i 's/debug$/debug bogus=1/' /etc/pam.d/su-bogus
cp /etc/pam.d/su-bogus /etc/pam.d/su
su alice -c true
check args/unknown-logged "an unknown argument is logged" grep -q "unknown module argument 'bogus=1' ignored" $W/out/syslog
check args/unknown-harmless "and the login still works" su alice -c true

# config= points the module at another policy file.
setup_pam
printf '[default]\nhostname = other-${USER}\n' > $W/other.conf
chmod 0644 $W/other.conf
sed -i "s|helper=|config=$W/other.conf helper=|" /etc/pam.d/su
check args/config "config=PATH is the policy read" bash -c "su alice -c 'cat /proc/sys/kernel/hostname' | grep -qx other-alice"

# helper= must name a root-owned binary nobody else can write.
setup_pam
cp $B/nsbox-helper $W/bin/helper-copy
chmod 0777 $W/bin/helper-copy
sed -i "s|helper=$B/nsbox-helper|helper=$W/bin/helper-copy|" /etc/pam.d/su
pkill -x nsbox-helper
wait_for 20 bash -c '! pgrep -x nsbox-helper >/dev/null'
check args/helper-untrusted "a world-writable helper is not run" not su alice -c true
check args/helper-untrusted-log "and the log says why" grep -q "step=start-helper object=$W/bin/helper-copy is writable by group or others" $W/out/syslog
check args/helper-untrusted-root "root still gets in" su root -c true

# The last check decides nothing about the exit status; a death before here does.
exit 0
