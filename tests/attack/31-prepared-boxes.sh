#!/bin/bash
# Attack 31: the boxes the helper makes ahead of logins (their inits wait
# as nsbox-prepared in the box's new namespaces).  alice leaves what she can
# in her box for the next user; carol (exempt, on the host) goes for the
# waiting inits; the host's mounts change under the pool; alice and bob
# race logins for it.  Each prepared box goes to one new box, carries
# nothing of anyone, is nobody's but root's, and none starts from mounts
# older than its login.
source "$NSBOX_REPO/tests/lib/e2e.sh"
setup_pam; setup_fixtures; setup_probe
# The default policy of the tests, with the default linger.
base=$(write_policy; grep -v '^prepared_linger' /etc/security/nsbox.conf)
write_policy "$base"
as_carol() { setpriv --reuid carol --regid carol --clear-groups "$@"; }
n_prepared() { pgrep -c -x nsbox-prepared; }
# step_of ID: how the box's init came: "clone" or "clone:prepared".
step_of() { log_sync; sed -n "s/.*event=step box=$1 .*step=\(clone[^ ]*\) object=helper.*/\1/p" $W/out/syslog | head -n1; }
inside=$W/out/inside

# --- what alice leaves is not the next user's ---
su alice -c 'echo alice > /tmp/alice.secret; echo alice > /dev/shm/alice.shm; ipcmk -M 4096 >/dev/null
             setsid sleep 300 < /dev/null > /dev/null 2>&1 & sleep 30' &
a=$!
wait_for 50 box_up alice
aid=$(box_field alice id)
check attack31/pool "with alice's box up, two boxes of its kind are made ahead" wait_for 50 test "$(n_prepared)" = 2
kill $a; wait $a 2>/dev/null
wait_for 50 no_boxes
su bob -c 'echo id=$NSBOX_ID; echo tmp=$(ls -A /tmp | tr "\n" " "); echo shm=$(ls -A /dev/shm | tr "\n" " ")
           echo ipc=$(ipcs -m | grep -c "^0x"); echo procs=$(ps -e -o comm= | grep -vx "ps\|bash\|grep\|tr\|su" | tr "\n" " ")
           echo host=$(hostname); echo init=$(ps -o user= -p 1)' > $inside 2>&1
bid=$(value id $inside)
check attack31/taken "bob's box is one made ahead (its init came prepared)" test "$(step_of $bid)" = clone:prepared
check attack31/not-alices "and not alice's" test "$bid" != "$aid"
check attack31/tmp "none of alice's /tmp" not grep -q 'alice' <<< "$(value tmp $inside)"
check attack31/shm "nor her /dev/shm" not grep -q 'alice' <<< "$(value shm $inside)"
check attack31/ipc "nor her SysV segment" test "$(value ipc $inside)" = 0
check attack31/procs "nor any process of hers: only nsbox-init" test "$(value procs $inside | xargs)" = nsbox-init
check attack31/hostname "its host name is bob's" test "$(value host $inside)" = box-bob
check attack31/identity "and its init runs as bob" test "$(value init $inside)" = bob

# --- the waiting inits are root's alone ---
wait_for 50 test "$(n_prepared)" = 2
helper=$(pgrep -x nsbox-helper)
waiting=$(pgrep -x nsbox-prepared | tr '\n' ' ')
each() { for p in $waiting; do "$@" $p || return 1; done; }
owned_by_root() { [ "$(stat -c %u /proc/$1)" = 0 ]; }
no_kill() { not as_carol kill -0 $1; }
no_enter() { not as_carol nsenter -t $1 -m -p true; }
no_fds() { not as_carol ls /proc/$1/fd; }
helpers_cgroup() { [ "$(cat /proc/$1/cgroup)" = "$(cat /proc/$helper/cgroup)" ]; }
check attack31/root-owned "the waiting inits are root's" each owned_by_root
check attack31/no-kill "carol cannot signal them" each no_kill
check attack31/no-enter "nor enter their namespaces" each no_enter
check attack31/no-fds "nor list their fds" each no_fds
check attack31/helper-cgroup "they are in the helper's cgroup, no user's" each helpers_cgroup
su alice -c 'ps -e -o comm=' > $inside 2>&1
check attack31/box-blind "alice in her box sees no waiting init" not grep -q 'nsbox-prepared' $inside

# --- the host's mounts change under the pool ---
# A mount under a private one does not propagate to a copy made before
# it: a box made from such a copy would miss it.
mkdir -p /srv/late
mount -t tmpfs -o mode=0755 late /srv/late
mount --make-private /srv/late
mkdir /srv/late/sub
su bob -c 'true'        # the pool is made from a table that has /srv/late, empty
wait_for 50 test "$(n_prepared)" = 2
mount -t tmpfs -o mode=0755 late-sub /srv/late/sub
touch /srv/late/sub/marker
su bob -c 'echo id=$NSBOX_ID; test -e /srv/late/sub/marker && echo seen=yes' > $inside 2>&1
check attack31/mount-seen "a host mount made after the pool was made is in the next box" grep -qx 'seen=yes' $inside
check attack31/mount-fresh "whose init was made at its login: the pool was dropped" test "$(step_of $(value id $inside))" = clone
umount /srv/late/sub
su bob -c 'echo id=$NSBOX_ID; test -e /srv/late/sub/marker && echo seen=yes' > $inside 2>&1
check attack31/umount-gone "a host mount gone since is gone from the next box" not grep -qx 'seen=yes' $inside
umount /srv/late
rmdir /srv/late
sleep 1.5
check attack31/remade "a second later boxes are made ahead again" wait_for 50 test "$(n_prepared)" = 2
su bob -c 'echo id=$NSBOX_ID' > $inside 2>&1
check attack31/used-again "and used" test "$(step_of $(value id $inside))" = clone:prepared

# --- racing logins: each its own box (alice's are one per session) ---
seen=$W/out/seen
: > $seen
pids=()
for i in $(seq 10); do
        # All live at once: a namespace's number is given again once it is gone.
        su alice -c 'echo $(id -un) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid); sleep 3' >> $seen 2>/dev/null &
        pids+=($!)
done
wait "${pids[@]}"
check attack31/race-boxed "10 racing logins of alice were all boxed" test "$(grep -c 'mnt:' $seen)" = 10
check attack31/race-own "no two got the same mount or pid namespace" \
        bash -c "[ -z \"\$(awk '{print \$2}' $seen | sort | uniq -d)\" ] && [ -z \"\$(awk '{print \$3}' $seen | sort | uniq -d)\" ]"

# --- prepared_boxes = 0: none made, none used ---
write_policy "[global]
prepared_boxes = 0
$base"
su bob -c 'echo id=$NSBOX_ID' > $inside 2>&1
check attack31/disabled-unused "with prepared_boxes = 0 a login makes its own box" test "$(step_of $(value id $inside))" = clone
check attack31/disabled-dropped "and what was made ahead goes" wait_for 50 test "$(n_prepared)" = 0
exit 0
