#!/bin/bash
# Attack 28: what a login says of itself (its remote host, its tty), sent
# to root's terminal by `nsbox show`; and a helper that does not answer.
#
# Before the fix (ad80b52): `nsbox show` printed service, tty and rhost as
# they came, escape sequences and all, and the CLI waited on a hung helper
# for ever.  After: they are shown as text (\xNN for anything but printable
# ASCII), in the show and in every log line; the CLI gives up after 10 s,
# saying why.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
esc=$'\e]2;owned\a\e[2J'
PAMLOOP_RHOST="evil${esc} event=join user=root" PAMLOOP_TTY="pts/${esc}" PAMLOOP_HOLD=4 \
        $B/tests/pamloop nsbox-pamtester alice 1 > /dev/null 2>&1 &
held=$!
wait_for 50 box_up alice
$NSBOX show alice > $W/out/show 2>&1
check attack28/show-clean "nsbox show sends no control byte to the terminal" not grep -q $'\e' $W/out/show
check attack28/show-says "and shows what came, as text" grep -q 'rhost=evil\\x1b\]2;owned\\x07\\x1b\[2J\\x20event=join\\x20user=root' $W/out/show
# In JSON, escaped by json-c: a parser gets back exactly what came.
$NSBOX show alice --json > $W/out/show.json 2>&1
check attack28/json-exact "nsbox show --json, parsed, gives the text as it came, and holds no raw control byte" \
        python3 -c "
import json, sys
raw = open(sys.argv[1], 'rb').read()
assert not any(c < 0x20 and c != 0x0a for c in raw), raw
s = json.loads(raw)[0]['sessions'][0]
assert s['rhost'] == sys.argv[2], (s['rhost'], sys.argv[2])
assert s['tty'] == sys.argv[3], s['tty']
" $W/out/show.json "evil${esc} event=join user=root" "pts/${esc}"
wait $held
check attack28/log-clean "no log line carries it as it came" not grep -q $'\e\\|rhost=evil[^ ]* event=join user=root' $W/out/syslog

# A helper that stops answering: the CLI says so and ends.
pamtester nsbox-pamtester alice open_session > /dev/null 2>&1 &
wait_for 50 bash -c "pgrep -x nsbox-helper > /dev/null"
pkill -STOP -x nsbox-helper
timeout 30 $NSBOX list > $W/out/list 2>&1
rc=$?
pkill -CONT -x nsbox-helper
check attack28/cli-deadline "nsbox list gives up on a stopped helper by itself (status $rc)" test $rc = 1
check attack28/cli-says "saying why" grep -q 'the helper did not answer within 10 s' $W/out/list
wait

# The last check decides nothing about the exit status; a death before here does.
exit 0
