/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's resource limits (cgroup v2): one table names each limit's policy
 * key, the controller it needs, its systemd property and its cgroupfs file,
 * so that the module's parser, the helper and the CLI agree. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum limit_id {
        L_TASKS_MAX,
        L_MEMORY_MAX,
        L_MEMORY_HIGH,
        L_MEMORY_SWAP_MAX,
        L_CPU_WEIGHT,
        L_CPU_MAX,
        L_IO_WEIGHT,
        _L_MAX,
};

/* No limit: the key is empty or "infinity". */
#define LIMIT_UNSET UINT64_MAX

enum limit_kind {
        LK_COUNT,       /* tasks */
        LK_BYTES,       /* bytes, with k, m, g, t (1024) or a share of RAM (50%) */
        LK_WEIGHT,      /* 1..10000 */
        LK_QUOTA,       /* a share of one CPU per second: 200% is two CPUs */
};

/* Each limit's policy key is K_TASKS_MAX + its id (policy.h). */
struct limit_def {
        enum limit_kind kind;
        const char *controller;     /* cgroup v2 controller it needs */
        const char *property;       /* systemd's D-Bus property */
        const char *setting;        /* the setting its drop-in is named for */
        const char *file;           /* its cgroupfs file */
};
extern const struct limit_def limit_defs[_L_MAX];

struct box_limits {
        /* Values as cgroups take them: tasks, bytes, weights; L_CPU_MAX in
         * microseconds of CPU time per second. */
        uint64_t v[_L_MAX];
};

void limits_init(struct box_limits *l);
bool limits_any(const struct box_limits *l);
/* Parse one key's value; "" and "infinity" give LIMIT_UNSET. */
int limit_parse(enum limit_id id, const char *value, uint64_t *ret, char **ret_why);
/* The value written back as the policy spells it ("512M", "200%"); buf
 * holds at least 32 bytes. */
const char *limit_format(enum limit_id id, uint64_t v, char *buf, size_t size);
/* Checks the helper repeats on what it receives. */
bool limits_valid(const struct box_limits *l);
/* Which limits are set: bit i for limit i. */
unsigned limits_mask(const struct box_limits *l);

/* Can this host enforce the limits in mask (limits_mask())?  0 when it can;
 * else -EOPNOTSUPP with ret_missing saying what it lacks: "cgroup v2 (...)"
 * or "the cgroup controller NAME". */
int limits_host_support(unsigned mask, char *ret_missing, size_t size);
