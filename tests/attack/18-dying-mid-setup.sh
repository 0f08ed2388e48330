#!/bin/bash
# Attack 18: SIGKILL to the login, the helper or PID 1 during setup.
# Within a second nothing of the box remains.  (210 rounds at random moments
# run in tests/e2e/80-stress.sh; here, one of each, aimed at setup.)
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe; write_policy
gone() { ! pgrep -x nsbox-init >/dev/null && ! pgrep -u alice >/dev/null && run_clean "$@"; }
for target in login helper init; do
        su alice -c 'sleep 30' &
        login=$!
        # right inside the setup: once the helper has the request
        wait_for 50 bash -c "pgrep -x nsbox-init >/dev/null || pgrep -x nsbox-helper >/dev/null"
        case $target in
        login) kill -KILL $login ;;
        helper) pkill -KILL -x nsbox-helper ;;
        init) pkill -KILL -x nsbox-init ;;
        esac
        kill -KILL $login 2>/dev/null; wait $login 2>/dev/null
        check attack18/$target "after SIGKILL of the $target nothing of the box remains within a second" \
                wait_for 10 gone $([ $target = helper ] && echo dead-helper)
done
# The state file of the box that ended with its helper dead goes with the
# next helper.
su alice -c true
check attack18/helper-file "the next helper removes the dead box's state file" wait_for 20 gone

# The last check decides nothing about the exit status; a death before here does.
exit 0
