/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CPUs of a box whose cpu_max is a whole number of CPUs: a cpuset of
 * that many, so that nproc and sched_getaffinity() in the box agree with
 * its limit (a build that runs `make -j$(nproc)` starts as many jobs as it
 * may run).  A share that is no whole number (150%) stays a quota alone.
 * Each box gets the CPUs that the fewest of the helper's live boxes run
 * on, among those the helper itself may use: boxes spread over the host,
 * and those that come later fill what those before left. */
#include <errno.h>
#include <string.h>

#include "cpus.h"

static unsigned load[CPU_SETSIZE];     /* pinned boxes on each CPU */

unsigned cpus_whole(const struct box_limits *l)
{
        uint64_t v = l->v[L_CPU_MAX];
        cpu_set_t host;
        unsigned n;

        if (v == LIMIT_UNSET || v % CPU_USEC_PER_SEC != 0 || sched_getaffinity(0, sizeof(host), &host) < 0)
                return 0;
        n = (unsigned)(v / CPU_USEC_PER_SEC);
        return n > 0 && n < (unsigned)CPU_COUNT(&host) ? n : 0;
}

int cpus_take(unsigned n, cpu_set_t *ret)
{
        cpu_set_t host;

        CPU_ZERO(ret);
        if (sched_getaffinity(0, sizeof(host), &host) < 0)
                return -errno;
        if (n == 0 || n >= (unsigned)CPU_COUNT(&host))
                return -EINVAL;
        for (unsigned k = 0; k < n; k++) {
                int best = -1;

                for (int c = 0; c < CPU_SETSIZE; c++)
                        if (CPU_ISSET(c, &host) && !CPU_ISSET(c, ret) && (best < 0 || load[c] < load[best]))
                                best = c;
                CPU_SET(best, ret);
        }
        cpus_hold(ret);
        return 0;
}

void cpus_hold(const cpu_set_t *set)
{
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, set))
                        load[c]++;
}

void cpus_release(const cpu_set_t *set)
{
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, set) && load[c] > 0)
                        load[c]--;
}

size_t cpus_mask(const cpu_set_t *set, uint8_t *buf, size_t size)
{
        size_t n = 0;

        memset(buf, 0, size);
        for (int c = 0; c < CPU_SETSIZE && (size_t)c / 8 < size; c++)
                if (CPU_ISSET(c, set)) {
                        buf[c / 8] |= (uint8_t)(1u << (c % 8));
                        n = (size_t)c / 8 + 1;
                }
        return n;
}

const char *cpus_format(const cpu_set_t *set, char *buf, size_t size)
{
        size_t o = 0;

        buf[0] = '\0';
        for (int c = 0; c < CPU_SETSIZE && o < size; c++) {
                int e = c;

                if (!CPU_ISSET(c, set))
                        continue;
                while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
                        e++;
                o += (size_t)snprintf(buf + o, size - o, e > c ? "%s%d-%d" : "%s%d", o ? "," : "", c, e);
                c = e;
        }
        return buf;
}
