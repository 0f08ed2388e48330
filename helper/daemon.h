/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper daemon: one process, one epoll loop, every box's state. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "box.h"
#include "helper.h"
#include "loop.h"

/* units.c: a transient scope per box on hosts that run systemd.  A job
 * is embedded in its box; done() runs once its start job is over, or
 * failed (the init then stays in the helper's cgroup); units_forget()
 * when the box is gone. */
#define NSBOX_SLICE "nsbox.slice"
struct unit_job {
        char name[64];
        bool pending;
        bool started;           /* its start job is done: the scope exists */
        char claimed[64];       /* the user's own unit its limits were set on, or "" */
        bool pinned;            /* a whole number of CPUs in cpu_max: on these */
        cpu_set_t cpus;
        void (*done)(struct unit_job *j);
        struct sd_bus_slot *slot;
        struct unit_job *next;
};
bool units_enabled(void);
int units_init(void);
/* What a box's units are made from. */
struct box_unit {
        const char *box_id, *user;
        uid_t uid;
        bool share_user;
        const struct box_limits *limits;
};
int units_start_scope(struct unit_job *j, const struct box_unit *u, pid_t pid, pid_t login);
/* Is the process in one of its user's own session scopes, or their manager's? */
bool units_login_is_users(pid_t pid, uid_t uid);
/* A call to systemd that a login waits for: done() runs once, with NULL,
 * or what systemd said was wrong; by CALL_TIMEOUT at the latest. */
struct unit_call {
        bool pending;
        char failure[256];
        void (*done)(struct unit_call *c);
        struct sd_bus_slot *slot;
        struct unit_call *next;
};
int units_limit_login(const struct box_unit *u, struct unit_job *box_scope, pid_t pid, struct unit_call *call);
/* The waiter is gone: done() will not run. */
void units_call_cancel(struct unit_call *c);
void units_forget(struct unit_job *j);
/* A box a helper before us started: its scope, the user's unit its limits
 * claimed ("" for none), its CPUs (NULL for none). */
void units_adopt(struct unit_job *j, const char *scope, const char *claimed, const struct box_limits *l,
                 const cpu_set_t *cpus);
