/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Address pools: parsing, blocks, allocation. */
#include "unit.h"

#include <sys/socket.h>

#include "netaddr.h"

static void test_parse(void **state)
{
        struct cidr c;
        struct addr a;
        char buf[64];
        (void)state;

        assert_int_equal(cidr_parse("10.213.0.0/16", &c), 0);
        assert_int_equal(c.base.family, AF_INET);
        assert_int_equal(c.prefix, 16);
        assert_int_equal(cidr_parse("10.213.0.1/16", &c), -EINVAL);      /* host bits */
        assert_int_equal(cidr_parse("10.213.0.0/33", &c), -EINVAL);
        assert_int_equal(cidr_parse("10.213.0.0", &c), -EINVAL);
        assert_int_equal(cidr_parse("fd00:213::/64", &c), 0);
        assert_int_equal(c.base.family, AF_INET6);
        assert_int_equal(cidr_parse("fd00:213::1/64", &c), -EINVAL);
        assert_int_equal(addr_parse("not-an-address", &a), -EINVAL);
        assert_int_equal(addr_parse("127.0.0.53", &a), 0);
        assert_true(addr_is_loopback(&a));
        assert_int_equal(addr_parse("::1", &a), 0);
        assert_true(addr_is_loopback(&a));
        addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "::1");
}

static void test_blocks(void **state)
{
        struct cidr c;
        struct addr a;
        char buf[64];
        (void)state;

        assert_int_equal(cidr_parse("10.213.0.0/16", &c), 0);
        assert_int_equal(pool_blocks(&c), 16384);
        assert_int_equal(pool_addr(&c, 0, 1, &a), 0);
        addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "10.213.0.1");
        assert_int_equal(pool_addr(&c, 64, 2, &a), 0);
        addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "10.213.1.2");          /* carries into the next byte */
        assert_int_equal(pool_addr(&c, 16383, 2, &a), 0);
        addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "10.213.255.254");
        assert_int_equal(pool_addr(&c, 16384, 1, &a), -ERANGE);
        assert_int_equal(cidr_parse("10.0.0.0/30", &c), 0);
        assert_int_equal(pool_blocks(&c), 1);
        assert_int_equal(cidr_parse("10.0.0.0/31", &c), 0);
        assert_int_equal(pool_blocks(&c), 0);
        assert_int_equal(cidr_parse("fd00:213::/64", &c), 0);
        assert_int_equal(pool_addr(&c, 1, 2, &a), 0);
        addr_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "fd00:213::6");
        assert_true(cidr_contains(&c, &a));
}

struct taken_set {
        struct addr used[8];
        size_t n;
};

static bool taken(const struct addr *base, void *userdata)
{
        struct taken_set *t = userdata;

        for (size_t i = 0; i < t->n; i++)
                if (addr_equal(&t->used[i], base))
                        return true;
        return false;
}

static void test_alloc(void **state)
{
        struct taken_set t = {};
        struct cidr c;
        struct addr gw;
        uint64_t idx;
        (void)state;

        assert_int_equal(cidr_parse("10.213.0.0/28", &c), 0);  /* 4 blocks */
        assert_int_equal(pool_alloc(&c, NULL, taken, &t, &idx), 0);
        assert_int_equal(idx, 0);
        pool_addr(&c, 0, 0, &t.used[t.n++]);
        pool_addr(&c, 1, 0, &t.used[t.n++]);
        assert_int_equal(pool_alloc(&c, NULL, taken, &t, &idx), 0);
        assert_int_equal(idx, 2);
        /* A gateway in block 2 makes it unusable. */
        assert_int_equal(addr_parse("10.213.0.9", &gw), 0);
        assert_int_equal(pool_alloc(&c, &gw, taken, &t, &idx), 0);
        assert_int_equal(idx, 3);
        pool_addr(&c, 3, 0, &t.used[t.n++]);
        assert_int_equal(pool_alloc(&c, &gw, taken, &t, &idx), -ENOSPC);
        /* A freed block is handed out again. */
        t.n = 1;
        assert_int_equal(pool_alloc(&c, NULL, taken, &t, &idx), 0);
        assert_int_equal(idx, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_blocks),
                cmocka_unit_test(test_alloc),
        };
        return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}
