/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper daemon: one process, one epoll loop, every box's state. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "helper.h"

struct watch {
        int fd;
        void (*cb)(struct watch *w, uint32_t events);
};

int loop_add(struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
void loop_del(struct watch *w);

/* A connection from the module or the CLI: one request, one reply. */
struct client {
        struct watch w;
        bool user;              /* came in on the user socket */
        uid_t uid;
        pid_t pid;
        int pidfd;              /* the peer process, for session tracking */
        unsigned long long deadline;    /* for its request */
        uid_t owner;            /* on the user socket: whose the uid is (box_id_owner) */
        char owner_name[33];
        struct client *next_waiter;
        uint8_t cookie[NSBOX_COOKIE_LEN];
};

void client_reply(struct client *c, const struct msg *m, int fd);
void client_reply_fds(struct client *c, const struct msg *m, const int *fds, size_t n);
void client_fail(struct client *c, int error, const char *step, const char *object);
/* Close a connection without an answer (its peer is gone). */
void client_drop(struct client *c);

/* main.c: nsbox-init, opened once from beside the helper's own binary. */
extern int init_exe_fd;
/* main.c: handle requests waiting on root's socket now. */
void take_pending_requests(void);

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

/* box.c */
int box_spawn_prepare(void);
void box_open(struct client *c, struct box_spec *spec, struct session_info *si);
void box_close_session(struct client *c, const uint8_t cookie[NSBOX_COOKIE_LEN]);
void box_list(struct client *c);
void box_root(struct client *c, uid_t uid);
void box_manager(struct client *c);
void box_show(struct client *c, const char *id);
void box_enter(struct client *c, const char *id);
void box_stop_request(struct client *c, const char *id, bool force);
void box_stop_all(void);
/* Logins waiting for their user's boxes to finish starting: served when
 * their turn has come, failed when late or (refuse) when the helper stops.
 * box_turns_next_ms(): the next deadline, -1 when none waits. */
void box_take_turns(bool refuse);
int box_turns_next_ms(void);
unsigned box_count(void);
bool box_owns_mntns(dev_t dev, ino_t ino);
/* The user an id belongs to: the user whose box maps it, or whose range
 * in /etc/subuid holds it (named in *name when no box tells the uid), or
 * the id itself. */
uid_t box_id_owner(uid_t id, char *name, size_t size);
