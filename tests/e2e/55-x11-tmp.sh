#!/bin/bash
# Scenario: what a private /tmp keeps for desktops.  The X11 socket
# directory of the box shows the login's own display's socket only (x11 =
# display, from PAM_XDISPLAY or a display manager's PAM_TTY ":N"), the
# host's whole directory (all) or nothing (none); a socket someone else
# planted is never shown.  tmp_keep carries admin-listed host paths below
# /tmp and /var/tmp into the box, when they are root's or the user's.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_all
LOG=$W/out/syslog
policy() {
        write_policy "[global]
exempt_users = root
[default]
namespaces = mount pid ipc
private_tmp = yes
hide_homes = yes
$1"
}
# A login on display DISPLAY (as a display manager's PAM_TTY), probed.
login_on() {    # login_on USER DISPLAY OUT
        : > $W/out/pamexec.out
        pamtester ${2:+-I tty=$2} nsbox-pamtester $1 open_session close_session >/dev/null 2>&1 &&
                grep -A100 '^\*\*\*' $W/out/pamexec.out | tail -n +2 > $3
}
out=$W/out/x11.probe

# --- x11 = display (the default) ---
policy ""
login_on alice :0 $out
check x11/display "a login on :0 sees the socket of :0 only" test "$(value x11 $out)" = "X0 "
check x11/display-socket "and it is the host's socket" test "$(value x11_types $out)" = "socket "
check x11/display-dir "in a directory of the box's own, root's and sticky" test "$(value x11_dir $out)" = root:1777
login_on bob :1 $out
check x11/display-other "bob on :1 sees :1's socket and not alice's :0" test "$(value x11 $out)" = "X1 "
login_on alice :1.0 $out
check x11/display-screen "a display written with a screen (:1.0) counts as :1" test "$(value x11 $out)" = "X1 "
login_on alice :7 $out
check x11/display-planted "a socket bob planted for :7 is not shown to alice on :7" test -z "$(value x11 $out)"
login_on alice "" $out
check x11/display-none "a login without a display sees no X socket" test -z "$(value x11 $out)"
login_on alice pts/3 $out
check x11/display-tty "nor does one on a terminal" test -z "$(value x11 $out)"

# Two boxes at once, each with its own socket.
policy ""
su alice -c 'sleep 3' & a=$!
wait_for 50 box_up alice
login_on bob :1 $out
check x11/two-boxes "while alice's box lives, bob's shows only his display" test "$(value x11 $out)" = "X1 "
kill $a; wait $a 2>/dev/null

# --- all, none ---
policy "x11 = all"
login_on alice :0 $out
check x11/all "x11 = all shows the host's whole socket directory" test "$(value x11 $out)" = "X0 X1 X7 "
policy "x11 = none"
login_on alice :0 $out
check x11/none "x11 = none shows none, even on a display" test -z "$(value x11 $out)" -a "$(value x11_dir $out)" = root:1777

# --- tmp_keep ---
mkdir -p -m 0755 /tmp/.font-unix && echo fonts > /tmp/.font-unix/fs7100
echo alice-ticket > /tmp/krb5cc_2001 && chown alice: /tmp/krb5cc_2001 && chmod 0600 /tmp/krb5cc_2001
echo bob-ticket > /tmp/krb5cc_2002 && chown bob: /tmp/krb5cc_2002 && chmod 0600 /tmp/krb5cc_2002
echo planted > /tmp/planted && chown bob: /tmp/planted
mkdir -p -m 0777 /tmp/open && echo x > /tmp/open/inside
ln -s /etc/passwd /tmp/link
mkdir -p /var/tmp/keep && echo kept > /var/tmp/keep/file
cat > $W/bin/keep-probe <<'P'
#!/bin/bash
for f in /tmp/.font-unix/fs7100 /tmp/krb5cc_$(id -u) /tmp/krb5cc_2002 /tmp/planted /tmp/open/inside /tmp/link /var/tmp/keep/file; do
        echo "$f=$(cat $f 2>/dev/null || echo -)"
done
echo "font_dir=$(stat -c %U:%a /tmp/.font-unix 2>/dev/null)"
echo "tmp_marker=$(test -e /tmp/world-marker && echo yes || echo no)"
P
chmod 0755 $W/bin/keep-probe
policy 'tmp_keep = /tmp/.font-unix /tmp/krb5cc_${UID} -/tmp/planted -/tmp/open/inside -/tmp/link /var/tmp/keep -/tmp/not-there'
su alice -c $W/bin/keep-probe > $out 2>&1
check keep/root-dir "a root-owned directory listed in tmp_keep is kept" grep -qx '/tmp/.font-unix/fs7100=fonts' $out
check keep/root-dir-owner "as it is on the host" grep -qx 'font_dir=root:755' $out
check keep/own-file "the user's own file is kept (/tmp/krb5cc_\${UID})" grep -qx '/tmp/krb5cc_2001=alice-ticket' $out
check keep/others-file "another user's is not" grep -qx '/tmp/krb5cc_2002=-' $out
check keep/var-tmp "a path below /var/tmp is kept in the private /var/tmp" grep -qx '/var/tmp/keep/file=kept' $out
check keep/rest-private "the rest of /tmp stays private" grep -qx 'tmp_marker=no' $out
check keep/planted "a kept path someone else owns is left out" grep -qx '/tmp/planted=-' $out
check keep/planted-logged "and logged" grep -q 'event=tmp-keep-skipped user=alice path=/tmp/planted: planted is owned by someone else' $LOG
check keep/open-dir "so is one below a directory others may write" grep -qx '/tmp/open/inside=-' $out
check keep/symlink "and a symbolic link" grep -qx '/tmp/link=-' $out
check keep/symlink-logged "logged too" grep -q 'event=tmp-keep-skipped user=alice path=/tmp/link: link is a symbolic link' $LOG
su bob -c $W/bin/keep-probe > $out 2>&1
check keep/per-user "bob gets his own ticket, expanded per user" grep -qx '/tmp/krb5cc_2002=bob-ticket' $out
check keep/planted-own "and the file he owns himself" grep -qx '/tmp/planted=planted' $out

policy 'tmp_keep = /tmp/required-but-missing'
su alice -c true 2>/dev/null
check keep/required "a missing tmp_keep path without '-' refuses the login" test $? != 0
check keep/required-logged "with one line naming it" \
        grep -q 'event=denied user=alice .* step=tmp_keep object=/tmp/required-but-missing: No such file or directory' $LOG
wait_for 30 no_boxes
check keep/required-nothing-left "and leaves no box" no_boxes

# The policy checks tmp_keep and x11.
policy 'tmp_keep = /etc/passwd'
$NSBOX check > $out 2>&1
check keep/check-outside "nsbox check refuses a tmp_keep path outside /tmp and /var/tmp" grep -q "tmp_keep: '/etc/passwd' is not below /tmp or /var/tmp" $out
policy 'x11 = sometimes'
$NSBOX check > $out 2>&1
check x11/check "nsbox check refuses an unknown x11 value" grep -q "x11: 'sometimes' is not an x11 choice" $out
policy 'tmp_keep = /tmp/krb5cc_${UID}'
$NSBOX explain alice > $out 2>&1
check keep/explain "nsbox explain shows the expanded tmp_keep path" grep -q '# tmp_keep     -> /tmp/krb5cc_2001' $out

# The last check decides nothing about the exit status; a death before here does.
exit 0
