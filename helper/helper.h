/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "proto.h"
#include "spec.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Where a box's setup failed: reported to the module, which logs it once. */
struct step_error {
        const char *step;       /* never NULL once filled */
        char object[256];
        int error;              /* positive errno */
};

/* Fill *err with the step, the object and r's errno, and return r (a
 * -errno): `return step_fail(err, "bind", path, r);`.  step_failf() takes
 * the object as a format. */
static inline int step_fail(struct step_error *err, const char *step, const char *object, int r)
{
        err->step = step ? step : "setup";
        snprintf(err->object, sizeof(err->object), "%.*s", (int)sizeof(err->object) - 1, object ? object : "");
        err->error = r < 0 ? -r : EIO;
        return r < 0 ? r : -EIO;
}

static inline int step_failf(struct step_error *err, const char *step, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static inline int step_failf(struct step_error *err, const char *step, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err->object, sizeof(err->object), fmt, ap);
        va_end(ap);
        err->step = step ? step : "setup";
        err->error = r < 0 ? -r : EIO;
        return r < 0 ? r : -EIO;
}

/* init/views.c: run by nsbox-init inside the box's fresh mount namespace,
 * as root, before any session joins.  Builds the per-user view. */
int views_apply(const struct box_spec *s, struct step_error *err);

/* init/nsbox-init.c: what a setup step cost, sent to the helper with
 * "ready" and logged when the module's debug argument is on. */
void timing_add(const char *step, const char *object, unsigned long long usec);

/* userns.c: a user namespace owned by the user, with the box's maps. */
int userns_create(const struct box_spec *s, int *ret_fd, struct step_error *err);
