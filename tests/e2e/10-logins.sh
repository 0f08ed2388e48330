#!/bin/bash
# Scenario: alice logs in five real ways — libpam through pamtester, su,
# runuser, login on a pty, ssh to sshd — and each time her session is boxed:
# it sees only the box's processes, the box's hostname, a private /tmp, only
# her own home, read-only and inaccessible paths and a bind as the policy
# says.  From outside, nothing of the box remains once she logs out.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_pam
write_policy
setup_fixtures
setup_probe
mounts_before=$(wc -l < /proc/self/mountinfo)
have_sshd=yes
setup_sshd || have_sshd=no

# Each way of logging in writes the probe's output to a file.
run_pamtester() { pamtester nsbox-pamtester alice open_session close_session >/dev/null 2>&1 && grep -A100 '^\*\*\*' $W/out/pamexec.out | tail -n +2 > "$1"; }
run_su() { su alice -c "$W/bin/probe" > "$1"; }
run_runuser() { runuser -u alice -- $W/bin/probe > "$1"; }
run_login() { login_run alice "$W/bin/probe > /home/alice/probe.login" && cp /home/alice/probe.login "$1"; }
run_ssh() { ssh_to alice $W/bin/probe > "$1"; }

for how in pamtester su runuser login ssh; do
        t=login/$how
        out=$W/out/$how.probe
        case $how in
        pamtester) command -v pamtester >/dev/null || { skip $t "pamtester is not installed"; continue; } ;;
        login) command -v expect >/dev/null || { skip $t "expect is not installed"; continue; } ;;
        ssh) [ $have_sshd = yes ] || { skip $t "sshd could not be started"; continue; } ;;
        esac
        if ! run_$how "$out"; then
                fail $t "the login failed: $(tail -n 3 $W/out/syslog | tr '\n' ' ')"
                continue
        fi
        id=$(value nsbox_id "$out")
        check $t/boxed "NSBOX_ID is set in the session" test -n "$id"
        check $t/share-env "NSBOX_SHARE=session" test "$(value nsbox_share "$out")" = session
        check $t/pid-init "PID 1 in the session is nsbox-init, not '$(value init_comm "$out")'" \
                test "$(value init_comm "$out")" = nsbox-init
        check $t/pid-isolation "the session sees only a handful of processes ($(value pids "$out"))" \
                test "$(value nprocs "$out")" -le 8
        check $t/hostname "hostname is box-alice, not '$(value hostname "$out")'" \
                test "$(value hostname "$out")" = box-alice
        check $t/private-tmp "the world's /tmp and /var/tmp markers are not visible" \
                test "$(value tmp_marker "$out")$(value vartmp_marker "$out")" = nono
        check $t/private-tmp-usable "/tmp is 1777 and writable" \
                test "$(value tmp_mode "$out")$(value tmp_write "$out")" = 1777yes
        check $t/private-shm "with an ipc namespace, /dev/shm is the box's own and usable" \
                test "$(value shm_marker "$out")$(value shm_write "$out")" = noyes
        check $t/x11-own-dir "the private /tmp has an X11 socket directory of its own, root's and sticky" \
                test "$(value x11_dir "$out")" = root:1777
        check $t/x11-none "showing no X server's socket to a login without a display" test -z "$(value x11 "$out")"
        check $t/ice-planted-hidden "a user-owned ICE directory is not carried into other boxes" \
                test -z "$(value ice "$out")" -a "$(value ice_dir "$out")" = root:1777
        check $t/hide-homes "/home shows only alice, not '$(value homes "$out")'" \
                test "$(value homes "$out")" = "alice "
        check $t/read-only "/srv/ro cannot be written" test "$(value ro_write "$out")" = no
        check $t/read-only-home "\${HOME}/ro cannot be written" test "$(value home_ro_write "$out")" = no
        check $t/inaccessible "/srv/secret/data cannot be read" test "$(value secret_read "$out")" = no
        check $t/bind "/srv/dst shows /srv/src read-only" \
                test "$(value bind_read "$out")$(value bind_write "$out")" = bound-contentno
        if [ $how != pamtester ]; then
                check $t/uid "the shell runs as alice" test "$(value uid "$out")" = 2001
                check $t/home-writable "alice can still write her home" test "$(value home_write "$out")" = yes
        fi
        # From outside: the box is gone, and with it its init and its mounts.
        check $t/teardown "the box ended after logout" wait_for 30 no_boxes
        check $t/teardown-init "no nsbox-init remains" wait_for 30 no_init
        check $t/outside-tmp "the session's files did not reach the world's /tmp" \
                bash -c "! ls /tmp/probe.* 2>/dev/null | grep -q ."
        check $t/outside-hostname "the world's hostname is unchanged" test "$(hostname)" = world
        check $t/outside-mounts "the world's mount table is unchanged" test "$(wc -l < /proc/self/mountinfo)" = "$mounts_before"
done

# sshd's monitor stays host root after joining: it allocates a pty and
# chowns it to the user.
if [ $have_sshd = yes ]; then
        out=$W/out/pty.probe
        ssh_to alice -tt 'tty; stat -c %U $(tty); echo nsbox_id=$NSBOX_ID' 2>/dev/null | tr -d '\r' > $out
        check login/ssh-pty "an ssh login with a pty works" grep -q '^/dev/pts/' $out
        check login/ssh-pty-owner "the pty was chowned to alice by the monitor" grep -qx alice $out
        check login/ssh-pty-boxed "and the session is boxed" grep -q 'nsbox_id=[0-9a-f]' $out
fi

# A multithreaded application (a display manager has helper threads): the
# thread that opens the session joins the box, and what it forks is boxed.
pam_service nsbox-threads
out=$W/out/threads.probe
$B/tests/pamthreads nsbox-threads alice $W/bin/probe > $out
status=$?
check login/threaded-app "a multithreaded PAM application opens and closes a boxed session (status $status)" \
        test $status = 0 -a -s $out
check login/threaded-leave "the thread left the box cleanly" not grep -q 'event=leave-failed.*service=nsbox-threads' $W/out/syslog
check login/threaded-boxed "its session is boxed" test "$(value init_comm $out)" = nsbox-init
check login/threaded-homes "and sees only alice's home" test "$(value homes $out)" = "alice "

# pam_sm_close_session puts the process back: a module after ours in the
# stack runs its close hook in the original namespaces.
pam_service nsbox-close "session  optional   pam_exec.so type=close_session log=$W/out/close.out $W/bin/probe"
pamtester nsbox-close alice open_session close_session >/dev/null 2>&1
out=$W/out/close.probe
grep -A100 '^\*\*\*' $W/out/close.out | tail -n +2 > $out
check login/close-returns-pid "after close, new children are in the original PID namespace" \
        bash -c "test \"\$(sed -n 's/^init_comm=//p' $out)\" != nsbox-init"
check login/close-returns-uts "after close, the hostname is the world's again" test "$(value hostname $out)" = world
check login/close-returns-mnt "after close, /home shows every home again" test "$(value homes $out)" = "alice bob carol "

# The module really ran for the service asked for (not libpam's "other").
check login/module-ran "each service's session was joined (so the module ran for it)" \
        bash -c "for s in nsbox-pamtester su runuser login sshd; do grep -q \"event=join .* service=\$s \" $W/out/syslog || exit 1; done"

# The smallest box: a mount namespace only (the view, no PID namespace).
# Its nsbox-init is not PID 1 there, and still holds the box.
write_policy "[default]
namespaces = mount
private_tmp = yes
hide_homes = yes"
out=$W/out/mount-only.probe
setpriv --reuid=alice --regid=alice --clear-groups sleep 60 &
outside=$!
su alice -c "$W/bin/probe; cat /proc/self/status | grep -E '^(NSpid|CapEff)'" > $out 2>&1
check login/mount-only "a mount-only box is made and joined" test -n "$(value nsbox_id $out)"
check login/mount-only-view "with its private /tmp and hidden homes" \
        bash -c "[ \"$(value tmp_marker $out)\" = no ] && [ \"$(value homes $out)\" = 'alice ' ]"
check login/mount-only-pid "and the host's PID namespace" not grep -q '^NSpid:.*[0-9][[:space:]][0-9]' $out
check login/mount-only-gone "which ends with the login" wait_for 40 no_boxes
sleep 0.2
check login/mount-only-spares-others "and its end signals none of alice's processes outside it" kill -0 $outside
kill $outside; wait $outside 2>/dev/null
write_policy

# The last check decides nothing about the exit status; a death before here does.
exit 0
