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

static void test_alloc(void **state)
{
        struct addr used[8], gw;
        size_t n = 0;
        struct cidr c;
        uint64_t idx;
        (void)state;

        assert_int_equal(cidr_parse("10.213.0.0/28", &c), 0);  /* 4 blocks */
        assert_int_equal(pool_alloc(&c, NULL, used, n, &idx), 0);
        assert_int_equal(idx, 0);
        pool_addr(&c, 0, 1, &used[n++]);
        pool_addr(&c, 0, 2, &used[n++]);
        pool_addr(&c, 1, 2, &used[n++]);
        assert_int_equal(pool_alloc(&c, NULL, used, n, &idx), 0);
        assert_int_equal(idx, 2);
        /* A gateway in block 2 makes it unusable. */
        assert_int_equal(addr_parse("10.213.0.9", &gw), 0);
        assert_int_equal(pool_alloc(&c, &gw, used, n, &idx), 0);
        assert_int_equal(idx, 3);
        pool_addr(&c, 3, 1, &used[n++]);
        assert_int_equal(pool_alloc(&c, &gw, used, n, &idx), -ENOSPC);
        /* A freed block is handed out again. */
        assert_int_equal(pool_alloc(&c, NULL, used, 2, &idx), 0);
        assert_int_equal(idx, 1);
        /* Addresses outside the pool, or of the other family, take nothing;
         * one of an older, differently aligned pool takes its block here. */
        n = 0;
        assert_int_equal(addr_parse("10.214.0.1", &used[n++]), 0);
        assert_int_equal(addr_parse("fd00::1", &used[n++]), 0);
        assert_int_equal(addr_parse("10.213.0.3", &used[n++]), 0);
        assert_int_equal(pool_alloc(&c, NULL, used, n, &idx), 0);
        assert_int_equal(idx, 1);
}

static void test_alloc_v6(void **state)
{
        struct addr used[4];
        struct cidr c;
        uint64_t idx;
        (void)state;

        /* A /48: more than 2^64 addresses; the first 2^32 blocks are used. */
        assert_int_equal(cidr_parse("fd00:213::/48", &c), 0);
        assert_int_equal(addr_parse("fd00:213::1", &used[0]), 0);
        assert_int_equal(addr_parse("fd00:213::5", &used[1]), 0);
        assert_int_equal(addr_parse("fd00:213:0:1::1", &used[2]), 0);   /* beyond 2^32 blocks */
        assert_int_equal(addr_parse("fd00:213::a", &used[3]), 0);
        assert_int_equal(pool_alloc(&c, NULL, used, 4, &idx), 0);
        assert_int_equal(idx, 3);
}

/* Many leases, freed at random: always the lowest free block. */
static void test_alloc_many(void **state)
{
        enum { N = 2000 };
        static struct addr used[N];
        static bool busy[N + 1];
        struct cidr c;
        uint64_t idx;
        size_t n = 0;
        (void)state;

        assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
        srand(7);
        for (size_t i = 0; i < N; i++) {
                uint64_t b = (uint64_t)rand() % N;
                if (busy[b])
                        continue;
                busy[b] = true;
                pool_addr(&c, b, 2, &used[n++]);
        }
        uint64_t lowest = 0;
        while (busy[lowest])
                lowest++;
        assert_int_equal(pool_alloc(&c, NULL, used, n, &idx), 0);
        assert_int_equal(idx, lowest);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_blocks),
                cmocka_unit_test(test_alloc),
                cmocka_unit_test(test_alloc_v6),
                cmocka_unit_test(test_alloc_many),
        };
        return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}
