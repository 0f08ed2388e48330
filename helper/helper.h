/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "proto.h"
#include "spec.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Where a box's setup failed: reported to the module, which logs it once. */
struct step_error {
        const char *step;
        char object[256];
        int error;              /* positive errno */
};

/* init/views.c: run by nsbox-init inside the box's fresh mount namespace,
 * as root, before any session joins.  Builds the per-user view. */
int views_apply(const struct box_spec *s, struct step_error *err);

/* init/nsbox-init.c: what a setup step cost, sent to the helper with
 * "ready" and logged when the module's debug argument is on. */
void timing_add(const char *step, const char *object, unsigned long long usec);

/* userns.c: a user namespace owned by the user, with the box's maps. */
int userns_create(const struct box_spec *s, int *ret_fd, struct step_error *err);
