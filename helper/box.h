/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box.c's face to the server: what each request asks of the boxes, and how
 * the answer comes back.  box.c knows nothing of connections. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "netaddr.h"
#include "proto.h"

/* The process behind a request, as the kernel told it at connect. */
struct peer {
        uid_t uid;
        pid_t pid;
        int pidfd;
};

/* The answer to a request that is answered at once: 0 and the message in
 * m (the server's buffer) with n_fds fds, or -errno with err filled. */
struct answer {
        struct msg *m;
        int fds[NSBOX_MAX_FDS];
        size_t n_fds;
        bool own_fds;           /* the server closes them once sent */
        struct error_reply err;
};
/* Fill a's error and return -error. */
int answer_fail(struct answer *a, int error, const char *step, const char *object);
/* The reply is a message of type with no attribute, and maybe an fd. */
int answer_empty(struct answer *a, int type, int fd);

/* A login's request for a box, answered once through done(), maybe only
 * after its box has started or its turn has come. */
struct open_answer {
        int error;              /* 0: box and pidfd below */
        const char *step, *object;
        const struct box_reply *box;
        int pidfd;              /* the box's init: the login joins it */
        bool gone;              /* the login gave up: nothing to send */
};
struct open_request {
        struct peer peer;       /* its pidfd is taken by the session */
        int conn;               /* the connection: has the module given up? */
        uint8_t cookie[NSBOX_COOKIE_LEN];       /* the session's, once made */
        void (*done)(struct open_request *o, const struct open_answer *a);
        struct open_request *next;
};

/* Requests waiting at the server, taken before a login's exit is handled
 * (so that its CLOSE counts as the session's end); set by the server. */
void box_set_drain(void (*drain)(void));
void box_open(struct open_request *o, struct box_spec *spec, struct session_info *si);
int box_close_session(const uint8_t cookie[NSBOX_COOKIE_LEN], struct answer *a);
/* The boxes after id `after` in the order of their ids, as many as fit. */
int box_list(const char *after, struct answer *a);
int box_root(const struct peer *p, struct answer *a);
int box_manager(const struct peer *p, struct answer *a);
/* One part of a show: the sessions older than before (UINT32_MAX: all). */
int box_show(const char *id, uint32_t before, struct answer *a);
int box_enter(const struct peer *p, const char *id, struct answer *a);
int box_stop_request(const struct peer *p, const char *id, bool force, struct answer *a);
/* At start: the boxes a helper before us left, taken over (adopt.c);
 * returns how many. */
unsigned box_adopt_all(void);
bool box_known(const char *id);
/* Is this host end a live box's? */
bool box_owns_host_end(const char *host_if);
/* Boxes starting or stopping: a helper that stops waits for them; the
 * running ones stay for the next helper. */
unsigned box_busy_count(void);
/* Logins waiting for their user's boxes to finish starting: served when
 * their turn has come, failed when late or (refuse) when the helper stops.
 * box_turns_next_ms(): the next deadline, -1 when none waits. */
void box_take_turns(bool refuse);
int box_turns_next_ms(void);
unsigned box_count(void);
/* The addresses of the live leases, for a new one to avoid (net_lease). */
size_t box_leases(const struct addr **ret);
bool box_owns_mntns(dev_t dev, ino_t ino);
/* The user an id belongs to: the user whose box maps it, or whose range
 * in /etc/subuid holds it (named in *name when no box tells the uid), or
 * the id itself. */
uid_t box_id_owner(uid_t id, char *name, size_t size);
