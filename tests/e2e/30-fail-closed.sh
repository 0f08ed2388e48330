#!/bin/bash
# Scenario: the policy is a security boundary, so a broken one denies the
# users it would box — with one clear log line — while root and exempt users
# still get in.  A box whose setup fails is denied and leaves nothing.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_all
good=$(write_policy; cat /etc/security/nsbox.conf)

# name | global readable? | what nsbox check must name | how to break the
# policy (a shell snippet).  Where
# the file is still read (a bad value, an unknown key), its [global] section
# counts and carol, exempt through admins, gets in; where the file cannot be
# trusted or parsed at all, only root does.
D=/etc/security/nsbox.d
cases=(
        "syntax-error|no|nsbox.conf|printf '[default\nbox = yes\n' > /etc/security/nsbox.conf"
        "long-line|no|nsbox.conf|printf '[default]\nread_only = /%01100d\n' 0 >> /etc/security/nsbox.conf"
        "not-root-owned|no|nsbox.conf|chown alice /etc/security/nsbox.conf"
        "group-writable|no|nsbox.conf|chmod 0664 /etc/security/nsbox.conf"
        "symlink|no|nsbox.conf|mv /etc/security/nsbox.conf /etc/security/real.conf && ln -s real.conf /etc/security/nsbox.conf"
        "missing|no|nsbox.conf|rm -f /etc/security/nsbox.conf"
        "unknown-key|yes|frobnicate|printf '[default]\nfrobnicate = 1\n' > $D/50-bad.conf"
        "unknown-section|yes|defaults|printf '[defaults]\nbox = yes\n' > $D/50-bad.conf"
        "key-outside-section|yes|50-bad.conf|printf 'box = yes\n[default]\n' > $D/50-bad.conf"
        "wrong-scope|yes|exempt_users|printf '[default]\nexempt_users = alice\n' > $D/50-bad.conf"
        "bad-bool|yes|private_tmp|printf '[default]\nprivate_tmp = maybe\n' > $D/50-bad.conf"
        "bad-share|yes|share|printf '[default]\nshare = sometimes\n' > $D/50-bad.conf"
        "bad-linger|yes|linger|printf '[default]\nlinger = -1\n' > $D/50-bad.conf"
        "bad-namespaces|yes|namespaces|printf '[default]\nnamespaces = pid uts\n' > $D/50-bad.conf"
        "relative-path|yes|srv/ro|printf '[default]\nread_only = srv/ro\n' > $D/50-bad.conf"
        "dotdot-path|yes|inaccessible|printf '[default]\ninaccessible = /srv/../etc\n' > $D/50-bad.conf"
        "unknown-expansion|yes|SHELL|printf '[default]\nread_only = \${SHELL}/x\n' > $D/50-bad.conf"
        "bad-bind|yes|bind|printf '[default]\nbind = /srv/src\n' > $D/50-bad.conf"
        "bad-hostname|yes|hostname|printf '[default]\nhostname = \${HOME}\n' > $D/50-bad.conf"
        "bad-tasks-max|yes|tasks_max|printf '[default]\ntasks_max = 0\n' > $D/50-bad.conf"
        "bad-memory-max|yes|memory_max|printf '[default]\nmemory_max = 12q\n' > $D/50-bad.conf"
        "bad-cpu-max|yes|cpu_max|printf '[default]\ncpu_max = 50\n' > $D/50-bad.conf"
        "bad-io-weight|yes|io_weight|printf '[default]\nio_weight = 10001\n' > $D/50-bad.conf"
        "dropin-not-root|yes|50-x.conf|printf '[default]\nbox = yes\n' > $D/50-x.conf && chown alice $D/50-x.conf"
)

for c in "${cases[@]}"; do
        name=${c%%|*}
        rest=${c#*|}
        global=${rest%%|*}
        rest=${rest#*|}
        expect=${rest%%|*}
        t=fail-closed/$name
        rm -rf /etc/security/nsbox.conf /etc/security/real.conf $D/*
        write_policy "$good"
        bash -c "${rest#*|}"
        chmod -f go-w $D/*.conf 2>/dev/null
        log_sync
        lines_before=$(grep -c 'event=denied user=alice ' $W/out/syslog)
        $NSBOX check >$W/out/check.out 2>&1
        rc=$?
        check $t/check "nsbox check fails (status $rc) and names '$expect' ($(head -c 200 $W/out/check.out))" \
                test $rc != 0 -a "$(grep -cF -- "$expect" $W/out/check.out)" -gt 0
        check $t/su-denied "su to alice is refused" bash -c "! su alice -c true 2>/dev/null"
        log_sync
        check $t/one-log-line "exactly one denial line for that login" \
                test "$(grep -c 'event=denied user=alice ' $W/out/syslog)" = $((lines_before + 1))
        check $t/root-gets-in "root still gets a session" su root -c true
        if [ $global = yes ]; then
                check $t/exempt-gets-in "carol, exempt through admins, still gets in" su carol -c true
        else
                check $t/exempt-not-trusted "carol's exemption comes from a file that cannot be trusted: denied" \
                        bash -c "! su carol -c true 2>/dev/null"
        fi
        if [ $have_sshd = yes ]; then
                check $t/ssh-denied "ssh as alice is refused" not ssh_to alice true
                check $t/ssh-root "ssh as root still works" ssh_to root true
        fi
        check $t/nothing-left "no box was left behind" no_boxes
done
# Every way of logging in is denied under a broken policy, and root gets in
# every way.
rm -rf /etc/security/nsbox.conf $D/*
write_policy "$good"
printf '[default]\nfrobnicate = 1\n' > $D/50-bad.conf
chmod 0644 $D/50-bad.conf
check all-ways/pamtester-denied "pamtester for alice fails" not pamtester nsbox-pamtester alice open_session
check all-ways/pamtester-root "pamtester for root succeeds" pamtester nsbox-pamtester root open_session close_session
check all-ways/runuser-denied "runuser to alice fails" not runuser -u alice -- true
check all-ways/runuser-root "runuser to root succeeds" runuser -u root -- true
check all-ways/login-denied "login as alice fails" not login_run alice "echo in > /home/alice/login.in"
check all-ways/login-denied-shell "no shell of alice ran" test ! -e /home/alice/login.in
check all-ways/login-root "login as root succeeds" login_run root "true"
rm -f $D/*

grep 'event=denied user=alice ' $W/out/syslog | tail -n 3 | sed 's/^/   log: /'
rm -rf /etc/security/nsbox.conf /etc/security/real.conf $D/*
write_policy "$good"

# A mount that fails (a bind source that does not exist) denies the login
# and leaves nothing half built.
printf '[default]\nbind = /srv/does-not-exist:/srv/dst\n' > $D/50-bind.conf
chmod 0644 $D/50-bind.conf
mounts_before=$(wc -l < /proc/self/mountinfo)
check setup-fails/denied "a login whose bind source is missing is refused" bash -c "! su alice -c true 2>/dev/null"
check setup-fails/log "the log names the step, the object and the error" \
        grep -q 'event=denied user=alice uid=2001 service=su .* step=bind object=/srv/does-not-exist: No such file or directory' $W/out/syslog
check setup-fails/no-box "no box remains" wait_for 20 no_boxes
check setup-fails/no-init "no init remains" wait_for 20 no_init
check setup-fails/mounts "the world's mounts are unchanged" test "$(wc -l < /proc/self/mountinfo)" = "$mounts_before"

# An optional source ("-" prefix) that does not exist is fine.
printf '[default]\nbind = -/srv/does-not-exist:/srv/dst\n' > $D/50-bind.conf
check setup-fails/optional-ok "an optional missing bind source does not stop the login" su alice -c true

# A user cannot turn a path the policy names into a symlink elsewhere: it is
# not followed, and the login is refused rather than /etc made read-only
# (or anything mounted) where the user pointed.
rm -rf /home/alice/ro
ln -s /etc /home/alice/ro
check symlink/denied "read_only on a path alice made a symlink refuses her login" not su alice -c true
check symlink/logged "the log says why" grep -q 'step=read_only object=/home/alice/ro: Too many levels of symbolic links' $W/out/syslog
check symlink/bob-unaffected "bob still logs in" su bob -c true
rm /home/alice/ro
mkdir /home/alice/ro
chown alice: /home/alice/ro

# box = no and exempt users are left alone.
rm -f $D/*
write_policy "$good
[user:alice]
box = no"
out=$W/out/nobox.probe
su alice -c $W/bin/probe > $out
check policy/box-no "box = no leaves alice unboxed" test -z "$(value nsbox_id $out)"
su carol -c $W/bin/probe > $out
check policy/exempt "an exempt user is not boxed" test -z "$(value nsbox_id $out)"
check policy/exempt-homes "an exempt user sees every home" test "$(value homes $out)" = "alice bob carol "

# A login from inside a box is refused: boxes are built from the host's view.
write_policy "$good"
out=$W/out/nested
su alice -c "su alice -c true; echo rc=\$?" > $out 2>&1 </dev/null
check policy/nested "su inside a box cannot build a box from the box's view" grep -q 'rc=1' $out
# A login from a service in a private mount namespace of its own (not a
# box) is boxed as usual.
out=$W/out/private-mnt
unshare -m --propagation private su alice -c 'echo id=$NSBOX_ID' > $out 2>&1
check policy/private-mount-ns "a login from a private mount namespace is boxed" grep -q 'id=[0-9a-f]\{8\}' $out

# The last check decides nothing about the exit status; a death before here does.
exit 0
