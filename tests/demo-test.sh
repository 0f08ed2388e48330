#!/bin/bash
# make demo, both ways, each in its own test world: without a terminal it
# prints the tour of a boxed login; with one (a pty from script(1)) the user
# gets alice's shell in her box.  Prints PASS/FAIL/SKIP lines like a scenario.
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
report() { if [ "$2" = 0 ]; then echo "PASS demo/$1"; else echo "FAIL demo/$1: $3"; fi; }

NSBOX_BUILD=${NSBOX_BUILD:-build} timeout 120 tests/world bash tests/lib/demo.sh < /dev/null > "$out" 2>&1
report tour-runs $? "the tour exited with an error: $(tail -n 3 "$out" | tr '\n' ' ')"
grep -q '^    NSBOX_ID=[0-9a-f]\{8\}$' "$out"; report tour-boxed $? "the tour's login was not boxed"
grep -q '^ *1 alice *nsbox-init$' "$out"; report tour-pid1 $? "the tour does not show nsbox-init as PID 1"
grep -A1 '^\$ ls /home$' "$out" | grep -qx '    alice'; report tour-homes $? "the tour shows other homes"
grep -A1 '^\$ ls /home; ls /tmp; hostname$' "$out" | grep -q 'alice bob'; report tour-outside $? "the tour does not show the world outside"

if ! command -v script >/dev/null; then
        echo "SKIP demo/interactive: script(1) is not installed to give the demo a terminal"
        exit 0
fi
(sleep 5; echo 'echo "inside=$NSBOX_ID pid1=$(cat /proc/1/comm)"; exit'; sleep 5) |
        NSBOX_BUILD=${NSBOX_BUILD:-build} timeout 120 script -qec 'tests/world bash tests/lib/demo.sh' /dev/null > "$out" 2>&1
grep -aq 'inside=[0-9a-f]\{8\} pid1=nsbox-init' "$out"
report interactive $? "with a terminal the demo gave no boxed shell: $(tail -n 5 "$out" | tr '\n' ' ')"
exit 0
