#!/bin/bash
# Shared pieces of the end-to-end scenarios.  Sourced inside the test world.
# Every check prints one line: "PASS name", "FAIL name: why" or
# "SKIP name: why"; tests/run counts them.
set -u
W=${NSBOX_WORLD:?run through tests/world}
B=$W/build
NSBOX=$B/nsbox

# The system's python, which every user may run (a python under root's home
# would make every check run as a test user fail for the wrong reason).
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
# log_sync: every syslog line sent before it is in $W/out/syslog.  A line
# is a datagram the logger reads when it is scheduled, so a login that has
# ended may have its line still queued; a mark sent after it comes after it.
log_sync() {
        local mark="log-sync $BASHPID.$RANDOM.$EPOCHREALTIME"
        logger -d -u /dev/log -t nsbox-test -- "$mark" 2> /dev/null || return 0
        for _ in $(seq 100); do
                grep -qF -- "$mark" $W/out/syslog && return 0
                sleep 0.05
        done
}
# check NAME "what it shows" COMMAND...  A check that reads the syslog reads
# it whole.
check() {
        local name=$1 what=$2
        shift 2
        [[ "$*" != *out/syslog* ]] || log_sync
        if "$@"; then pass "$name"; else fail "$name" "$what"; fi
}

# The PAM stack every test service uses: pam_rootok lets root switch user,
# pam_permit stands in for the authentication sshd and login -f skip.
pam_service() {
        local name=$1 extra=${2:-}
        cat > /etc/pam.d/$name <<P
auth     sufficient pam_rootok.so
auth     required   pam_permit.so
account  required   pam_permit.so
password required   pam_deny.so
session  required   $B/pam_nsbox.so helper=$B/nsbox-helper debug
$extra
P
}

setup_pam() {
        cat > /etc/pam.d/other <<P
auth     required pam_deny.so
account  required pam_deny.so
password required pam_deny.so
session  required pam_deny.so
P
        for s in su su-l runuser runuser-l login sshd; do pam_service $s; done
        pam_service nsbox-pamtester "session  optional   pam_exec.so type=open_session log=$W/out/pamexec.out $W/bin/probe"
}

# The policy under test.  $1 replaces it whole when given.
write_policy() {
        if [ $# -gt 0 ]; then
                printf '%s\n' "$1" > /etc/security/nsbox.conf
        else
                cat > /etc/security/nsbox.conf <<'P'
[global]
exempt_users = root
exempt_groups = admins
# A logout is checked to leave nothing at once: the boxes made ahead go
# with the last box of their kind (e2e 61 and attack 31 test the linger).
prepared_linger = 0

[default]
box = yes
namespaces = mount pid uts ipc user
private_tmp = yes
hide_homes = yes
read_only = /srv/ro ${HOME}/ro -/srv/missing
inaccessible = /srv/secret
bind = /srv/src:/srv/dst:ro
hostname = box-${USER}

[user:bob]
share = user
P
        fi
        chmod 0644 /etc/security/nsbox.conf
}

# Fixtures that the policy's paths point at.
setup_fixtures() {
        mkdir -p /srv/ro /srv/secret /srv/src /srv/dst
        chmod 0777 /srv/ro
        echo secret > /srv/secret/data
        chmod 0644 /srv/secret/data
        echo bound-content > /srv/src/file
        echo world-marker > /tmp/world-marker
        # X servers' sockets in root's /tmp/.X11-unix: displays :0 and :1
        # (root's, as a display manager starts them) and :7, planted by bob.
        # A private /tmp shows a login only its own display's socket.  An
        # ICE directory with a user's planted socket is never carried.
        mkdir -p -m 1777 /tmp/.X11-unix /tmp/.ICE-unix
        for d in 0 1 7; do
                $PY -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" /tmp/.X11-unix/X$d
        done
        chown bob /tmp/.X11-unix/X7
        touch /tmp/.ICE-unix/planted
        chown bob /tmp/.ICE-unix
        echo world-marker > /var/tmp/world-marker
        echo world-marker > /dev/shm/world-marker
        for u in alice bob carol; do
                mkdir -p /home/$u/ro
                chown $u: /home/$u/ro
        done
}

# What a session sees, as key=value lines.
setup_probe() {
        cat > $W/bin/probe <<'P'
#!/bin/bash
echo "nsbox_id=${NSBOX_ID:-}"
echo "nsbox_share=${NSBOX_SHARE:-}"
echo "uid=$(id -u)"
echo "init_comm=$(cat /proc/1/comm 2>/dev/null)"
echo "nprocs=$(ls /proc | grep -c '^[0-9]')"
echo "pids=$(ls /proc | grep '^[0-9]' | sort -n | tr '\n' ' ')"
echo "hostname=$(cat /proc/sys/kernel/hostname)"
echo "tmp_marker=$(test -e /tmp/world-marker && echo yes || echo no)"
echo "vartmp_marker=$(test -e /var/tmp/world-marker && echo yes || echo no)"
echo "shm_marker=$(test -e /dev/shm/world-marker && echo yes || echo no)"
echo "shm_write=$(echo x > /dev/shm/probe.$$ 2>/dev/null && echo yes || echo no)"
echo "tmp_mode=$(stat -c %a /tmp)"
echo "x11=$(ls /tmp/.X11-unix 2>/dev/null | tr '\n' ' ')"
echo "x11_dir=$(stat -c %U:%a /tmp/.X11-unix 2>/dev/null)"
echo "x11_types=$(stat -c %F /tmp/.X11-unix/* 2>/dev/null | sort -u | tr '\n' ' ')"
echo "ice=$(ls /tmp/.ICE-unix 2>/dev/null)"
echo "ice_dir=$(stat -c %U:%a /tmp/.ICE-unix 2>/dev/null)"
echo "tmp_write=$(echo x > /tmp/probe.$$ 2>/dev/null && echo yes || echo no)"
echo "homes=$(ls /home | tr '\n' ' ')"
echo "home_write=$(touch $HOME/probe.$$ 2>/dev/null && rm -f $HOME/probe.$$ && echo yes || echo no)"
echo "ro_write=$(touch /srv/ro/probe.$$ 2>/dev/null && echo yes || echo no)"
echo "home_ro_write=$(touch $HOME/ro/probe.$$ 2>/dev/null && echo yes || echo no)"
echo "secret_read=$(cat /srv/secret/data 2>/dev/null || echo no)"
echo "bind_read=$(cat /srv/dst/file 2>/dev/null || echo no)"
echo "bind_write=$(touch /srv/dst/probe.$$ 2>/dev/null && echo yes || echo no)"
echo "mounts_tmp=$(grep -c ' /tmp ' /proc/self/mountinfo)"
echo "fds=$(ls /proc/self/fd | wc -l)"
P
        chmod 0755 $W/bin/probe
}

# value KEY FILE
value() { sed -n "s/^$1=//p" "$2" | head -n1; }

setup_sshd() {
        command -v /usr/sbin/sshd >/dev/null || return 1
        mkdir -p $W/ssh/keys
        ssh-keygen -q -t ed25519 -N '' -f $W/ssh/host_ed25519
        ssh-keygen -q -t ed25519 -N '' -f $W/ssh/client
        for u in alice bob carol dave root; do
                cp $W/ssh/client.pub $W/ssh/keys/$u
        done
        chmod 0644 $W/ssh/keys/*
        cat > $W/ssh/sshd_config <<S
Port 2222
ListenAddress 127.0.0.1
HostKey $W/ssh/host_ed25519
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $W/ssh/keys/%u
StrictModes no
PidFile $W/sshd.pid
UseDNS no
PermitRootLogin yes
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
S
        /usr/sbin/sshd -f $W/ssh/sshd_config -E $W/out/sshd.log || return 1
        for _ in $(seq 50); do
                [ -s $W/sshd.pid ] && return 0
                sleep 0.1
        done
        return 1
}

ssh_to() {
        local user=$1
        shift
        ssh -F /dev/null -i $W/ssh/client -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o BatchMode=yes -o LogLevel=ERROR -p 2222 "$user@127.0.0.1" "$@"
}

# Log in with login(1) on a pty and run one command line.
login_run() {
        local user=$1 cmdline=$2
        TERM=dumb expect -f - <<X >/dev/null 2>&1
set timeout 20
spawn login -f $user
expect {
        -re {[\$#] } { send "$cmdline; exit\r" }
        timeout { exit 1 }
        eof { exit 2 }
}
expect eof
lassign [wait] pid spawnid os_error value
exit \$value
X
}

# Wait up to N tenths of a second for a command to succeed.
wait_for() {
        local n=$1
        shift
        for _ in $(seq "$n"); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

# The usual start of a scenario: PAM services, fixtures, the probe, and
# sshd when it can be started (have_sshd says whether it was).
setup_all() {
        setup_pam
        setup_fixtures
        setup_probe
        have_sshd=yes
        setup_sshd || have_sshd=no
}

# box_field USER FIELD: a field of USER's box in `nsbox list --json`
# (addresses gives the first address).
box_field() {
        $NSBOX list --json | python3 -c "
import json, sys
b = [b for b in json.load(sys.stdin) if b['user'] == '$1'][0]
v = b['$2']
print(v[0] if isinstance(v, list) else v)"
}

# private_system: turn the world into a system packages can be installed
# into and Debian's own services run in: /usr and /var under overlays (the
# machine's files stay as they are), Debian's own /etc/pam.d, and the
# machine's system users and groups followed by the world's test users.
private_system() {
        mkdir -p $W/hostroot $W/ov
        mount --bind / $W/hostroot      # not recursive: what lies under the world's mounts
        rm -f /etc/pam.d/*
        cp -a $W/hostroot/etc/pam.d/. /etc/pam.d/
        for f in passwd group shadow gshadow; do
                [ -e $W/hostroot/etc/$f ] || continue
                awk -F: 'NR == FNR {seen[$1] = 1; print; next} !($1 in seen)' $W/hostroot/etc/$f /etc/$f > $W/out/$f.merged
                cat $W/out/$f.merged > /etc/$f
        done
        umount $W/hostroot
        mount -t tmpfs -o mode=0755 world-overlays $W/ov
        # /etc/systemd too: a package's postinst enables its units there.
        for d in usr var/lib var/log var/cache etc/systemd; do
                [ -d /$d ] || continue
                local n=${d//\//_}
                mkdir -p $W/ov/$n/up $W/ov/$n/work
                mount -t overlay overlay -o lowerdir=/$d,upperdir=$W/ov/$n/up,workdir=$W/ov/$n/work /$d
        done
}

# not CMD...: succeeds when CMD fails (and CMD may be a shell function).
not() { ! "$@" 2>/dev/null; }

# box_up USER: a box of USER's is running (a starting one is listed too).
box_up() { $NSBOX list --json | grep "\"user\": \"$1\"" | grep -q '"state": "running"'; }
no_boxes() { [ "$($NSBOX list --json | tr -d ' \n')" = "[]" ]; }
no_init() { ! pgrep -x nsbox-init >/dev/null; }
# /run/nsbox holds the helper's own files alone, and no box's state file
# (but with "dead-helper": those of boxes that ended while no helper ran,
# which only the next helper can remove).
run_clean() {
        [ -z "$(ls /run/nsbox 2>/dev/null | grep -vx 'helper.lock\|helper.sock\|user.sock\|boxes')" ] &&
                { [ "${1:-}" = dead-helper ] || [ -z "$(ls -A /run/nsbox/boxes 2>/dev/null)" ]; }
}
box_count() { $NSBOX list --json | grep -c '"id"'; }

# ruleset_clean: the nftables ruleset is the scenario's $ruleset_before,
# but for the project's table while it lingers (two seconds after the last
# box) with no element of any box left in it.
ruleset_clean() {
        local now
        now=$(nft list ruleset)
        [ "$now" = "$ruleset_before" ] && return 0
        ! nft list table inet nsbox 2>/dev/null | grep -q 'elements' &&
                [ "$(echo "$now" | awk '/^table inet nsbox/ {skip = 1} !skip {print} skip && /^}/ {skip = 0}')" = "$ruleset_before" ]
}
