#!/bin/bash
# make bench: login latency of pam_nsbox against pam_permit, pam_namespace,
# unshare(1) and bubblewrap, side by side on this machine; the breakdown of a
# full box; scale with 0..2000 live boxes (and their takeover by a new helper); footprint; teardown; a callgrind
# instruction count.  Ratios, not absolute times, are what holds.
source "$NSBOX_REPO/tests/lib/e2e.sh"
N=${BENCH_N:-200}
T="$PY $NSBOX_REPO/tests/bench/timeit.py"
setup_all
sed -i 's/ debug$//' /etc/pam.d/*
echo "== pam_nsbox bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, kernel $(uname -r), N=$N"

# The stacks.  (b) pam_namespace with a polyinstantiated /tmp.
mkdir -p /tmp-inst && chmod 000 /tmp-inst
cp -a /etc/security/namespace.conf $W/ns.conf.saved 2>/dev/null
echo "/tmp /tmp-inst/ user root" > /etc/security/namespace.conf
stack() {       # stack NAME SESSION-LINES
        printf 'auth sufficient pam_rootok.so\nauth required pam_permit.so\naccount required pam_permit.so\n%b\n' "$2" > /etc/pam.d/$1
}
cat > $W/mount-only.conf <<P
[default]
namespaces = mount
private_tmp = yes
hide_homes = yes
P
cat > $W/full.conf <<P
[global]
pool6 = fd00:213::/64
[default]
namespaces = mount pid uts ipc user
network = veth
private_tmp = yes
hide_homes = yes
bind = /srv/src:/srv/dst:ro
P
sed 's/^hide_homes = yes/hide_homes = yes\nshare = user/' $W/full.conf > $W/shared.conf
# (x): the module loaded, its policy read, the user exempt: no box, no
# helper; what any pam_nsbox login costs at least.
sed 's/^\[global\]/[global]\nexempt_users = alice/' $W/full.conf > $W/exempt.conf
chmod 0644 $W/*.conf
nsbox="$B/pam_nsbox.so helper=$B/nsbox-helper"
stack b-a "session required pam_permit.so"
stack b-b "session required pam_namespace.so"
stack b-c "session required $nsbox config=$W/mount-only.conf"
stack b-d "session required $nsbox config=$W/full.conf"
stack b-e "session required $nsbox config=$W/shared.conf"
stack b-x "session required $nsbox config=$W/exempt.conf"
stack b-dd "session required $nsbox config=$W/full.conf debug"
pamtester b-a alice open_session close_session >/dev/null   # start the helper

measure() {     # measure NAME CMD...   (LABEL says what it is)
        local r
        r=$($T $N "${@:2}") || echo "   ($1: some runs failed: $r)"
        row "$1" "$LABEL" $r
}
row() {         # row NAME LABEL MEDIAN P95 FAILED CPU KERNEL
        eval "med_$1=$3 p95_$1=$4 cpu_$1=${6:-?} kern_$1=${7:-?}"
        printf '%-4s %-58s %9s ms %9s ms %7s %7s\n' "$1" "$2" "$3" "$4" "${6:-?}" "${7:-?}"
}
# The stacks back to back, as logins come on a busy host: each box's
# teardown, and the making of the box made ahead for the next, overlap the
# next login.  Each row also gives what a login cost the machine's CPUs in
# all (the login, the helper, the box's init, the kernel's workers; its
# kernel part after it): with C cores, logins back to back take at least
# that over C, however well their parts overlap.
#
# Then one login at a time, as logins mostly come: each starts once the
# box before it is gone (the host ends back to as many as when the cases
# began) and 50 ms later, when the helper has made ahead what the login
# before took; the work made ahead is off their path.  Every stack gets the
# pause, pam_permit's too, so the idle CPU's slower start is in all of
# them.
#
# The stacks take turns (back to back in blocks of 20, one at a time a
# login each), so that the drift of a shared machine weighs on all alike.
# Bob's share = user box is live throughout, for (e) to join.  All of it
# twice: the targets are judged on the range.
declare -A what=(
        [a]="pam_permit only (baseline)"
        [b]="pam_namespace, polyinstantiated /tmp"
        [c]="pam_nsbox mount-only: private_tmp, hide_homes"
        [d]="pam_nsbox full: 6 namespaces, veth v4+v6, views, bind"
        [e]="pam_nsbox joining a live share = user box"
        [x]="pam_nsbox loaded, user exempt (its floor)"
)
for x in a b c d e x; do
        u=alice; [ $x = e ] && u=bob
        echo "$x pamtester b-$x $u open_session close_session"
done > $W/cases
sed 's/^\(.\) /\11 /' $W/cases > $W/cases1
rows() {        # rows TIMEIT-ARGS...: one row a case, from timeit.py --cases
        local r x rest
        r=$($T "$@") || echo "   (some runs failed: $r)"
        while read -r x rest; do
                row $x "${what[${x%1}]}" $rest
        done <<< "$r"
}
stacks() {      # stacks ROUND
        local x held
        cp /etc/pam.d/b-e /etc/pam.d/su
        su bob -c 'sleep 600' & held=$!
        wait_for 50 box_up bob
        printf '\n%-4s %-58s %12s %12s %7s %7s\n' "" "pamtester open+close, back to back (round $1 of 2)" "median" "p95" "CPU ms" "kernel"
        rows --cases $N $W/cases
        printf '     %s\n' "one at a time, $((N / 2)) each"
        sleep 1
        rows --settle now --cases $((N / 2)) $W/cases1
        kill $held; wait $held 2>/dev/null
        for x in a b c d e x a1 b1 c1 d1 e1 x1; do eval "med_${x}_$1=\$med_$x cpu_${x}_$1=\$cpu_$x kern_${x}_$1=\$kern_$x"; done
}
stacks 1
stacks 2
cp /etc/pam.d/b-d /etc/pam.d/su     # the scale phase below holds full boxes
LABEL="unshare -Urmpf --net --uts --ipc true (reference)"; measure f1 unshare --user --map-root-user --mount --pid --fork --net --uts --ipc true
if command -v bwrap >/dev/null; then
        LABEL="bwrap --unshare-all true (reference)"; measure f2 bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true
else
        echo "     bwrap: SKIP (bubblewrap is not installed)"
fi

ratio() { $PY -c "print(f'{$1/$2:.2f}')"; }
verdict() { $PY -c "print('met' if $1 <= $2 else 'NOT met')"; }
verdict_eq() { [ "$1" = "$2" ] && echo met || echo "NOT met"; }
# target LABEL X Y MAX: the ratio X/Y of each round, their range, and
# whether the worse one is within MAX.
target() {
        local r1 r2 hi
        r1=$(ratio $(eval echo \$med_$2_1) $(eval echo \$med_$3_1))
        r2=$(ratio $(eval echo \$med_$2_2) $(eval echo \$med_$3_2))
        hi=$($PY -c "print(max($r1, $r2))")
        echo "  $1 <= $4 x: ${r1}x and ${r2}x ($($PY -c "print(f'{min($r1, $r2):.2f}-{max($r1, $r2):.2f}')")x)  $(verdict $hi $4)"
}
# floor WHAT X Y: a floor under a target's ratio, X / Y in each round:
# what the module costs before it asks for anything (x), and what any new
# box costs at least, the module and one round trip to the helper (a join,
# e), to which a box adds its views and its init's hop.
floor() {
        echo "    (the floor, $1: $(ratio $(eval echo \$med_$2_1) $(eval echo \$med_$3_1))x and $(ratio $(eval echo \$med_$2_2) $(eval echo \$med_$3_2))x)"
}
echo
echo "targets (medians of each round, and their range)"
echo " back to back"
target "full box (d) / pam_namespace (b)" d b 1.0
target "mount-only (c) / pam_namespace (b)" c b 0.8
floor "a join (e) / (b)" e b
target "joining (e) / pam_permit (a)" e a 1.15
floor "exempt (x) / (a)" x a
echo " one at a time"
target "full box (d) / pam_namespace (b)" d1 b1 1.0
target "mount-only (c) / pam_namespace (b)" c1 b1 0.8
floor "a join (e) / (b)" e1 b1
target "joining (e) / pam_permit (a)" e1 a1 1.15
floor "exempt (x) / (a)" x1 a1
echo " what a login costs the CPUs back to back, ms (kernel part), rounds 1 and 2"
for x in a b c d e x; do
        printf '   (%s) %s (%s) and %s (%s)\n' $x $(eval echo \$cpu_${x}_1 \$kern_${x}_1 \$cpu_${x}_2 \$kern_${x}_2)
done

# What a user feels: ssh.
if [ $have_sshd = yes ]; then
        echo; echo "ssh alice@127.0.0.1 true"
        printf '#!/bin/sh\nexec ssh -F /dev/null -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -p 2222 alice@127.0.0.1 true\n' $W/ssh/client > $W/bin/sshlogin
        chmod +x $W/bin/sshlogin
        for s in a c d; do
                cp /etc/pam.d/b-$s /etc/pam.d/sshd
                r=$($T 30 $W/bin/sshlogin)
                printf '  (%s) median %s ms, p95 %s ms\n' $s $(echo $r | cut -d' ' -f1) $(echo $r | cut -d' ' -f2)
        done
fi

# The breakdown of a full box: the median of each step's duration over
# 15 logins, from the debug records.
breakdown() {
        log_sync
        local mark=$(wc -l < $W/out/syslog)
        for i in $(seq 15); do
                pamtester b-dd alice open_session close_session >/dev/null
        done
        log_sync
        tail -n +$((mark + 1)) $W/out/syslog | sed -n 's/.*event=step .*step=\([^ ]*\) object=\([^ ]*\) usec=\([0-9]*\).*/\3 \1 \2/p;s/.*pam_nsbox.*event=step .*step=\([^ ]*\) usec=\([0-9]*\).*/\2 module:\1 -/p' |
                $PY -c "
import sys, collections, signal
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
d = collections.defaultdict(list)
for l in sys.stdin:
    us, step, obj = l.split()
    d[(step, obj)].append(int(us))
rows = sorted(((sorted(v)[len(v) // 2], k) for k, v in d.items()), reverse=True)
for us, (step, obj) in rows:
    print(f'  {us:8d} us  {step:<16} {obj}')"
}
echo; echo "breakdown of a full box (d), from debug: median of 15 logins"
breakdown

# Teardown: from the return of close_session until the box is gone: its
# processes (nsbox list empties when its PID 1 has been reaped, which the
# kernel does only after every process of the PID namespace is gone), its
# host interface, and its lease (a new box gets the same first block).
echo; echo "teardown after the last close_session: processes, interface, lease"
td=$($PY - <<PYEOF
import subprocess, time, json, socket
worst = []
def gone():
    # The box's own host end: the two made ahead for the next stay.
    return (not json.loads(subprocess.check_output(["$NSBOX", "list", "--json"])) and
            sum(n.startswith("nsb") for _, n in socket.if_nameindex()) <= 2)
for i in range(20):
    subprocess.call(["pamtester", "b-d", "alice", "open_session", "close_session"], stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    while not gone():
        time.sleep(0.001)
    worst.append((time.perf_counter() - t) * 1000)
worst.sort()
print(f"{worst[len(worst)//2]:.1f} {worst[-1]:.1f}")
PYEOF
)
echo "  median $(echo $td | cut -d' ' -f1) ms, worst $(echo $td | cut -d' ' -f2) ms  (target <= 200 ms: $(verdict ${td##* } 200))"

# Scale and footprint: 2,000 live full boxes, made 8 at a time.
echo; echo "scale: creating one more full box with K live boxes"
# A new helper: what came before (the boxes made ahead of the kinds above,
# which linger 30 s) goes with the old one.  A mount-only login starts it.
pkill -TERM -x nsbox-helper
wait_for 100 bash -c '! pgrep -x nsbox-helper >/dev/null'
wait_for 100 bash -c "! ip -br link | grep -q '^nsb'"
wait_for 50 bash -c "! nft list tables | grep -q nsbox"
pamtester b-c alice open_session close_session >/dev/null
host_view() { sed 's/^[0-9]* [0-9]* //' /proc/self/mountinfo | awk '{print $3, $4}' | sort; ip -br link | awk '{print $1}'; nft list ruleset; }
host_before=$(host_view)
helper=$(pgrep -x nsbox-helper)
pss() { awk '/^Pss:/ {s += $2} END {print s}' /proc/$1/smaps_rollup; }
helper0=$(pss $helper)
helper_rss0=$(awk '/^VmRSS:/ {print $2}' /proc/$helper/status)
held=()
# Each box alone (the run before it fully torn down), and back to back as
# the other rows are measured, where the kernel's teardown of one box's
# namespace and interfaces overlaps the making of the next.
level() {
        local m q
        sleep 2         # the logins that made the boxes have settled
        # (with the boxes made ahead of logins, two more host ends than boxes)
        m=$($T --settle $(($1 + 2)) 50 pamtester b-d alice open_session close_session | cut -d' ' -f1)
        q=$($T 50 pamtester b-d alice open_session close_session | cut -d' ' -f1)
        # and a pam_permit login, which tells what the machine itself loses
        # to the processes of the live boxes
        p=$($T 50 pamtester b-a alice open_session close_session | cut -d' ' -f1)
        eval "lvl_$1=$m lvlq_$1=$q lvla_$1=$p"
        printf '  %3d live: %s ms median alone, %s ms back to back (pam_permit: %s ms)\n' $1 $m $q $p
        # once the boxes of the back-to-back runs are gone
        [ $1 = 1 ] && { wait_for 100 bash -c "[ \$(ip -br link | grep -c '^nsb') -le 3 ]"
                local prep=$(pgrep -x nsbox-prepared)
                echo "    (idle: $(echo $prep | wc -w) boxes made ahead: $(( $(ip -br link | grep -c '^nsb') - 1 )) host ends and as many leases, and their inits, $(for p in $prep; do pss $p; done | awk '{s += $1} END {printf "%d", s / (NR ? NR : 1)}') KiB PSS each)"; }
        return 0
}
level 0
made=0
# 1 live: the first box's kind has its networks made ahead from then on.
for target in 1 500 1000 2000; do
        while [ $made -lt $target ]; do
                for k in $(seq 8); do
                        [ $made -lt $target ] || break
                        made=$((made + 1))
                        u=$(printf 'user%03d' $(( (made - 1) % 200 + 1 )))
                        su $u -c 'sleep 900' >/dev/null 2>&1 &
                        held+=($!)
                done
                wait_for 100 bash -c "[ \$($NSBOX list --json | grep -c '\"id\"') -ge $made ]"
        done
        level $target
done
echo "  breakdown of a full box with $made live boxes (median of 15)"
breakdown | head -8 | sed 's/^/  /'
ok=$($NSBOX list --json | grep -c '"id"')
echo "  all $made boxes made: $ok live ($(verdict_eq $ok $made))"
r=$(ratio $lvl_2000 $lvl_0); echo "  one more box with 2000 live <= 1.2 x with none: ${r}x  $(verdict $r 1.2)  (back to back: $(ratio $lvlq_2000 $lvlq_0)x)"
echo "  (with none live the boxes made ahead for the logins before linger, and are used; against 1 live: $(ratio $lvl_2000 $lvl_1)x, back to back $(ratio $lvlq_2000 $lvlq_1)x)"
own() { $PY -c "print(f'{$1 - $2:.3f}')"; }
own_0=$(own $lvl_0 $lvla_0) own_1=$(own $lvl_1 $lvla_1) own_2000=$(own $lvl_2000 $lvla_2000)
echo "  the box's own part, over a pam_permit login at the same time: $own_0 ms with none live, $own_1 with 1, $own_2000 with 2000: $(ratio $own_2000 $own_0)x against none, $(ratio $own_2000 $own_1)x against 1"
helper_full=$(pss $helper)
rss_per=$(( ($(awk '/^VmRSS:/ {print $2}' /proc/$helper/status) - helper_rss0) / made ))
echo "  the helper's RSS per live box: ${rss_per} KiB"
init_pss=$(for p in $($NSBOX list --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | head -50); do pss $p; done | awk '{s += $1} END {printf "%d", s / NR}')
per=$(( init_pss + (helper_full - helper0) / made ))
echo; echo "footprint of an idle box: PID 1 ${init_pss} KiB PSS + the helper's part $(( (helper_full - helper0) / made )) KiB = ${per} KiB (target <= 512 KiB: $(verdict $per 512))"
# A helper killed under all of them: how long the next one takes to take
# them over (its own count, as it logs it).
pkill -KILL -x nsbox-helper
wait_for 50 bash -c '! pgrep -x nsbox-helper >/dev/null'
pamtester b-d alice open_session close_session >/dev/null 2>&1
log_sync
line=$(grep 'event=helper-start' $W/out/syslog | tail -n 1)
adopted=$(sed -n 's/.* adopted=\([0-9]*\) .*/\1/p' <<< "$line")
usec=$(sed -n 's/.* usec=\([0-9]*\).*/\1/p' <<< "$line")
echo "  a new helper took $adopted of $made boxes over in $(( ${usec:-0} / 1000 )) ms ($(verdict_eq ${adopted:-0} $made))"
kill "${held[@]}" 2>/dev/null; wait "${held[@]}" 2>/dev/null
wait_for 600 no_boxes
# The boxes made ahead linger 30 s (prepared_linger), the table 2 s more.
wait_for 450 bash -c "! ip -br link | grep -q '^nsb'"
wait_for 50 bash -c "! nft list tables | grep -q nsbox"
echo "  after they end: $($NSBOX list --json | grep -c '"id"') boxes, $(ip -br link | grep -c '^nsb') host ends, nft table: $(nft list tables 2>/dev/null | grep -c nsbox)"
if [ "$(host_view)" = "$host_before" ]; then
        echo "  the mount table, interface list and nftables ruleset are as before: met"
else
        echo "  the mount table, interface list or nftables ruleset changed: NOT met"
        diff <(echo "$host_before") <(host_view) | head -20 | sed 's/^/    /'
fi

# A stable figure: instructions of one open+close in the module's own code.
if command -v valgrind >/dev/null; then
        echo; echo "callgrind, one open+close of a full box (module code only)"
        pam_service b-cg
        cp /etc/pam.d/b-d /etc/pam.d/b-cg
        valgrind --tool=callgrind --callgrind-out-file=$W/out/cg.out $B/tests/pamloop b-cg alice 1 >/dev/null 2>&1
        callgrind_annotate --inclusive=yes --threshold=100 $W/out/cg.out 2>/dev/null | grep -E 'pam_sm_(open|close)_session' | sed 's/^/  /'
fi
