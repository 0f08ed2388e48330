/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which names and paths are safe to splice into paths, sections and logs. */
#include "unit.h"

#include "ident.h"
#include "spec.h"

static void test_names(void **state)
{
        char long_name[300];
        (void)state;

        assert_true(ident_name_valid("alice"));
        assert_true(ident_name_valid("a.b-c_d"));
        assert_true(ident_name_valid("MACHINE$"));
        assert_false(ident_name_valid(""));
        assert_false(ident_name_valid("-rf"));
        assert_false(ident_name_valid(".."));
        assert_false(ident_name_valid("a/b"));
        assert_false(ident_name_valid("a,b"));
        assert_false(ident_name_valid("a b"));
        assert_false(ident_name_valid("a\nb"));
        assert_false(ident_name_valid("a\x01"));
        assert_false(ident_name_valid("a$b"));
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_false(ident_name_valid(long_name));
}

static void test_paths(void **state)
{
        (void)state;
        assert_true(path_is_clean("/"));
        assert_true(path_is_clean("/home/alice"));
        assert_true(path_is_clean("/home/al.ice/..x"));
        assert_false(path_is_clean("home"));
        assert_false(path_is_clean("/home/"));
        assert_false(path_is_clean("/home//alice"));
        assert_false(path_is_clean("/home/./alice"));
        assert_false(path_is_clean("/home/../etc"));
        assert_false(path_is_clean("/home/a b"));
        assert_false(path_is_clean("/home/a:b"));
        assert_false(path_is_clean("/home/a,b"));
        assert_false(path_is_clean("/home/a\nb"));
        assert_false(path_is_clean("/home/a\x7f"));
}

static void test_hostnames(void **state)
{
        (void)state;
        assert_true(hostname_valid("box-alice"));
        assert_true(hostname_valid("a.b.c"));
        assert_false(hostname_valid(""));
        assert_false(hostname_valid("-a"));
        assert_false(hostname_valid("a."));
        assert_false(hostname_valid("a_b"));
        assert_false(hostname_valid("/home/alice"));
        assert_false(hostname_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_lookup_rejects_unknown(void **state)
{
        struct ident id;
        const char *why;
        (void)state;

        assert_int_equal(ident_lookup("no-such-user-here", &id, &why), -ENOENT);
        assert_int_equal(ident_lookup("bad/name", &id, &why), -EINVAL);
        assert_non_null(why);
        assert_int_equal(ident_lookup("root", &id, &why), 0);
        assert_int_equal(id.uid, 0);
        assert_string_equal(id.home, "/root");
        assert_true(id.n_groups >= 1);
        ident_done(&id);
}

/* A login asks NSS only about the groups the policy names. */
static void test_groups_on_demand(void **state)
{
        struct ident id;
        const char *why;
        char *root_only[] = { (char *)"root" }, *not_member[] = { (char *)"daemon" },
             *unknown[] = { (char *)"no-such-group-here" };
        (void)state;

        assert_int_equal(ident_lookup_user("root", &id, &why), 0);
        assert_null(id.group);
        assert_int_equal(id.n_groups, 0);
        /* Nothing named: nothing asked. */
        assert_int_equal(ident_load_groups(&id, NULL, 0, false, &why), 0);
        assert_null(id.group);
        assert_int_equal(id.n_groups, 0);
        /* ${GROUP} used: the primary group's name. */
        assert_int_equal(ident_load_groups(&id, NULL, 0, true, &why), 0);
        assert_string_equal(id.group, "root");
        ident_done(&id);

        assert_int_equal(ident_lookup_user("root", &id, &why), 0);
        assert_int_equal(ident_load_groups(&id, root_only, 1, false, &why), 0);
        assert_int_equal(id.n_groups, 1);
        assert_string_equal(id.groups[0], "root");
        ident_done(&id);

        assert_int_equal(ident_lookup_user("root", &id, &why), 0);
        assert_int_equal(ident_load_groups(&id, not_member, 1, false, &why), 0);
        assert_int_equal(id.n_groups, 0);
        ident_done(&id);

        /* A name NSS does not know as spelled: every group, named. */
        assert_int_equal(ident_lookup_user("root", &id, &why), 0);
        assert_int_equal(ident_load_groups(&id, unknown, 1, false, &why), 0);
        assert_true(id.n_groups >= 1);
        assert_string_equal(id.groups[0], "root");
        ident_done(&id);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_hostnames),
                cmocka_unit_test(test_lookup_rejects_unknown),
                cmocka_unit_test(test_groups_on_demand),
        };
        return cmocka_run_group_tests_name("ident", tests, NULL, NULL);
}
