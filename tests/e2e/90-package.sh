#!/bin/bash
# Scenario: the Debian package.  dpkg-buildpackage builds it from a copy of
# the tree; it is installed with dpkg into this world (over overlays of /usr
# and /var, so the machine never sees it), enabled with pam-auth-update, and
# an ssh login through Debian's own /etc/pam.d/sshd and common-session, with
# the module named without arguments and the shipped example policy, is
# boxed.  Then pam-auth-update --remove, dpkg --remove and --purge take it
# all away again.
source "$NSBOX_REPO/tests/lib/e2e.sh"

for tool in dpkg-buildpackage dh pam-auth-update /usr/sbin/sshd; do
        command -v $tool >/dev/null || { skip package "$tool is not installed"; exit 0; }
done

# --- build ---
mkdir -p $W/pkg/src
tar -C "$NSBOX_REPO" --exclude=./build --exclude=./.git -cf - . | tar -C $W/pkg/src -xf -
(cd $W/pkg/src && dpkg-buildpackage -us -uc -b) > $W/out/dpkg-buildpackage.log 2>&1
rc=$?
deb=$(ls $W/pkg/libpam-nsbox_*.deb 2>/dev/null | head -n1)
if ! check package/build "dpkg-buildpackage -us -uc -b builds the .deb (status $rc)" test $rc = 0 -a -n "$deb"; then
        tail -n 30 $W/out/dpkg-buildpackage.log
        exit 0
fi
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
pamdir=$(pkg-config --variable=libdir pam 2>/dev/null || echo /lib/x86_64-linux-gnu)/security
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
for f in .$pamdir/pam_nsbox.so ./usr/libexec/nsbox/nsbox-helper ./usr/libexec/nsbox/nsbox-init ./usr/bin/nsbox \
        ./usr/libexec/nsbox/nsbox-user-manager .$unitdir/nsbox-helper.service .$unitdir/nsbox-helper.socket \
        .$unitdir/nsbox-user.socket .$unitdir/nsbox.slice .$unitdir/user@.service.d/nsbox.conf ./etc/pam.d/systemd-user \
        ./usr/share/pam-configs/nsbox ./etc/security/nsbox.conf ./etc/security/nsbox.d/ \
        ./usr/share/man/man8/pam_nsbox.8.gz ./usr/share/man/man8/nsbox.8.gz ./usr/share/man/man5/nsbox.conf.5.gz \
        ./usr/share/doc/libpam-nsbox/examples/nsbox-desktop.conf; do
        check package/contains${f#.} "the package holds ${f#.}" grep -qx "$f" <<< "$contents"
done
check package/conffile "the policy is a conffile" bash -c "dpkg-deb --ctrl-tarfile $deb | tar -xO ./conffiles | grep -qx /etc/security/nsbox.conf"

# --- a private system to install into ---
private_system
rm -f /etc/security/nsbox.conf

# --- install ---
dpkg -i "$deb" > $W/out/dpkg-i.log 2>&1
rc=$?
check package/install "dpkg -i installs it (status $rc)" test $rc = 0
[ $rc = 0 ] || sed 's/^/   /' $W/out/dpkg-i.log
check package/installed-files "its files are in place" \
        test -f $pamdir/pam_nsbox.so -a -x /usr/libexec/nsbox/nsbox-helper -a -x /usr/libexec/nsbox/nsbox-init -a -x /usr/bin/nsbox
check package/policy "the example policy is installed and valid" /usr/bin/nsbox check
check package/man "man finds the pages" bash -c "man -w pam_nsbox && man -w 5 nsbox.conf && man -w 8 nsbox" > /dev/null
check package/not-enabled "installing does not enable it by itself" not grep -q pam_nsbox /etc/pam.d/common-session
check package/sockets-enabled "it enables the helper's sockets for systemd" \
        test -L /etc/systemd/system/sockets.target.wants/nsbox-helper.socket -a -L /etc/systemd/system/sockets.target.wants/nsbox-user.socket
check package/systemd-user-stack "its systemd-user stack includes Debian's and adds the module for the user manager" \
        bash -c "grep -qx '@include /usr/lib/pam.d/systemd-user' /etc/pam.d/systemd-user &&
                 grep -Eq '^session[[:space:]]+required[[:space:]]+pam_nsbox.so user_manager$' /etc/pam.d/systemd-user"

pam-auth-update --enable nsbox > $W/out/pam-auth-update.log 2>&1
check package/enable "pam-auth-update --enable nsbox adds it to common-session" \
        grep -Eq '^session[[:space:]]+required[[:space:]]+pam_nsbox\.so[[:space:]]*$' /etc/pam.d/common-session
# Last: after pam_mkhomedir made the home it shows and pam_systemd mounted
# the XDG_RUNTIME_DIR it keeps reachable.
check package/enable-order "last, after pam_unix and pam_systemd" \
        bash -c "grep -oE '^session.*pam_(unix|nsbox|systemd)\.so' /etc/pam.d/common-session | grep -o 'pam_[a-z]*' | tr '\n' ' ' | grep -q 'pam_unix pam_systemd pam_nsbox'"
pam-auth-update --enable mkhomedir > /dev/null 2>&1
check package/enable-order-mkhomedir "and after pam_mkhomedir when that is enabled too" \
        bash -c "grep -oE '^session.*pam_(mkhomedir|nsbox)\.so' /etc/pam.d/common-session | grep -o 'pam_[a-z]*' | tr '\n' ' ' | grep -q 'pam_mkhomedir pam_nsbox'"
pam-auth-update --remove mkhomedir > /dev/null 2>&1
check package/enable-interactive-only "and not to the non-interactive stack" \
        not grep -q pam_nsbox /etc/pam.d/common-session-noninteractive

# --- an ssh login through Debian's own sshd stack ---
sshd_ok=no
if setup_sshd; then
        sshd_ok=yes
        out=$W/out/pkg-ssh.out
        ssh_to alice 'echo id=$NSBOX_ID; echo init=$(cat /proc/1/comm); echo homes=$(ls /home | tr "\n" " ")' > $out 2>&1
        check package/ssh-boxed "an ssh login is boxed by the installed module without arguments" grep -Eq '^id=[0-9a-f]{8}$' $out
        check package/ssh-init "its PID 1 is the installed nsbox-init" grep -qx 'init=nsbox-init' $out
        check package/ssh-helper "the installed helper made it" \
                test "$(readlink /proc/$(pgrep -x nsbox-helper | head -n1)/exe)" = /usr/libexec/nsbox/nsbox-helper
        check package/ssh-service "from outside, the box's start record names sshd" \
                grep -q 'nsbox-helper.*event=start .*user=alice .*service=sshd' $W/out/syslog
        wait_for 50 bash -c "[ \"\$(/usr/bin/nsbox list --json | tr -d ' \n')\" = '[]' ]"
else
        skip package/ssh "sshd could not be started"
fi

# --- disable, remove, purge ---
pam-auth-update --remove nsbox > $W/out/pam-auth-update.log 2>&1
check package/disable "pam-auth-update --remove nsbox takes it out" not grep -q pam_nsbox /etc/pam.d/common-session
if [ $sshd_ok = yes ]; then
        ssh_to alice 'echo id=$NSBOX_ID' > $W/out/pkg-ssh2.out 2>&1
        check package/ssh-unboxed "and the next ssh login is not boxed" grep -qx 'id=' $W/out/pkg-ssh2.out
fi
pam-auth-update --enable nsbox > /dev/null 2>&1
dpkg --remove libpam-nsbox > $W/out/dpkg-r.log 2>&1
check package/remove "dpkg --remove removes it" test $? = 0 -a ! -e $pamdir/pam_nsbox.so -a ! -e /usr/bin/nsbox
check package/remove-pam "and takes the module out of common-session first" not grep -q pam_nsbox /etc/pam.d/common-session
check package/remove-conffile "keeping the policy until purge" test -f /etc/security/nsbox.conf
dpkg --purge libpam-nsbox > $W/out/dpkg-p.log 2>&1
check package/purge "dpkg --purge removes the policy too" test $? = 0 -a ! -e /etc/security/nsbox.conf
check package/purge-units "and leaves no unit, drop-in or enablement behind" \
        bash -c "! ls $unitdir/nsbox* $unitdir/user@.service.d/nsbox.conf /etc/systemd/system/sockets.target.wants/nsbox* /etc/pam.d/systemd-user 2>/dev/null | grep -q ."

# The last check decides nothing about the exit status; a death before here does.
exit 0
