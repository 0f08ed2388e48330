#!/bin/bash
# The cmocka unit tests, run inside the test world so that the files they
# write (policies with various owners and modes) live in a private /run.
# The runner's self-test comes first: a producer that crashes, exits
# non-zero or stops short of its plan must count as a failure.
set -u
W=${NSBOX_WORLD:?}
. "$(dirname "$0")/tap.sh"
export TMPDIR=$W/unit
mkdir -p "$TMPDIR"
chmod 0755 "$TMPDIR"

# Each fake producer, and the failure the runner must report for it.
selftest() {
        local what=$1 expect=$2 script=$3 got
        printf '#!/bin/bash\n%s\n' "$script" > "$TMPDIR/fake"
        chmod 0755 "$TMPDIR/fake"
        got=$(tap_run fake "$TMPDIR/fake")
        if grep -q "^FAIL fake: $expect" <<< "$got"; then
                echo "PASS unit/runner: $what counts as a failure"
        else
                echo "FAIL unit/runner: $what was not reported as \"$expect\"; the runner said:"
                sed 's/^/   | /' <<< "$got"
        fi
}
selftest "a crash after one of three tests" "the program died of signal 11" \
        'echo 1..3; echo "ok 1 - a"; kill -SEGV $$'
selftest "a non-zero exit with every test passed" "the program exited with status 3" \
        'echo 1..1; echo "ok 1 - a"; exit 3'
selftest "a short plan" "the plan announced 3 tests, 1 reported" \
        'echo 1..3; echo "ok 1 - a"'
selftest "no plan at all" "0 TAP plans" \
        'echo "ok 1 - a"'
got=$(tap_run fake bash -c 'echo 1..2; echo "ok 1 - a"; echo "ok 2 - b"')
if [ "$(grep -c '^PASS' <<< "$got")" = 2 ] && ! grep -q '^FAIL' <<< "$got"; then
        echo "PASS unit/runner: a whole, clean run counts its two passes and no failure"
else
        echo "FAIL unit/runner: a clean run was reported as: $got"
fi
rm -f "$TMPDIR/fake"

found=0
for t in "$W"/build/tests/test_*; do
        [ -x "$t" ] || continue
        found=1
        tap_run "unit/$(basename "$t")" "$t"
done
[ $found = 1 ] || echo "FAIL unit: no unit test binary was built"

# The module carries only what it calls (-ffunction-sections and
# --gc-sections): none of the helper's or the CLI's code from lib/.
mod=$W/build/pam_nsbox.so
if ! command -v nm > /dev/null; then
        echo "SKIP unit/module-links-what-it-uses: no nm (binutils) here"
elif ! nm "$mod" | grep -qw proto_put_open; then
        echo "FAIL unit/module-links-what-it-uses: nm finds no symbol table in $mod"
else
        extra=$(nm "$mod" | awk '{print $NF}' | grep -xE 'pool_alloc|proto_parse_show|proto_parse_list|policy_warnings|proto_put_boxinfo' | tr '\n' ' ')
        if [ -z "$extra" ]; then
                echo "PASS unit/module-links-what-it-uses"
        else
                echo "FAIL unit/module-links-what-it-uses: pam_nsbox.so carries $extra"
        fi
fi
