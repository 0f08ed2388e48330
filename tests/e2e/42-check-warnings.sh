#!/bin/bash
# Scenario: nsbox check warns about what is valid but would go wrong on
# this host: names NSS does not know (an exempt group that does not exist
# exempts nobody), no_new_privs for admins who need sudo and su, and paths
# a login mounts that do not exist -- fixed paths once, templates for
# every user NSS lists -- or that they could not be checked.  The policy
# stays valid: exit 0.
source "$NSBOX_REPO/tests/lib/e2e.sh"

setup_pam
mkdir -p /srv/course /srv/scratch/alice
# A sudo group with carol in it, as on Debian.
echo "sudo:x:27:carol" >> /etc/group
write_policy "[global]
exempt_users = root nosuchuser
exempt_groups = admins nosuchgroup

[default]
namespaces = mount pid
no_new_privs = yes
read_only = /srv/course /srv/missing-ro -/srv/optional-ro
inaccessible = /srv/missing-inacc
bind = /srv/scratch/\${USER}:\${HOME}/scratch

[group:nosuchgroup2]
linger = 5"
# carol is in sudo and, not exempt here, boxed with no_new_privs.
sed -i 's/^exempt_groups = admins nosuchgroup/exempt_groups = nosuchgroup/' /etc/security/nsbox.conf
out=$W/out/check
$NSBOX check > $out 2>&1
rc=$?
sed 's/^/   /' $out | head -40
check warn/still-valid "the policy is valid: exit 0 (status $rc)" test $rc = 0
check warn/exempt-user "an exempt user NSS does not know is named" grep -q "exempt_users: NSS knows no user 'nosuchuser': it exempts nobody" $out
check warn/exempt-group "an exempt group NSS does not know is named (Debian's admins are 'sudo')" \
        grep -q "exempt_groups: NSS knows no group 'nosuchgroup': it exempts nobody" $out
check warn/section-group "a section for a group NSS does not know is named" grep -q "\[group:nosuchgroup2\] matches no user" $out
check warn/no-new-privs "no_new_privs = yes is named with what it breaks" \
        grep -q "\[default\] no_new_privs = yes: .*sudo, su .*ping" $out
check warn/no-new-privs-admin "an admin of the sudo group under no_new_privs is named" \
        grep -q "warning: user carol is in group sudo, but no_new_privs = yes applies to them" $out
check warn/read-only-missing "a fixed read_only path that does not exist is named, once" \
        test "$(grep -c 'read_only: /srv/missing-ro does not exist' $out)" = 1
check warn/optional-quiet "an optional one is not" not grep -q /srv/optional-ro $out
check warn/inaccessible-missing "a missing inaccessible path too" grep -q 'inaccessible: /srv/missing-inacc does not exist' $out
check warn/template-per-user "a template source is checked for each user NSS lists: bob's is missing" \
        grep -q "warning: for bob, the bind source /srv/scratch/bob does not exist" $out
check warn/template-present "alice's exists, and is not named" not grep -q "/srv/scratch/alice" $out
check warn/full-path "the warning names the full path, not its first missing directory" not grep -q "/srv/scratch does not" $out

# With no user NSS lists that a template applies to, check says it could not check.
write_policy "[global]
exempt_users = root
[user:nosuchuser3]
bind = /srv/x/\${USER}:\${HOME}/x"
$NSBOX check > $out 2>&1
check warn/template-unchecked "a template no listed user gets is said to be unchecked" \
        grep -q 'bind: /srv/x/${USER}:${HOME}/x could not be checked: it is a template, and no user NSS lists' $out
check warn/pam-enabled "with the module in the test services' session stacks, no note about enabling it" \
        not grep -q 'note: no service' $out

# A valid policy boxes nobody while no login service has the module: check
# says so (the module's own test, which keeps the user manager unboxed).
mkdir -p $W/no-pam
mount --bind $W/no-pam /etc/pam.d
$NSBOX check > $out 2>&1
rc=$?
umount /etc/pam.d
check warn/pam-not-enabled "with no service holding the module, check says no login is boxed yet, and passes (status $rc)" \
        bash -c "[ $rc = 0 ] && grep -q 'note: no service in /etc/pam.d has pam_nsbox.so in its session stack' $out"
exit 0
