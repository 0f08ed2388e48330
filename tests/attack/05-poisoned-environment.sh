#!/bin/bash
# Attack 5: the login that starts the helper runs with LD_PRELOAD, PATH,
# IFS and NSBOX_* set.  The helper gets a clean environment.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
mkdir -p $W/evil && printf '#!/bin/sh\ntouch /run/world/out/pwned\n' > $W/evil/mount && chmod +x $W/evil/mount
cp $W/evil/mount $W/evil/ip; cp $W/evil/mount $W/evil/sh
env LD_PRELOAD=/nonexistent/evil.so PATH=$W/evil:$PATH IFS=/ NSBOX_HELPER=$W/evil/sh NSBOX_CONFIG=/tmp/x \
        su alice -c true 2>/dev/null
check attack5/login "the login still works" test $? = 0
h=$(pgrep -x nsbox-helper)
check attack5/clean-env "the helper's environment is only a fixed PATH" \
        test "$(tr '\0' '\n' < /proc/$h/environ)" = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
check attack5/no-programs "no program from the poisoned PATH ran" test ! -e $W/out/pwned

# The last check decides nothing about the exit status; a death before here does.
exit 0
