#!/bin/bash
# `make demo`: a boxed ssh login of a throwaway user, alice, inside a test
# world (its own mount, network, pid, uts and ipc namespaces, its own users
# and PAM files): nothing on the machine changes.  With a terminal, you get
# alice's shell in her box; without one, a short tour of what is isolated.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam
setup_fixtures
setup_probe
write_policy "[global]
exempt_users = root
pool4 = 10.213.0.0/16
pool6 = fd00:213::/64

[default]
namespaces = mount pid uts ipc user
private_tmp = yes
hide_homes = yes
hostname = box-\${USER}
read_only = /srv/ro
inaccessible = /srv/secret
network = veth
user_root = yes"
sed -i 's/ debug$//' /etc/pam.d/*
echo "a file in the world's /tmp" > /tmp/outside-the-box
# nsbox on the world's PATH (a tmpfs over /usr/local/bin, in the world only)
mkdir -p $W/localbin
ln -s $NSBOX $W/localbin/nsbox
mount --bind $W/localbin /usr/local/bin
setup_sshd || { echo "make demo: sshd could not be started" >&2; exit 1; }

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
shown() { printf '$ %s\n' "$*"; }

say "pam_nsbox demo: a test world with users alice and bob, sshd on 127.0.0.1:2222"
echo "The policy (/etc/security/nsbox.conf in the world):"
sed 's/^/    /' /etc/security/nsbox.conf

if [ -t 0 ] && [ -t 1 ]; then
        say "Logging you in as alice over ssh.  Her shell is in a box.  Try:"
        cat <<'T'
    ps -e              only the box's processes; PID 1 is nsbox-init
    hostname; ls /home; ls /tmp; ip addr; cat /proc/1/uid_map
    touch /srv/ro/x    read-only;  cat /srv/secret/data: inaccessible
    nsbox root         root of the box's own user namespace, not of the host
    exit               the box ends with the login
T
        ssh -t -F /dev/null -i $W/ssh/client -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o LogLevel=ERROR -p 2222 alice@127.0.0.1
        say "After logout:"
        sleep 0.5
        shown nsbox list
        $NSBOX list
        exit 0
fi

say "Outside the box, in the world:"
shown "ls /home; ls /tmp; hostname"
ls /home | tr '\n' ' '; echo; ls /tmp | tr '\n' ' '; echo; hostname
say "alice logs in over ssh and looks around:"
cat > $W/bin/tour <<T
#!/bin/bash
for c in 'echo NSBOX_ID=\$NSBOX_ID' id hostname 'ps -eo pid,user,comm' 'ls /home' 'ls /tmp' \\
        'ip -o addr show eth0 | awk "{print \\\$2, \\\$4}"' 'touch /srv/ro/x' 'cat /srv/secret/data' \\
        'nsbox root -- id' 'cat /proc/1/uid_map'; do
        echo "\\\$ \$c"
        eval "\$c" 2>&1 | sed 's/^/    /'
done
T
chmod 0755 $W/bin/tour
ssh_to alice $W/bin/tour
say "Meanwhile, outside: the box, its PID 1 and its host-side interface"
wait_for 50 no_boxes
ssh_to alice 'sleep 3' &
wait_for 50 box_up alice
shown nsbox list
$NSBOX list
shown "ip -br link | grep nsb"
ip -br link | grep nsb
wait
sleep 0.5
say "After logout, nothing of the box is left:"
shown nsbox list
$NSBOX list
shown "ip -br link | grep -c nsb"
ip -br link | grep -c nsb
say "Run 'make demo' in a terminal to get alice's boxed shell yourself."
exit 0
