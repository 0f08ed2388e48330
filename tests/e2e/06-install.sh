#!/bin/bash
# Scenario: make install and make uninstall, from a copy of the tree, into
# a DESTDIR: the layout an admin expects, the module pointing at the
# installed helper, an admin's policy never replaced, uninstall taking away
# exactly what install put there; and the manual pages lint clean.
source "$NSBOX_REPO/tests/lib/e2e.sh"

command -v pkg-config >/dev/null || { skip install "pkg-config is not installed (it names the PAM module directory)"; exit 0; }
pamdir=$(pkg-config --variable=libdir pam)/security
mkdir -p $W/inst/src
tar -C "$NSBOX_REPO" --exclude=./build --exclude=./.git -cf - . | tar -C $W/inst/src -xf -
D=$W/inst/dest
files() { (cd $D && find . -type f -o -type l | sort); }

make -C $W/inst/src -j2 -s install DESTDIR=$D PREFIX=/usr > $W/out/install.log 2>&1
rc=$?
check install/runs "make install DESTDIR=... PREFIX=/usr succeeds (status $rc)" test $rc = 0
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
expected=".$pamdir/pam_nsbox.so
./etc/security/nsbox.conf
./etc/pam.d/systemd-user
.$unitdir/nsbox-helper.service
.$unitdir/nsbox-helper.socket
.$unitdir/nsbox-user.socket
.$unitdir/nsbox.slice
.$unitdir/user@.service.d/nsbox.conf
./usr/libexec/nsbox/nsbox-helper
./usr/libexec/nsbox/nsbox-init
./usr/libexec/nsbox/nsbox-user-manager
./usr/bin/nsbox
./usr/share/man/man5/nsbox.conf.5
./usr/share/man/man8/nsbox.8
./usr/share/man/man8/pam_nsbox.8
./usr/share/pam-configs/nsbox"
check install/layout "it installs exactly the module (in pkg-config's PAM directory), helper, init, user manager wrapper, CLI, pages, profile, policy, systemd units and the systemd-user stack" \
        test "$(files)" = "$(echo "$expected" | sort)"
[ "$(files)" = "$(echo "$expected" | sort)" ] || diff <(echo "$expected" | sort) <(files) | sed 's/^/   /'
check install/pamdir "the PAM directory is the one libpam loads from ($pamdir)" test -e "$pamdir/pam_unix.so"
check install/nsbox-d "nsbox.d is created, empty" bash -c "[ -d $D/etc/security/nsbox.d ] && [ -z \"\$(ls -A $D/etc/security/nsbox.d)\" ]"
check install/modes "the module is 0644, the programs 0755" \
        bash -c "[ \$(stat -c %a $D$pamdir/pam_nsbox.so) = 644 ] && [ \$(stat -c %a $D/usr/libexec/nsbox/nsbox-helper) = 755 ] && [ \$(stat -c %a $D/usr/bin/nsbox) = 755 ]"
check install/helper-path "the installed module names the installed helper" \
        grep -qa '/usr/libexec/nsbox/nsbox-helper' $D$pamdir/pam_nsbox.so
check install/policy-valid "the installed example policy is valid" $B/nsbox check -c $D/etc/security/nsbox.conf
check install/units-name-helper "the helper's unit starts the installed helper" \
        grep -qx 'ExecStart=/usr/libexec/nsbox/nsbox-helper --daemon' $D$unitdir/nsbox-helper.service
check install/dropin-names-wrapper "the user manager's drop-in runs the installed wrapper" \
        grep -q '^ExecStart=/usr/libexec/nsbox/nsbox-user-manager ' $D$unitdir/user@.service.d/nsbox.conf

# An admin's policy survives a reinstall and an uninstall.
echo "# the admin's own" >> $D/etc/security/nsbox.conf
make -C $W/inst/src -s install DESTDIR=$D PREFIX=/usr > $W/out/install2.log 2>&1
check install/keeps-policy "install never replaces an existing policy" grep -q "the admin's own" $D/etc/security/nsbox.conf
make -C $W/inst/src -s uninstall DESTDIR=$D PREFIX=/usr > $W/out/uninstall.log 2>&1
check install/uninstall-keeps-policy "uninstall removes everything but a policy the admin changed" \
        test "$(files)" = "./etc/security/nsbox.conf"
rm -f $D/etc/security/nsbox.conf
make -C $W/inst/src -s install DESTDIR=$D PREFIX=/usr > $W/out/install3.log 2>&1
make -C $W/inst/src -s uninstall DESTDIR=$D PREFIX=/usr > $W/out/uninstall2.log 2>&1
check install/uninstall "after install then uninstall no file is left" test -z "$(files)"
check install/uninstall-dirs "nor the directories of its own" \
        test ! -e $D/usr/libexec/nsbox -a ! -e $D/etc/security/nsbox.d -a ! -e $D$unitdir/user@.service.d

# Another prefix: the module follows it.
make -C $W/inst/src -s install DESTDIR=$W/inst/local PREFIX=/usr/local > $W/out/install4.log 2>&1
check install/prefix "with PREFIX=/usr/local the helper goes to /usr/local/libexec/nsbox" \
        test -x $W/inst/local/usr/local/libexec/nsbox/nsbox-helper -a -x $W/inst/local/usr/local/bin/nsbox
check install/prefix-units "and the units to /usr/local/lib/systemd/system, naming it there" \
        grep -qx 'ExecStart=/usr/local/libexec/nsbox/nsbox-helper --daemon' $W/inst/local/usr/local/lib/systemd/system/nsbox-helper.service
check install/prefix-helper-path "and the module, rebuilt, names it there" \
        grep -qa '/usr/local/libexec/nsbox/nsbox-helper' $W/inst/local$pamdir/pam_nsbox.so

# The manual pages lint clean.
for page in $NSBOX_REPO/man/*.[0-9]; do
        name=$(basename $page)
        if command -v groff >/dev/null; then
                out=$(groff -man -ww -z $page 2>&1)
                check install/man-groff-$name "groff -man -ww -z reports nothing for $name: $out" test -z "$out"
        else
                skip install/man-groff-$name "groff is not installed"
        fi
        if command -v mandoc >/dev/null; then
                out=$(mandoc -Tlint $page 2>&1)
                check install/man-mandoc-$name "mandoc -Tlint reports nothing for $name: $out" test -z "$out"
        else
                skip install/man-mandoc-$name "mandoc is not installed"
        fi
done

# The last check decides nothing about the exit status; a death before here does.
exit 0
