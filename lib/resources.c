/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "resources.h"
#include "util.h"

/* Ranges as systemd takes them (systemd.resource-control(5)). */
#define TASKS_MAX_MAX 4194304ULL        /* the kernel's PID_MAX_LIMIT */
#define WEIGHT_MIN 1ULL
#define WEIGHT_MAX 10000ULL
#define QUOTA_MAX_PERCENT 100000ULL     /* 1000 CPUs */
#define USEC_PER_PERCENT 10000ULL       /* of one CPU's second */

const struct limit_def limit_defs[_L_MAX] = {
        [L_TASKS_MAX] = { LK_COUNT, "pids", "TasksMax", "TasksMax", "pids.max" },
        [L_MEMORY_MAX] = { LK_BYTES, "memory", "MemoryMax", "MemoryMax", "memory.max" },
        [L_MEMORY_HIGH] = { LK_BYTES, "memory", "MemoryHigh", "MemoryHigh", "memory.high" },
        [L_MEMORY_SWAP_MAX] = { LK_BYTES, "memory", "MemorySwapMax", "MemorySwapMax", "memory.swap.max" },
        [L_CPU_WEIGHT] = { LK_WEIGHT, "cpu", "CPUWeight", "CPUWeight", "cpu.weight" },
        [L_CPU_MAX] = { LK_QUOTA, "cpu", "CPUQuotaPerSecUSec", "CPUQuota", "cpu.max" },
        [L_IO_WEIGHT] = { LK_WEIGHT, "io", "IOWeight", "IOWeight", "io.weight" },
};

void limits_init(struct box_limits *l)
{
        for (int i = 0; i < _L_MAX; i++)
                l->v[i] = LIMIT_UNSET;
}

bool limits_any(const struct box_limits *l)
{
        return limits_mask(l) != 0;
}

unsigned limits_mask(const struct box_limits *l)
{
        unsigned m = 0;

        for (int i = 0; i < _L_MAX; i++)
                if (l->v[i] != LIMIT_UNSET)
                        m |= 1u << i;
        return m;
}

/* Digits, then at most one suffix character, kept in *ret_suffix. */
static int parse_number(const char *s, uint64_t *ret, char *ret_suffix)
{
        uint64_t v = 0;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (i == 0 || (s[i] && s[i + 1]))
                return -EINVAL;
        *ret = v;
        *ret_suffix = s[i];
        return 0;
}

static int parse_bytes(const char *s, uint64_t *ret)
{
        static const char units[] = "kmgt";
        uint64_t v, mul = 1;
        char suffix;
        const char *u;

        if (parse_number(s, &v, &suffix) < 0)
                return -EINVAL;
        if (suffix == '%') {
                long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

                if (v == 0 || v > 100 || pages <= 0 || psize <= 0)
                        return -EINVAL;
                *ret = (uint64_t)pages * (uint64_t)psize / 100 * v;
                return 0;
        }
        if (suffix) {
                u = strchr(units, suffix | 0x20);
                if (!u)
                        return -EINVAL;
                mul = 1ULL << (10 * (u - units + 1));
        }
        if (v > UINT64_MAX / 2 / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

/* A value as cgroups take it, within its limit's range. */
static bool in_range(enum limit_id id, uint64_t v)
{
        switch (limit_defs[id].kind) {
        case LK_COUNT:
                return v >= 1 && v <= TASKS_MAX_MAX;
        case LK_BYTES:
                /* No swap at all is a limit too; no memory at all is not. */
                return v > 0 || id == L_MEMORY_SWAP_MAX;
        case LK_WEIGHT:
                return v >= WEIGHT_MIN && v <= WEIGHT_MAX;
        case LK_QUOTA:
                return v >= USEC_PER_PERCENT && v <= QUOTA_MAX_PERCENT * USEC_PER_PERCENT && v % USEC_PER_PERCENT == 0;
        }
        return false;
}

int limit_parse(enum limit_id id, const char *value, uint64_t *ret, char **ret_why)
{
        const struct limit_def *d = &limit_defs[id];
        uint64_t v = 0;
        char suffix = 0;

        if (!value[0] || strcmp(value, "infinity") == 0) {
                *ret = LIMIT_UNSET;
                return 0;
        }
        switch (d->kind) {
        case LK_COUNT:
                if (parse_number(value, &v, &suffix) == 0 && !suffix && in_range(id, v))
                        break;
                xasprintf(ret_why, "'%s' is not a number of tasks from 1 to %llu, or infinity", value, (unsigned long long)TASKS_MAX_MAX);
                return -EINVAL;
        case LK_BYTES:
                if (parse_bytes(value, &v) == 0 && in_range(id, v))
                        break;
                xasprintf(ret_why,
                          "'%s' is not an amount of memory; write bytes with k, m, g or t (512m), a share of RAM "
                          "(25%%), or infinity",
                          value);
                return -EINVAL;
        case LK_WEIGHT:
                if (parse_number(value, &v, &suffix) == 0 && !suffix && in_range(id, v))
                        break;
                xasprintf(ret_why, "'%s' is not a weight from %llu to %llu", value, (unsigned long long)WEIGHT_MIN, (unsigned long long)WEIGHT_MAX);
                return -EINVAL;
        case LK_QUOTA:
                if (parse_number(value, &v, &suffix) == 0 && suffix == '%' && v <= QUOTA_MAX_PERCENT &&
                    in_range(id, v * USEC_PER_PERCENT)) {
                        v *= USEC_PER_PERCENT;
                        break;
                }
                xasprintf(ret_why, "'%s' is not a CPU quota; write a share of one CPU from 1%% to %llu%% (200%% is two)",
                          value, (unsigned long long)QUOTA_MAX_PERCENT);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

const char *limit_format(enum limit_id id, uint64_t v, char *buf, size_t size)
{
        static const char units[] = "KMGT";
        int u = -1;

        if (v == LIMIT_UNSET)
                snprintf(buf, size, "infinity");
        else if (limit_defs[id].kind == LK_QUOTA)
                snprintf(buf, size, "%" PRIu64 "%%", v / (uint64_t)USEC_PER_PERCENT);
        else if (limit_defs[id].kind == LK_BYTES) {
                while (u < 3 && v && v % 1024 == 0) {
                        v /= 1024;
                        u++;
                }
                snprintf(buf, size, "%" PRIu64 "%.*s", v, u < 0 ? 0 : 1, u < 0 ? "" : &units[u]);
        } else
                snprintf(buf, size, "%" PRIu64, v);
        return buf;
}

bool limits_valid(const struct box_limits *l)
{
        for (int i = 0; i < _L_MAX; i++)
                if (l->v[i] != LIMIT_UNSET && !in_range(i, l->v[i]))
                        return false;
        return true;
}

/* The controllers the root of the cgroup v2 hierarchy offers: what systemd,
 * or the helper's own subtree, can enable below it. */
int limits_host_support(unsigned mask, char *ret_missing, size_t size)
{
        char buf[512];
        struct statfs sf;
        ssize_t n;
        int fd;

        if (!mask)
                return 0;
        if (statfs("/sys/fs/cgroup", &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
                snprintf(ret_missing, size, "cgroup v2 (/sys/fs/cgroup is not cgroup2)");
                return -EOPNOTSUPP;
        }
        fd = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = '\0';
        for (int i = 0; i < _L_MAX; i++) {
                const char *c = limit_defs[i].controller;
                size_t len = strlen(c);
                bool found = false;

                if (!(mask & (1u << i)))
                        continue;
                for (const char *p = buf; (p = strstr(p, c)); p += len)
                        if ((p == buf || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
                                found = true;
                if (!found) {
                        snprintf(ret_missing, size, "the cgroup controller %s", c);
                        return -EOPNOTSUPP;
                }
        }
        return 0;
}
