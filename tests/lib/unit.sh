#!/bin/bash
# The cmocka unit tests, run inside the test world so that the files they
# write (policies with various owners and modes) live in a private /run.
set -u
W=${NSBOX_WORLD:?}
export TMPDIR=$W/unit
mkdir -p "$TMPDIR"
chmod 0755 "$TMPDIR"
found=0
for t in "$W"/build/tests/test_*; do
        [ -x "$t" ] || continue
        found=1
        # TAP output, turned into the runner's PASS/FAIL lines.
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | while IFS= read -r line; do
                case "$line" in
                "ok "*) echo "PASS unit/$(basename "$t")/${line#ok * - }" ;;
                "not ok "*) echo "FAIL unit/$(basename "$t")/${line#not ok * - }: see output above" ;;
                *) echo "   $line" ;;
                esac
        done
done
[ $found = 1 ] || echo "FAIL unit: no unit test binary was built"
