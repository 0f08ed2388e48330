/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CPUs of a box with a whole number of CPUs in cpu_max: when it gets
 * a cpuset, and that boxes spread over the CPUs the helper may use. */
#include "unit.h"

#include "cpus.h"

/* The test's own CPUs, as the helper's would be: three of them when the
 * machine has three, else two.  Returns how many, or 0. */
static int own_cpus(void)
{
        cpu_set_t all, mine;
        int n = 0;

        if (sched_getaffinity(0, sizeof(all), &all) < 0)
                return 0;
        CPU_ZERO(&mine);
        for (int c = 0; c < CPU_SETSIZE && n < 3; c++)
                if (CPU_ISSET(c, &all)) {
                        CPU_SET(c, &mine);
                        n++;
                }
        if (n < 2 || sched_setaffinity(0, sizeof(mine), &mine) < 0)
                return 0;
        return n;
}

static struct box_limits cpu_max(uint64_t usec)
{
        struct box_limits l;

        limits_init(&l);
        l.v[L_CPU_MAX] = usec;
        return l;
}

static void test_whole(void **state)
{
        struct box_limits l;
        int n = own_cpus();
        (void)state;

        if (!n)
                skip();
        l = cpu_max(LIMIT_UNSET);
        assert_int_equal(cpus_whole(&l), 0);
        l = cpu_max(CPU_USEC_PER_SEC);          /* 100% */
        assert_int_equal(cpus_whole(&l), 1);
        l = cpu_max(CPU_USEC_PER_SEC * 3 / 2);  /* 150%: a quota alone */
        assert_int_equal(cpus_whole(&l), 0);
        l = cpu_max(CPU_USEC_PER_SEC * (uint64_t)n);      /* every CPU: no set */
        assert_int_equal(cpus_whole(&l), 0);
        l = cpu_max(CPU_USEC_PER_SEC * 50);     /* more than there are */
        assert_int_equal(cpus_whole(&l), 0);
}

static void test_spread(void **state)
{
        cpu_set_t a, b, c;
        (void)state;

        if (!own_cpus())
                skip();
        assert_int_equal(cpus_take(1, &a), 0);
        assert_int_equal(CPU_COUNT(&a), 1);
        assert_int_equal(cpus_take(1, &b), 0);
        assert_int_equal(CPU_COUNT(&b), 1);
        assert_false(CPU_EQUAL(&a, &b));        /* the second box goes elsewhere */
        cpus_release(&a);
        assert_int_equal(cpus_take(1, &c), 0);
        assert_true(CPU_EQUAL(&a, &c));         /* where the first left room */
        cpus_hold(&c);                          /* a box sharing it: now twice */
        cpus_release(&b);
        assert_int_equal(cpus_take(1, &a), 0);
        assert_true(CPU_EQUAL(&a, &b));
        cpus_release(&a);
        cpus_release(&c);
        cpus_release(&c);
        assert_int_equal(cpus_take(0, &a), -EINVAL);
        assert_int_equal(cpus_take(CPU_SETSIZE, &a), -EINVAL);
}

static void test_mask_and_format(void **state)
{
        uint8_t mask[CPU_SETSIZE / 8];
        cpu_set_t s;
        char buf[64];
        (void)state;

        CPU_ZERO(&s);
        CPU_SET(0, &s);
        CPU_SET(9, &s);
        assert_int_equal(cpus_mask(&s, mask, sizeof(mask)), 2);
        assert_int_equal(mask[0], 0x01);
        assert_int_equal(mask[1], 0x02);
        assert_string_equal(cpus_format(&s, buf, sizeof(buf)), "0,9");
        CPU_SET(1, &s);
        CPU_SET(2, &s);
        CPU_SET(5, &s);
        assert_string_equal(cpus_format(&s, buf, sizeof(buf)), "0-2,5,9");
        CPU_ZERO(&s);
        assert_int_equal(cpus_mask(&s, mask, sizeof(mask)), 0);
        assert_string_equal(cpus_format(&s, buf, sizeof(buf)), "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole),
                cmocka_unit_test(test_spread),
                cmocka_unit_test(test_mask_and_format),
        };
        return cmocka_run_group_tests_name("cpus", tests, NULL, NULL);
}
