#!/bin/bash
# Scenario: desktop sessions.  LightDM, from Debian's package, logs alice in
# automatically on an X server (Xvfb behind a wrapper that drops the VT
# arguments Xvfb rejects), with pam_nsbox in its lightdm-autologin PAM
# service; a second LightDM (on a D-Bus system bus of its own) does the
# same for bob at the same time.  The session command is a probe that
# records what the desktop sees: it is boxed, X11 clients work with a
# private /tmp, a session bus starts, XDG_RUNTIME_DIR (made by a logind
# stand-in) is reachable and private, and each user sees only their own
# home, processes and X socket.  When the display manager ends the
# session, nothing of the box is left.  Then the systemd-user PAM stack, as
# README and pam_nsbox(8) tell admins to set it up, joins the box of a
# running login of the same user (share = user).
source "$NSBOX_REPO/tests/lib/e2e.sh"

for tool in lightdm Xvfb xdpyinfo dbus-launch dbus-daemon dbus-send; do
        command -v $tool >/dev/null || { skip desktop "$tool is not installed (.ci/run installs lightdm, xvfb, x11-utils, dbus-x11)"; exit 0; }
done
private_system
# As on a systemd machine, the host's mounts are shared, so that runtime
# directories mounted later reach the boxes (propagation = slave).
mount --make-rshared /
setup_probe
LOG=$W/out/syslog
chmod 1777 $W/out
# The desktop example the project ships, with no linger (a drop-in).
cp $NSBOX_REPO/conf/nsbox-desktop.conf /etc/security/nsbox.conf
printf '[default]\nlinger = 0\n' > /etc/security/nsbox.d/99-test.conf
chmod 0644 /etc/security/nsbox.conf /etc/security/nsbox.d/99-test.conf
check desktop/example-valid "the shipped desktop policy is valid" $NSBOX check

# --- the desktop's parts ---
cat > $W/bin/xvfb <<'X'
#!/bin/bash
# LightDM starts "X :N -seat S -auth F -nolisten tcp vtN -novtswitch".
args=()
while [ $# -gt 0 ]; do
        case $1 in
        vt[0-9]*|-novtswitch|-keeptty) ;;
        -seat) shift ;;
        *) args+=("$1") ;;
        esac
        shift
done
exec Xvfb "${args[@]}" -screen 0 640x480x24
X
# What logind would do: a runtime directory per user, 0700, gone at the end.
cat > $W/bin/logind-lite <<'L'
#!/bin/sh
d=/run/user/$PAM_USER
if [ "$PAM_TYPE" = open_session ]; then
        mkdir -p $d && mount -t tmpfs -o mode=0700,uid=$(id -u $PAM_USER),gid=$(id -g $PAM_USER) runtime $d
elif [ "$PAM_TYPE" = close_session ]; then
        umount $d && rmdir $d
fi
exit 0
L
echo 'XDG_RUNTIME_DIR DEFAULT=/run/user/@{PAM_USER}' > $W/etc/xdg.conf
# The session: record, wait until both desktops are up, record again, end.
cat > $W/bin/desktop-probe <<'P'
#!/bin/bash
o=/run/world/out/desktop.$USER
{
        echo "nsbox_id=${NSBOX_ID:-}"
        echo "display=$DISPLAY"
        echo "init_comm=$(cat /proc/1/comm)"
        echo "xdpyinfo=$(xdpyinfo >/dev/null 2>&1 && echo ok || echo fail)"
        if eval "$(dbus-launch --sh-syntax)"; then
                dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
                        org.freedesktop.DBus.ListNames >/dev/null && echo dbus=ok || echo dbus=fail
                kill $DBUS_SESSION_BUS_PID
        else
                echo dbus=fail
        fi
        echo "xdg=${XDG_RUNTIME_DIR:-}"
        echo "xdg_mode=$(stat -c %U:%a "$XDG_RUNTIME_DIR" 2>/dev/null)"
        echo "xdg_write=$(touch "$XDG_RUNTIME_DIR/probe" 2>/dev/null && echo yes || echo no)"
        for i in $(seq 200); do [ -e /run/world/out/both-up ] && break; sleep 0.1; done
        echo "both=$(test -e /run/world/out/both-up && echo yes || echo no)"
        echo "homes=$(ls /home | tr '\n' ' ')"
        echo "x11=$(ls /tmp/.X11-unix | tr '\n' ' ')"
        echo "users=$(ps -eo user= | sort -u | tr '\n' ' ')"
        echo "nprocs=$(ps -e --no-headers | wc -l)"
        others=
        for d in /run/user/*; do
                [ "$d" = "$XDG_RUNTIME_DIR" ] && continue
                others="$others$(ls -A "$d" 2>/dev/null)"
        done
        echo "others_xdg_seen=$others"
} > $o.tmp 2>&1
mv $o.tmp $o
P
chmod 0755 $W/bin/xvfb $W/bin/logind-lite $W/bin/desktop-probe
mkdir -p /usr/share/xsessions /run/user
printf '[Desktop Entry]\nName=probe\nExec=%s\nType=Application\n' $W/bin/desktop-probe > /usr/share/xsessions/probe.desktop
cat >> /etc/pam.d/lightdm-autologin <<E
session  optional  pam_exec.so $W/bin/logind-lite
session  optional  pam_env.so conffile=$W/etc/xdg.conf readenv=0
session  required  $B/pam_nsbox.so helper=$B/nsbox-helper
E

# --- two display managers, two autologins ---
dm() {          # dm N USER
        mkdir -p /run/dbus$1
        dbus-daemon --system --fork --nopidfile --address=unix:path=/run/dbus$1/system_bus_socket
        cat > $W/etc/lightdm$1.conf <<C
[LightDM]
run-directory=/run/lightdm$1
log-directory=$W/out/lightdm$1
cache-directory=/var/cache/lightdm$1
[Seat:*]
xserver-command=$W/bin/xvfb
autologin-user=$2
autologin-session=probe
user-session=probe
C
        DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus$1/system_bus_socket \
                lightdm --config $W/etc/lightdm$1.conf > $W/out/lightdm$1.out 2>&1 &
}
dm 1 alice
check desktop/alice-boxed-dm "LightDM's autologin of alice is boxed (a start record with service lightdm-autologin on :0)" \
        wait_for 150 grep -q 'event=start .*user=alice .*service=lightdm-autologin tty=:0' $LOG
dm 2 bob
check desktop/two-boxes "with bob's desktop up too, there are two boxes" \
        wait_for 150 bash -c "[ \$($NSBOX list --json | grep -c '\"state\": \"running\"') = 2 ]"
touch $W/out/both-up
check desktop/probes "both desktop sessions ran their probe" \
        wait_for 200 bash -c "[ -e $W/out/desktop.alice ] && [ -e $W/out/desktop.bob ]"
a=$W/out/desktop.alice
b=$W/out/desktop.bob
cat $a $b | sed 's/^/   /'

check desktop/nsbox-id "alice's session has NSBOX_ID" grep -Eq '^nsbox_id=[0-9a-f]{8}$' $a
check desktop/distinct "bob's box is another one" test "$(value nsbox_id $a)" != "$(value nsbox_id $b)" -a -n "$(value nsbox_id $b)"
check desktop/pid-ns "the session's PID 1 is nsbox-init" test "$(value init_comm $a)" = nsbox-init
check desktop/xdpyinfo "an X11 client works in the box with private_tmp = yes" test "$(value xdpyinfo $a)" = ok
check desktop/xdpyinfo-bob "also on bob's display" test "$(value xdpyinfo $b)$(value display $b)" = ok:1
check desktop/dbus "a session bus starts (dbus-launch) and answers" test "$(value dbus $a)" = ok
check desktop/xdg-set "XDG_RUNTIME_DIR is set" test "$(value xdg $a)" = /run/user/alice
check desktop/xdg-private "reachable, the user's own and private (0700)" test "$(value xdg_mode $a)$(value xdg_write $a)" = alice:700yes
check desktop/both-up "both desktops were up at once while probed" test "$(value both $a)$(value both $b)" = yesyes
check desktop/homes "alice sees only her home" test "$(value homes $a)" = "alice "
check desktop/homes-bob "bob only his" test "$(value homes $b)" = "bob "
check desktop/processes "alice sees only her own processes" test "$(value users $a)" = "alice "
check desktop/processes-bob "bob only his" test "$(value users $b)" = "bob "
check desktop/x11-own "alice's box shows her X socket only" test "$(value x11 $a)" = "X0 "
check desktop/x11-own-bob "bob's his" test "$(value x11 $b)" = "X1 "
check desktop/xdg-others "neither sees anything in the other's runtime directory" \
        test -z "$(value others_xdg_seen $a)$(value others_xdg_seen $b)"

# The probes exit: LightDM ends both sessions, and the boxes go.
check desktop/ended "when the display manager ends the sessions, their boxes end" wait_for 100 no_boxes
check desktop/ended-records "with an end record each" \
        bash -c "[ \$(grep -c 'event=end .*service=lightdm-autologin' $LOG) = 2 ]"
check desktop/ended-procs "and no process of alice or bob is left" wait_for 50 bash -c "! pgrep -u alice,bob >/dev/null"
check desktop/ended-init "nor a box init" wait_for 50 no_init
pkill -x lightdm; pkill -x dbus-daemon

# --- systemd --user: the systemd-user PAM service joins the login's box ---
# Debian's /etc/pam.d/systemd-user (systemd 252), with the line the README
# and pam_nsbox(8) give, and a probe after it.
cat > /etc/pam.d/systemd-user <<E
# Used by systemd --user instances.
@include common-account
session  required pam_selinux.so close
session  required pam_selinux.so nottys open
session  required pam_loginuid.so
session  required pam_limits.so
@include common-session-noninteractive
session optional pam_systemd.so
session  required  $B/pam_nsbox.so helper=$B/nsbox-helper
session  optional  pam_exec.so type=open_session log=$W/out/systemd-user.out $W/bin/probe
E
pam_service su      # a login of alice's with the module
su alice -c 'echo $NSBOX_ID; sleep 4' > $W/out/login-id 2>&1 &
held=$!
wait_for 50 box_up alice
pamtester systemd-user alice open_session close_session > $W/out/systemd-user.pamtester 2>&1
check desktop/systemd-user-stack "the systemd-user stack opens a session for alice" test $? = 0
login_id=$(head -n1 $W/out/login-id)
user_id=$(sed -n 's/^nsbox_id=//p' $W/out/systemd-user.out | head -n1)
check desktop/systemd-user-joins "and the user manager's session joins the box of her running login ($login_id)" \
        test -n "$login_id" -a "$user_id" = "$login_id"
check desktop/systemd-user-one-box "one box for both" test "$($NSBOX list --json | grep -c '"id"')" = 1
kill $held 2>/dev/null; wait $held 2>/dev/null
check desktop/systemd-user-ends "the box ends with the last of them" wait_for 80 no_boxes

# The last check decides nothing about the exit status; a death before here does.
exit 0
