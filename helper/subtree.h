/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's cgroup in the helper's own subtree, /sys/fs/cgroup/nsbox, on a
 * host with cgroup v2 that runs no systemd. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdbool.h>
#include <sys/types.h>

#include "helper.h"
#include "resources.h"

struct subtree_box {
        int dir;                /* its directory, or -1 */
        char path[64];          /* "/nsbox/box-ID", below /sys/fs/cgroup */
};

/* Makes /sys/fs/cgroup/nsbox/box-ID with the limits (and the CPUs, when
 * cpus is not NULL), the controllers they need enabled above it, and moves
 * the box's init in.  On failure *err names the file or controller. */
int subtree_box_create(const char *box_id, const struct box_limits *l, const cpu_set_t *cpus, pid_t init,
                       struct subtree_box *ret, struct step_error *err);
/* Moves a login process into the box's cgroup; its children follow. */
int subtree_attach(const struct subtree_box *b, pid_t pid);
/* The box has ended: its cgroup goes, now or once it is empty. */
void subtree_box_remove(struct subtree_box *b);
/* A box a helper before us made: its cgroup, if it has one. */
int subtree_box_open(const char *box_id, struct subtree_box *ret);
/* At the helper's start: the empty cgroups a helper that died left, but
 * those of the boxes keep() says were taken over. */
void subtree_sweep(bool (*keep)(const char *box_id));
/* At the helper's exit: nsbox/ when it is empty, and the controllers the
 * helper enabled on the root. */
void subtree_done(void);
