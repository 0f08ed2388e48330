#!/bin/bash
# Scenario: sessions outlive the helper.  Twenty users are logged in, each
# with a network, a private /tmp, hidden homes and a bind; the helper is
# killed with SIGKILL.  Every session keeps its shell, network and mounts
# with no helper at all; the next login starts a helper that takes every
# box over (nsbox list shows all twenty, with their addresses, and no new
# box gets one of them); logout still leaves nothing.  A helper stopped for
# good (SIGTERM, never started again) leaves each box to end with its last
# session, linger included.  Planted or corrupted adoption state -- garbage,
# a file not root's, a symlink, a fake init, a recycled pid, a copied or
# swapped file -- is refused with a log line, and the processes it names
# are left alone.
source "$NSBOX_REPO/tests/lib/e2e.sh"
TCP="python3 $NSBOX_REPO/tests/tools/tcp.py"
LOG=$W/out/syslog
STATE=/run/nsbox/boxes

command -v nft >/dev/null || { skip adoption "nft (nftables) is not installed to inspect the ruleset"; exit 0; }
setup_pam
setup_fixtures
setup_probe
IP=$(command -v ip)
# Boxes made ahead go with the last box of their kind (prepared_linger =
# 0): what a logout leaves is then nothing at once.
printf '%s\n' "[global]
exempt_users = root
pool4 = 10.213.0.0/16
pool6 = fd00:213::/64
prepared_linger = 0

[default]
box = yes
namespaces = mount pid uts ipc user
private_tmp = yes
hide_homes = yes
read_only = /srv/ro
bind = /srv/src:/srv/dst:ro
hostname = box-\${USER}
network = veth

[user:user003]
linger = 3" > /etc/security/nsbox.conf
links() { ip -br link | awk '{print $1}' | sort; }
links_before=$(links)
ruleset_before=$(nft list ruleset)
mounts_before=$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)
chmod 1777 $W/out
$TCP listen 0.0.0.0 7001 $W/out/host4.log > /dev/null &
sleep 0.3

# A logged-in user's shell: at each round the test starts it says what it
# sees (box, address, the host over TCP through its own gateway, its
# mounts); it leaves when told.
cat > $W/bin/agent <<A
#!/bin/bash
round=0
while [ ! -e $W/out/quit.all ] && [ ! -e $W/out/quit.\$USER ]; do
        if [ -e $W/out/round.\$((round + 1)) ]; then
                round=\$((round + 1))
                f=$W/out/seen.\$USER.\$round
                { $W/bin/probe
                  echo "addr=\$($IP -br -4 addr show eth0 | awk '{print \$3}')"
                  $TCP connect \$($IP route | awk '/^default/ {print \$3}') 7001 \$USER.\$round && echo tcp=ok
                } > \$f.tmp 2>&1
                mv \$f.tmp \$f
        fi
        sleep 0.1
done
A
chmod 0755 $W/bin/agent

users=$(seq -f 'user%03g' 1 20)
n_users=20
# round N USERS...: every one of USERS has reported round N.
round() {
        local n=$1 u
        shift
        touch $W/out/round.$n
        for u in "$@"; do
                wait_for 200 test -e $W/out/seen.$u.$n || return 1
        done
}
# sound N USERS...: in round N each one was in its box of round 1, with its
# address, the host reachable, the private /tmp, hidden homes, the bind.
sound() {
        local n=$1 u f
        shift
        for u in "$@"; do
                f=$W/out/seen.$u.$n
                [ "$(value nsbox_id $f)" = "$(value nsbox_id $W/out/seen.$u.1)" ] &&
                        [ -n "$(value nsbox_id $f)" ] &&
                        [ "$(value addr $f)" = "$(value addr $W/out/seen.$u.1)" ] &&
                        grep -qx tcp=ok $f && [ "$(value tmp_marker $f)" = no ] &&
                        [ "$(value homes $f)" = "" ] && [ "$(value bind_read $f)" = bound-content ] &&
                        [ "$(value ro_write $f)" = no ] && [ "$(value hostname $f)" = box-$u ] ||
                        { echo "# $u, round $n:" $(cat $f); return 1; }
        done
}
# Nothing of any box: no box listed, no init, no host end, no element, no
# state file, no mount, no process of the users.
nothing_left() {
        no_boxes && no_init && [ "$(links)" = "$links_before" ] && ruleset_clean &&
                run_clean && ! pgrep -u "$(echo $users | tr ' ' ,)" >/dev/null &&
                [ "$(sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | sort)" = "$mounts_before" ]
}
# log_in USERS...: each one's shell, the agent, in a box; pids says them.
log_in() {
        local u
        pids=()
        for u in "$@"; do
                su $u -c $W/bin/agent > /dev/null 2>&1 &
                pids+=($!)
        done
        wait_for 300 bash -c "[ \"\$($NSBOX list --json | grep -c '\"state\": \"running\"')\" = $# ]"
}
inits() { pgrep -x nsbox-init | sort -n | tr '\n' ' '; }
no_helper() { ! pgrep -x nsbox-helper >/dev/null; }
ids_of() { $NSBOX list --json | $PY -c "
import json, sys
for b in json.load(sys.stdin):
    if b['state'] == 'running':
        print(b['user'], b['id'], b['addresses'][0], b['sessions'])" | sort; }

# --- crash: SIGKILL of the helper under twenty logins ---
log_in $users
round 1 $users
check crash/before "twenty users are logged in, each in a sound box" sound 1 $users
before=$(ids_of)
inits_before=$(inits)
check crash/state-files "each running box has its file in $STATE, root's alone" \
        bash -c "[ \$(ls $STATE | wc -l) = $n_users ] && [ \"\$(stat -c %U:%a $STATE \$(ls -d $STATE/*) | sort -u)\" = \"\$(printf 'root:600\nroot:700')\" ]"
pkill -KILL -x nsbox-helper
wait_for 50 no_helper
sleep 1
check crash/inits-live "with the helper dead, every box's init lives on" test "$(inits)" = "$inits_before"
round 2 $users
check crash/sessions-live "every session keeps its shell, box, address, network and mounts with no helper" sound 2 $users
check crash/no-helper "(no helper ran meanwhile)" no_helper
check crash/host-ends "the host ends of the twenty boxes are all there" \
        test "$(ip -br link | grep -c '^nsb')" = $n_users
su user021 -c "echo id=\$NSBOX_ID; echo addr=\$($IP -br -4 addr show eth0 | awk '{print \$3}')" > $W/out/next.login
check crash/next-login "the next login starts a helper and is boxed" \
        bash -c "pgrep -x nsbox-helper >/dev/null && grep -qx 'id=[0-9a-f]\{8\}' $W/out/next.login"
log_sync
check crash/adopt-logged "the new helper logs taking over each of the twenty boxes" \
        test "$(grep -c 'nsbox-helper.*event=adopt box=[0-9a-f]* user=user0[0-2][0-9] .* sessions=1' $LOG)" = $n_users
wait_for 50 bash -c "! $NSBOX list --json | grep -q '\"user\": \"user021\"'"
check crash/list "nsbox list shows all twenty, with their ids, addresses and sessions" test "$(ids_of)" = "$before"
check crash/lease-kept "the next login's address is none of theirs" \
        bash -c "! grep -q \" $(value addr $W/out/next.login | cut -d/ -f1) \" <<< \"$before\""
id1=$(awk '$1 == "user001" {print $2}' <<< "$before")
check crash/show "nsbox show works on a box taken over, with its session" \
        bash -c "$NSBOX show $id1 | grep -q 'user001' && $NSBOX show $id1 --json | $PY -c 'import json, sys; d = json.load(sys.stdin); d = d[0] if isinstance(d, list) else d; assert len(d[\"sessions\"]) == 1'"
# (and those of the networks the new helper made ahead, whose links exist)
elements=$(nft -j list set inet nsbox ifaces | grep -o '"nsb[0-9a-f]*"' | tr -d '"' | sort -u)
check crash/elements "the nftables table holds the twenty host ends, and no element of a link that does not exist" \
        bash -c "[ \"\$(grep -cxF \"$(awk '{print "nsb" $2}' <<< "$before")\" <<< \"$elements\")\" = $n_users ] &&
                 for e in $(echo $elements); do ip link show \$e >/dev/null 2>&1 || exit 1; done"
round 3 $users
check crash/sessions-after "after the takeover every session is as sound" sound 3 $users
# A second crash: a helper that took boxes over hands them on as well.
pkill -KILL -x nsbox-helper
wait_for 50 no_helper
su user021 -c true
check crash/again "a second helper takes them over from the first one's takeover" test "$(ids_of)" = "$before"
touch $W/out/quit.all
wait "${pids[@]}" 2>/dev/null
check crash/logout "logout still leaves nothing" wait_for 150 nothing_left
rm -f $W/out/quit.all $W/out/round.* $W/out/seen.*

# --- stop: a helper stopped for good ---
three="user001 user002 user003"
log_in $three
round 1 $three
declare -A init_of
for u in $three; do init_of[$u]=$(box_field $u pid); done
pkill -TERM -x nsbox-helper
check stop/helper-exits "SIGTERM stops the helper under live boxes" wait_for 100 no_helper
check stop/logged "and it says the boxes stay" grep -q 'nsbox-helper.*event=helper-stop .*the running boxes stay' $LOG
touch $W/out/quit.user001
check stop/ends "user001's box ends with its last session, no helper running" \
        wait_for 50 bash -c "! kill -0 ${init_of[user001]} 2>/dev/null"
check stop/host-end "and its host end with it" wait_for 50 bash -c "[ \$(ip -br link | grep -c '^nsb') = 2 ]"
round 2 user002 user003
check stop/others "the other sessions go on" sound 2 user002 user003
touch $W/out/quit.user003
sleep 1.5
check stop/linger "user003's box outlives its session by its linger (3 s)" kill -0 ${init_of[user003]}
check stop/linger-ends "then ends" wait_for 60 bash -c "! kill -0 ${init_of[user003]} 2>/dev/null"
touch $W/out/quit.user002
check stop/last "the last box ends with its session" \
        wait_for 50 bash -c "! kill -0 ${init_of[user002]} 2>/dev/null"
wait "${pids[@]}" 2>/dev/null
check stop/no-helper "no helper ran meanwhile" no_helper
check stop/no-init "no init is left" no_init
links_as_before() { [ "$(links)" = "$links_before" ]; }
check stop/links "no host end is left" wait_for 50 links_as_before
su user021 -c true
check stop/next-cleans "the next helper clears what the stopped one's boxes left (files, elements)" \
        wait_for 100 nothing_left
rm -f $W/out/quit.* $W/out/round.* $W/out/seen.*

# --- hostile state ---
# Two real boxes, then a dead helper; a user's own processes as fake inits.
two="user001 user002"
log_in $two
round 1 $two
a=$(box_field user001 id)
b=$(box_field user002 id)
pkill -KILL -x nsbox-helper
wait_for 50 no_helper
setpriv --reuid=user005 --regid=2100 --clear-groups sleep 300 &
plain=$!
setpriv --reuid=user005 --regid=2100 --clear-groups sleep 300 &
plain2=$!
setpriv --reuid=user005 --regid=2100 --clear-groups sleep 300 &
plain3=$!
setpriv --reuid=user006 --regid=2100 --clear-groups $PY -c "
import os, socket, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
os.dup2(a.fileno(), 5); os.dup2(b.fileno(), 3)
time.sleep(300)" &
faker=$!
sleep 0.5
start_of() { awk '{print $22}' /proc/$1/stat; }
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
line() { echo "nsbox-box 1 $1 $2 $3"; }
# swapped: each real box's file under the other's name; copied: a third name.
ca=$(cat $STATE/$a)
cb=$(cat $STATE/$b)
echo "$cb" > $STATE/$a
echo "$ca" > $STATE/$b
echo "$ca" > $STATE/c0c0c0c0
line $plain "$(start_of $plain)" $token > $STATE/0000f001         # a fake init: a user's process
line $faker "$(start_of $faker)" $token > $STATE/0000f002         # one holding a link of its own
line $plain2 $(( $(start_of $plain2) + 7 )) $token > $STATE/0000f003 # a recycled pid
echo "hello" > $STATE/0000f004                                      # garbage
line $plain3 "$(start_of $plain3)" $token > $STATE/0000f005
chown user005 $STATE/0000f005                                       # not root's
line $plain "$(start_of $plain)" $token > $STATE/not-an-id          # not a box's name
chmod 0600 $STATE/*
ln -s /etc/passwd $STATE/0000f006                                   # a symlink
su user021 -c true
refused() { grep -q "nsbox-helper.*event=adopt-refused $1 reason=\"$2\"" $LOG; }
check hostile/fake-init "a file naming a user's process is refused" \
        refused "box=0000f001 pid=$plain" "it holds no link"
check hostile/fake-link "one naming a user's process that holds a link of its own is refused" \
        refused "box=0000f002 pid=$faker" "its link is no helper's"
check hostile/recycled "a pid whose start time is not the file's is refused" \
        refused "box=0000f003 pid=$plain2" "its pid is another process's now"
check hostile/garbage "a malformed file is refused" refused "file=$STATE/0000f004" malformed
check hostile/not-roots "a file not root's alone is refused" \
        refused "file=$STATE/0000f005" "not a small regular file of root's alone"
check hostile/symlink "a symlink is refused" refused "file=$STATE/0000f006" "cannot be opened"
check hostile/bad-name "a file with no box's name is refused" refused "file=$STATE/not-an-id" "not a box's file"
check hostile/copied "a copy of a box's file under another name is refused" \
        grep -q "nsbox-helper.*event=adopt-refused box=\(c0c0c0c0\|$b\) pid=[0-9]* reason=\"another file names its process too\"$" $LOG
check hostile/untouched "the users' processes it named are left alone" kill -0 $plain $plain2 $plain3 $faker
check hostile/swapped "swapped files: each init proves its box by its token and keeps its own id" \
        bash -c "grep -q 'event=adopt-misnamed file=$STATE/$a box=$b ' $LOG && grep -q 'event=adopt-misnamed file=$STATE/\($b\|c0c0c0c0\) box=$a ' $LOG"
check hostile/real-kept "both real boxes are taken over under their ids" \
        test "$(box_field user001 id) $(box_field user002 id)" = "$a $b"
check hostile/files-cleaned "what was refused is gone from $STATE; the real boxes' files are right again" \
        wait_for 50 bash -c "[ \"\$(ls $STATE | sort | tr '\n' ' ')\" = \"\$(printf '%s\n' $a $b | sort | tr '\n' ' ')\" ] && [ \"\$(cat $STATE/$a)\" = '$ca' ]"
round 2 $two
check hostile/sessions "their sessions go on" sound 2 $two
kill $plain $plain2 $plain3 $faker 2>/dev/null
wait $plain $plain2 $plain3 $faker 2>/dev/null
touch $W/out/quit.all
wait "${pids[@]}" 2>/dev/null
check hostile/logout "logout leaves nothing" wait_for 100 nothing_left

# --- versions meeting ---
# A peer of another protocol version (here a list request of version 2, as
# a newer CLI or module might send) gets an error reply at once, never a
# hang, and the helper says so once.
su user001 -c true
out=$($PY -c "
import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect('/run/nsbox/helper.sock')
attr = struct.pack('=HHI', 8, 1, 2)             # A_VERSION = 2
s.send(struct.pack('=IHHII', 16 + len(attr), 0x12, 1, 0, 0) + attr)
r = s.recv(65536)
print('error' if len(r) >= 16 and struct.unpack_from('=IH', r)[1] == 0x21 else 'other')" 2>&1)
check version/refused "a request of protocol version 2 gets an error reply: $out" test "$out" = error
check version/logged "and one log line naming the version" \
        grep -q 'nsbox-helper.*event=request-refused pid=[0-9]* uid=0 socket=login type=0x12 .*another protocol version' $LOG
check version/helper-lives "the helper goes on" su user001 -c true

exit 0
