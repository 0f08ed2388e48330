/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy parsing, validation, precedence, matching and expansion. */
#include "unit.h"

#include <fcntl.h>

#include <ftw.h>
#include <unistd.h>

#include "policy.h"
#include "subid.h"

static char *dir;

static struct ident alice(void)
{
        static char *groups[] = { (char *)"alice", (char *)"boxed", (char *)"dev", NULL };
        return (struct ident){ .name = (char *)"alice", .uid = 2001, .gid = 2001, .group = (char *)"alice",
                               .home = (char *)"/home/alice", .groups = groups, .n_groups = 3 };
}

static char *conf(void)
{
        static char path[512];
        snprintf(path, sizeof(path), "%s/nsbox.conf", dir);
        return path;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(p);
}

static int setup(void **state)
{
        (void)state;
        dir = scratch_dir();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
        return 0;
}

/* Load a policy text; return the load result, the policy kept in *p. */
static int load(const char *text, struct policy *p)
{
        write_file(dir, "nsbox.conf", text, 0644);
        return policy_load(conf(), p);
}

static bool has_error(const struct policy *p, const char *needle)
{
        for (size_t i = 0; i < p->n_errors; i++)
                if (strstr(p->errors[i], needle))
                        return true;
        return false;
}

static void expect_error(const char *text, const char *needle)
{
        struct policy p;

        assert_int_equal(load(text, &p), -EINVAL);
        if (!has_error(&p, needle)) {
                for (size_t i = 0; i < p.n_errors; i++)
                        print_error("  got: %s\n", p.errors[i]);
                fail_msg("no error containing '%s'", needle);
        }
        policy_done(&p);
}

static void test_valid_policy(void **state)
{
        struct policy p;
        (void)state;

        assert_int_equal(load("[global]\nexempt_users = root admin\n"
                              "[default]\nbox = yes\nnamespaces = mount pid\nprivate_tmp = yes\n"
                              "read_only = /srv ${HOME}/ro -/opt/x\nbind = /a:/b:ro -/c:${HOME}/d\n"
                              "hostname = box-${USER}\n"
                              "[group:dev]\nlinger = 10\n[user:alice]\nshare = user\n",
                              &p),
                         0);
        assert_int_equal(p.n_errors, 0);
        assert_int_equal(p.n_sections, 4);
        policy_done(&p);
}

static void test_errors_name_file_section_key(void **state)
{
        (void)state;
        expect_error("[default]\nbox = maybe\n", "nsbox.conf: [default] box: 'maybe' is not a boolean; write yes or no");
        expect_error("[default]\nfrob = 1\n", "[default] frob: unknown key");
        expect_error("[defaults]\nbox = yes\n", "[defaults]: unknown section");
        expect_error("[user:]\nbox = yes\n", "unknown section");
        expect_error("[user:a/b]\nbox = yes\n", "unknown section");
        expect_error("box = yes\n[default]\n", "outside any section");
        expect_error("[global]\nbox = yes\n", "[global] box: this key belongs in [default]");
        expect_error("[default]\nexempt_users = x\n", "this key belongs in [global]");
        expect_error("[default]\nnamespaces = mount cgroup\n", "'cgroup' is not a namespace");
        expect_error("[default]\nnamespaces = pid uts\n", "lacks mount");
        expect_error("[default]\nshare = all\n", "write session or user");
        expect_error("[default]\npropagation = shared\n", "write slave or private");
        expect_error("[default]\nlinger = 10s\n", "is not a number of seconds");
        expect_error("[default]\nlinger = 99999999\n", "is not a number of seconds");
        expect_error("[global]\nexempt_users = ro/ot\n", "not a valid user or group name");
        expect_error("[default]\nbox = yes\n# comment\nBox = no\n", "[default] box: set twice (lines 2 and 4)");
}

static void test_paths_are_checked(void **state)
{
        (void)state;
        expect_error("[default]\nread_only = srv\n", "is not an absolute path");
        expect_error("[default]\nread_only = /srv/../etc\n", "is not a clean path");
        expect_error("[default]\nread_only = /srv/./x\n", "is not a clean path");
        expect_error("[default]\nread_only = /srv//x\n", "is not a clean path");
        expect_error("[default]\ninaccessible = /srv/x/\n", "is not a clean path");
        expect_error("[default]\nread_only = ${SHELL}\n", "uses ${SHELL}");
        expect_error("[default]\nread_only = ${HOME\n", "unterminated");
        expect_error("[default]\nbind = /a\n", "is not SRC:DST[:ro]");
        expect_error("[default]\nbind = /a:/b:rx\n", "the only options are :ro and :rw");
        expect_error("[default]\nbind = /a:b\n", "is not an absolute path");
        expect_error("[default]\nhostname = ${HOME}\n", "does not give a valid host name");
        expect_error("[default]\nhostname = -x\n", "does not give a valid host name");
}

static void test_syntax_and_long_lines(void **state)
{
        char line[1200];
        char *text = NULL;
        (void)state;

        expect_error("[default\nbox = yes\n", "cannot be parsed");
        memset(line, 'a', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\0';
        assert_int_equal(xasprintf(&text, "[default]\nread_only = /%s\n", line), 0);
        expect_error(text, "cannot be parsed");
        free(text);
        /* A NUL, or another control byte, is binary data, said as such
         * (iniparser would cut the line there and read on). */
        for (int i = 0; i < 2; i++) {
                static const char bin[2][24] = { "[default]\nbox = y\0es\n", "[default]\nbox = y\x01" "es\n" };
                struct policy p;
                int fd = open(conf(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                assert_true(fd >= 0);
                assert_int_equal(write(fd, bin[i], 21), 21);
                close(fd);
                assert_int_equal(policy_load(conf(), &p), -EINVAL);
                assert_true(has_error(&p, i == 0 ? "holds binary data (byte 0x00)" : "holds binary data (byte 0x01)"));
                policy_done(&p);
        }
}

static void test_file_trust(void **state)
{
        struct policy p;
        char *link = NULL;
        (void)state;

        write_file(dir, "nsbox.conf", "[default]\nbox = yes\n", 0664);
        assert_int_equal(policy_load(conf(), &p), -EPERM);
        assert_true(has_error(&p, "writable by group or others"));
        policy_done(&p);

        write_file(dir, "nsbox.conf", "[default]\nbox = yes\n", 0644);
        assert_int_equal(chown(conf(), 65534, 0), 0);
        assert_int_equal(policy_load(conf(), &p), -EPERM);
        assert_true(has_error(&p, "is owned by uid 65534, not by root"));
        policy_done(&p);
        assert_int_equal(chown(conf(), 0, 0), 0);

        assert_int_equal(xasprintf(&link, "%s/link.conf", dir), 0);
        assert_int_equal(symlink("nsbox.conf", link), 0);
        assert_true(policy_load(link, &p) < 0);
        assert_true(has_error(&p, "symbolic link"));
        policy_done(&p);
        unlink(link);
        free(link);

        assert_int_equal(policy_load("relative.conf", &p), -EINVAL);
        policy_done(&p);
        assert_int_equal(policy_load("/nonexistent/nsbox.conf", &p), -ENOENT);
        policy_done(&p);
}

static void test_dropins_in_lexical_order(void **state)
{
        struct policy p;
        struct resolved r;
        struct ident id = alice();
        char *d = NULL;
        (void)state;

        assert_int_equal(xasprintf(&d, "%s/nsbox.d", dir), 0);
        mkdir(d, 0755);
        write_file(d, "20-b.conf", "[default]\nlinger = 20\n", 0644);
        write_file(d, "10-a.conf", "[default]\nlinger = 10\nhostname = a\n", 0644);
        write_file(d, "30-c.conf.disabled", "[default]\nlinger = 30\n", 0644);
        write_file(d, ".hidden.conf", "[default]\nlinger = 40\n", 0644);
        assert_int_equal(load("[default]\nlinger = 1\nshare = user\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_string_equal(r.value[K_LINGER], "20");
        assert_non_null(strstr(r.file[K_LINGER], "20-b.conf"));
        assert_string_equal(r.value[K_HOSTNAME], "a");
        assert_string_equal(r.value[K_SHARE], "user");
        assert_non_null(strstr(r.file[K_SHARE], "nsbox.conf"));
        policy_done(&p);

        /* An untrusted drop-in is an error, not silently skipped. */
        write_file(d, "50-w.conf", "[default]\nbox = no\n", 0666);
        assert_int_equal(load("[default]\n", &p), -EINVAL);
        assert_true(has_error(&p, "50-w.conf is writable by group or others"));
        policy_done(&p);

        free(d);
}

static void test_precedence(void **state)
{
        struct policy p;
        struct resolved r;
        struct ident id = alice();
        (void)state;

        /* default < groups in file order < user, whatever order the file has. */
        assert_int_equal(load("[user:alice]\nhostname = u\n"
                              "[group:dev]\nhostname = g-dev\nlinger = 5\n"
                              "[default]\nhostname = d\nlinger = 1\nprivate_tmp = yes\n"
                              "[group:boxed]\nlinger = 6\n"
                              "[group:others]\nlinger = 99\nbox = no\n",
                              &p),
                         0);
        policy_resolve(&p, &id, &r);
        assert_string_equal(r.value[K_HOSTNAME], "u");
        assert_string_equal(r.section[K_HOSTNAME], "user:alice");
        assert_string_equal(r.value[K_LINGER], "6");
        assert_string_equal(r.section[K_LINGER], "group:boxed");
        assert_string_equal(r.value[K_PRIVATE_TMP], "yes");
        assert_string_equal(r.section[K_PRIVATE_TMP], "default");
        assert_string_equal(r.value[K_BOX], "yes");
        assert_null(r.file[K_BOX]);
        assert_true(policy_wants_box(&r));
        policy_done(&p);
}

static void test_exempt(void **state)
{
        struct policy p;
        struct ident id = alice();
        (void)state;

        assert_int_equal(load("[default]\n", &p), 0);
        assert_false(policy_is_exempt(&p, &id));
        policy_done(&p);
        assert_int_equal(load("[global]\nexempt_users = bob alice\n", &p), 0);
        assert_true(policy_is_exempt(&p, &id));
        policy_done(&p);
        assert_int_equal(load("[global]\nexempt_groups = admins dev\n", &p), 0);
        assert_true(policy_is_exempt(&p, &id));
        policy_done(&p);
        /* Values are case-sensitive, as names are. */
        assert_int_equal(load("[global]\nexempt_groups = DEV\nexempt_users = Alice\n", &p), 0);
        assert_false(policy_is_exempt(&p, &id));
        policy_done(&p);
        /* Names are whole words: "alic" does not exempt alice. */
        assert_int_equal(load("[global]\nexempt_users = alic alice2\n", &p), 0);
        assert_false(policy_is_exempt(&p, &id));
        policy_done(&p);
}

static void test_expansion(void **state)
{
        struct ident id = alice();
        char *out = NULL, *why = NULL;
        (void)state;

        assert_int_equal(expand("/x/${USER}/${UID}/${GROUP}${HOME}", &id, &out, &why), 0);
        assert_string_equal(out, "/x/alice/2001/alice/home/alice");
        free(out);
        assert_int_equal(expand("$USER ${", &id, &out, &why), -EINVAL);
        free(why);
        why = NULL;
        assert_int_equal(expand("${user}", &id, &out, &why), -EINVAL);
        assert_non_null(strstr(why, "${user}"));
        free(why);
        assert_int_equal(expand("plain $ sign", &id, &out, &why), 0);
        assert_string_equal(out, "plain $ sign");
        free(out);
}

static void test_build_spec(void **state)
{
        struct policy p;
        struct resolved r;
        struct box_spec s;
        struct ident id = alice();
        char *why = NULL;
        (void)state;

        assert_int_equal(load("[default]\nnamespaces = mount pid uts\nread_only = ${HOME}/ro -/srv\n"
                              "inaccessible = /secret\nbind = -${HOME}/a:/b:ro /c:/d\nhostname = ${USER}-box\n"
                              "linger = 30\nshare = user\npropagation = private\nhide_homes = yes\n",
                              &p),
                         0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.namespaces, NS_MOUNT | NS_PID | NS_UTS);
        assert_int_equal(s.n_read_only, 2);
        assert_string_equal(s.read_only[0].path, "/home/alice/ro");
        assert_false(s.read_only[0].optional);
        assert_true(s.read_only[1].optional);
        assert_int_equal(s.n_binds, 2);
        assert_string_equal(s.binds[0].src, "/home/alice/a");
        assert_true(s.binds[0].ro && s.binds[0].optional);
        assert_false(s.binds[1].ro || s.binds[1].optional);
        assert_string_equal(s.hostname, "alice-box");
        assert_int_equal(s.linger, 30);
        assert_int_equal(s.share, SHARE_USER);
        assert_int_equal(s.propagation, PROP_PRIVATE);
        assert_true(s.hide_homes);
        assert_false(s.private_tmp);
        assert_int_equal(box_spec_validate(&s, &(const char *){ NULL }), 0);
        box_spec_done(&s);
        policy_done(&p);

        /* hostname needs a uts namespace. */
        assert_int_equal(load("[default]\nnamespaces = mount\nhostname = x\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), -EINVAL);
        assert_non_null(strstr(why, "uts"));
        free(why);
        policy_done(&p);
}

static void test_desktop_keys(void **state)
{
        struct policy p;
        struct resolved r;
        struct box_spec s;
        struct ident id = alice();
        char *why = NULL;
        (void)state;

        /* The default shows the login's own display; tmp_keep expands. */
        assert_int_equal(load("[default]\nprivate_tmp = yes\ntmp_keep = /tmp/krb5cc_${UID} -/var/tmp/x\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.x11, X11_DISPLAY);
        assert_int_equal(s.display, -1);
        assert_int_equal(s.n_tmp_keep, 2);
        assert_string_equal(s.tmp_keep[0].path, "/tmp/krb5cc_2001");
        assert_true(s.tmp_keep[1].optional);
        assert_int_equal(box_spec_validate(&s, &(const char *){ NULL }), 0);
        /* The helper refuses a path outside /tmp and /var/tmp all the same. */
        const char *what = NULL;
        assert_int_equal(spec_path_push(&s.tmp_keep, &s.n_tmp_keep, "/etc/shadow", false), 0);
        assert_true(box_spec_validate(&s, &what) < 0);
        assert_string_equal(what, "tmp_keep path");
        box_spec_done(&s);
        policy_done(&p);

        /* Without a private /tmp there is nothing to keep. */
        assert_int_equal(load("[default]\nx11 = all\ntmp_keep = /tmp/a\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.x11, X11_ALL);
        assert_int_equal(s.n_tmp_keep, 0);
        box_spec_done(&s);
        policy_done(&p);

        /* Not below /tmp or /var/tmp, /tmp itself, or a bad choice: invalid. */
        const char *bad[] = { "[default]\ntmp_keep = /etc/passwd\n", "[default]\ntmp_keep = /tmp\n",
                              "[default]\ntmp_keep = /var/tmpx/a\n", "[default]\ntmp_keep = /tmp/../etc\n",
                              "[default]\nx11 = yes\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(load(bad[i], &p) < 0);
                assert_true(p.n_errors > 0);
                policy_done(&p);
        }
}

static void test_privilege_keys(void **state)
{
        struct policy p;
        struct resolved r;
        struct box_spec s;
        struct ident id = alice();
        char *why = NULL;
        bool set;
        uint64_t keep;
        (void)state;

        assert_int_equal(parse_caps("", &set, &keep, &why), 0);
        assert_false(set);
        assert_int_equal(parse_caps("none", &set, &keep, &why), 0);
        assert_true(set);
        assert_int_equal(keep, 0);
        assert_int_equal(parse_caps("cap_net_raw,cap_kill cap_setuid", &set, &keep, &why), 0);
        assert_int_equal(keep, (1ULL << 13) | (1ULL << 5) | (1ULL << 7));
        assert_int_equal(parse_caps("cap_net_raw,cap_flying", &set, &keep, &why), -EINVAL);
        assert_non_null(strstr(why, "'cap_flying' is not a capability"));
        free(why);
        why = NULL;
        expect_error("[default]\ncapability_bounding = all_of_them\n", "is not a capability");
        expect_error("[default]\nno_new_privs = please\n", "is not a boolean");
        expect_error("[default]\nuser_root = maybe\n", "is not a boolean");

        assert_int_equal(load("[default]\nno_new_privs = yes\ncapability_bounding = cap_kill\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_string_equal(r.value[K_NAMESPACES], "mount pid uts ipc user");
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_true(s.no_new_privs && s.cap_bounding);
        assert_int_equal(s.cap_keep, 1ULL << 5);
        assert_true(s.namespaces & NS_USER);
        assert_false(s.user_root);
        box_spec_done(&s);
        policy_done(&p);

        /* user_root needs a user namespace. */
        assert_int_equal(load("[default]\nnamespaces = mount pid\nuser_root = yes\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), -EINVAL);
        assert_non_null(strstr(why, "needs user in namespaces"));
        free(why);
        policy_done(&p);
}

static void test_subids(void **state)
{
        uint32_t start, count;
        char *f = NULL;
        (void)state;

        assert_int_equal(xasprintf(&f, "%s/subuid", dir), 0);
        write_file(dir, "subuid", "bob:100000:65536\nbroken line\n2001:200000:1000\nalice:300000:5\n", 0644);
        assert_int_equal(subid_lookup(f, "alice", 2001, &start, &count), 0);
        assert_int_equal(start, 200000);       /* the first entry, by uid here */
        assert_int_equal(count, 1000);
        assert_int_equal(subid_lookup(f, "carol", 2003, &start, &count), 0);
        assert_int_equal(count, 0);
        write_file(dir, "subuid", "alice:1:1\n", 0666);
        assert_int_equal(subid_lookup(f, "alice", 2001, &start, &count), -EPERM);
        assert_int_equal(subid_lookup("/nonexistent/subuid", "alice", 2001, &start, &count), 0);
        assert_int_equal(count, 0);
        free(f);

        assert_false(subid_range_bad(2001, 100000, 65536));
        assert_false(subid_range_bad(2001, 0, 0));
        assert_true(subid_range_bad(2001, 0, 1000));            /* host root */
        assert_true(subid_range_bad(2001, 1000, 2000));         /* the user's own uid */
        assert_true(subid_range_bad(2001, 4294967000u, 1000));  /* past the largest id */
}

static void test_network_keys(void **state)
{
        struct policy p;
        struct resolved r;
        struct box_spec s;
        struct ident id = alice();
        char *why = NULL;
        (void)state;

        expect_error("[default]\nnetwork = wifi\n", "write none, loopback or veth");
        expect_error("[default]\ngateway = 10.0.0.1 10.0.0.2\n", "at most one IPv4 and one IPv6 gateway");
        expect_error("[default]\ndns = 1.2.3.4 nonsense\n", "'nonsense' is not an IPv4 or IPv6 address");
        expect_error("[default]\nbridge = br0/x\n", "is not an interface name");
        expect_error("[global]\npool4 = 10.0.0.0/31\n", "prefix of at most /30");
        expect_error("[global]\npool4 = 10.0.0.1/16\n", "is not an IPv4 network");
        expect_error("[global]\npool6 = 10.0.0.0/16\n", "is not an IPv6 network");
        expect_error("[default]\npool4 = 10.0.0.0/16\n", "this key belongs in [global]");
        expect_error("[global]\nprepared_boxes = 65\n", "is not a number of boxes from 0 to 64");
        expect_error("[global]\nprepared_boxes = -1\n", "is not a number of boxes from 0 to 64");
        expect_error("[default]\nprepared_boxes = 4\n", "this key belongs in [global]");
        /* Its older name is the same key. */
        expect_error("[global]\nprepared_networks = 65\n", "is not a number of boxes from 0 to 64");
        expect_error("[default]\nprepared_networks = 4\n", "this key belongs in [global]");
        expect_error("[global]\nprepared_linger = 3601\n", "is not a number of seconds from 0 to 3600");
        expect_error("[global]\nprepared_linger = 1m\n", "is not a number of seconds from 0 to 3600");
        expect_error("[default]\nprepared_linger = 5\n", "this key belongs in [global]");

        assert_int_equal(load("[global]\npool6 = fd00::/64\n[default]\nnetwork = veth\nnat = yes\n"
                              "gateway = 10.213.0.254 fd00::fe\ndns = 192.0.2.53 2001:db8::53\n",
                              &p),
                         0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.network, NET_VETH);
        assert_true(s.namespaces & NS_NET);
        assert_true(s.nat && s.isolate);
        assert_string_equal(s.pool4, "10.213.0.0/16");
        assert_string_equal(s.pool6, "fd00::/64");
        assert_string_equal(s.gateway4, "10.213.0.254");
        assert_string_equal(s.gateway6, "fd00::fe");
        assert_int_equal(s.n_dns, 2);
        /* The default is not sent: a helper older than the key takes it. */
        assert_int_equal(s.prepared, -1);
        assert_int_equal(box_spec_prepared(&s), PREPARED_DEFAULT);
        assert_int_equal(s.prepared_linger, -1);
        assert_int_equal(box_spec_prepared_linger(&s), PREPARED_LINGER_DEFAULT);
        assert_int_equal(box_spec_validate(&s, &(const char *){ NULL }), 0);
        box_spec_done(&s);
        policy_done(&p);

        assert_int_equal(load("[global]\nprepared_networks = 0\n[default]\nnetwork = veth\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.prepared, 0);
        assert_int_equal(box_spec_prepared(&s), 0);
        s.prepared = PREPARED_MAX + 1;
        assert_int_equal(box_spec_validate(&s, &(const char *){ NULL }), -EINVAL);
        box_spec_done(&s);
        policy_done(&p);

        /* Boxes without a network are made ahead too; the linger is sent
         * when it is not the default. */
        assert_int_equal(load("[global]\nprepared_boxes = 3\nprepared_linger = 0\n[default]\nnamespaces = mount\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.prepared, 3);
        assert_int_equal(s.prepared_linger, 0);
        assert_int_equal(box_spec_prepared_linger(&s), 0);
        s.prepared_linger = PREPARED_LINGER_MAX + 1;
        assert_int_equal(box_spec_validate(&s, &(const char *){ NULL }), -EINVAL);
        box_spec_done(&s);
        policy_done(&p);

        /* "net" in namespaces alone: a loopback-only network. */
        assert_int_equal(load("[default]\nnamespaces = mount net\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), 0);
        assert_int_equal(s.network, NET_LOOPBACK);
        box_spec_done(&s);
        policy_done(&p);

        /* nat needs veth; nat and bridge exclude each other. */
        assert_int_equal(load("[default]\nnat = yes\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), -EINVAL);
        assert_non_null(strstr(why, "need network = veth"));
        free(why);
        why = NULL;
        policy_done(&p);
        assert_int_equal(load("[default]\nnetwork = veth\nnat = yes\nbridge = br0\n", &p), 0);
        policy_resolve(&p, &id, &r);
        assert_int_equal(policy_build_spec(&r, &id, &s, &why), -EINVAL);
        assert_non_null(strstr(why, "exclude each other"));
        free(why);
        policy_done(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_valid_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors_name_file_section_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_paths_are_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_syntax_and_long_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_trust, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropins_in_lexical_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exempt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expansion, setup, teardown),
                cmocka_unit_test_setup_teardown(test_build_spec, setup, teardown),
                cmocka_unit_test_setup_teardown(test_desktop_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_privilege_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_subids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_network_keys, setup, teardown),
        };
        return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
