#!/bin/bash
# Attack 13: alice talks to the helper herself: the login socket, garbage
# and forged requests on the user socket.  The peer is checked; the helper
# survives and nothing is created.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
su alice -c true
helper=$(pgrep -x nsbox-helper)
py() { setpriv --reuid alice --regid alice --clear-groups $PY -c "$1"; }
check attack13/login-socket "alice cannot even connect to the login socket" not py "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect('/run/nsbox/helper.sock')"
# Each payload must get an error reply (MSG_ERROR, 0x21) or a close;
# anything else (a box, an OK, a hang) is a failure.
out=$(py "
import socket, os, struct
for payload in [b'', os.urandom(64), b'\\x10\\x00\\x00\\x00\\x10\\x00\\x01\\x00' + os.urandom(8), os.urandom(60000)]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect('/run/nsbox/user.sock')
    try:
        s.send(payload); r = s.recv(65536)
        if not r: print('closed')
        elif len(r) >= 16 and struct.unpack_from('=IH', r)[1] == 0x21: print('error')
        else: print('other', r[:16].hex())
    except socket.timeout: print('hang')
    except OSError as e: print('closed')
    s.close()
" 2>&1)
answers_ok() { [ "$(grep -cxE 'error|closed' <<< "$out")" = 4 ] && [ "$(wc -l <<< "$out")" = 4 ]; }
check attack13/garbage "garbage on the user socket gets an error or a close ($(echo $out))" answers_ok
check attack13/helper-alive "the helper survived" test "$(pgrep -x nsbox-helper)" = "$helper"
check attack13/nothing-made "no box was made" no_boxes
# Many connections held open by one user do not lock out logins.
py "
import socket, time
ss = []
for i in range(50):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try: s.connect('/run/nsbox/user.sock'); ss.append(s)
    except OSError: pass
time.sleep(5)" &
hog=$!
sleep 0.5
check attack13/no-lockout "logins still work while alice holds connections open" su bob -c true
kill $hog; wait $hog 2>/dev/null

# The last check decides nothing about the exit status; a death before here does.
exit 0
