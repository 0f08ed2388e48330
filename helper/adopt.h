/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boxes that outlive their helper: the state file that points a new helper
 * at each box's init, and the talk in which it takes the box over. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net.h"
#include "proto.h"

/* What a helper keeps of a box beyond its spec, for the next one: held by
 * the box's init (MSG_RECORD), which gives it back as is.  Fields are only
 * ever added at the end; size says how much of it a record has. */
#define BOX_RECORD_VERSION 1
struct box_record {
        uint32_t version;
        uint32_t size;
        uint64_t created;
        struct box_net net;
        char unit[64];                  /* its scope, "" without systemd */
        char unit_claimed[64];          /* the user's unit its limits were set on */
        uint8_t pinned;
        cpu_set_t cpus;
        char cgroup[64];                /* its own cgroup without systemd, "" for none */
        char who_service[64], who_tty[64], who_rhost[256];
        int32_t who_pid;
};
_Static_assert(sizeof(struct box_record) <= NSBOX_RECORD_MAX, "a record fits its attribute");

struct adopt_claim {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct session_entry se;
        int pidfd;
};

/* A box a previous helper left, found alive, checked, and told about. */
struct adoptee {
        char id[NSBOX_ID_LEN + 1];
        uint8_t token[NSBOX_TOKEN_LEN];
        pid_t pid;
        int pidfd;                      /* the init's */
        int link;                       /* the helper's end of its link */
        struct box_record rec;
        struct box_spec spec;
        struct adopt_claim *claims;
        size_t n_claims;
        uint64_t unclaimed_usec;        /* for how long no session has held it */
};

/* At start: the state directory, /run/nsbox/boxes. */
int adopt_open(void);
/* At exit with no box left: the directory goes too. */
void adopt_close(void);
/* A box is running: the file that leads the next helper to it. */
int state_write(const char *id, pid_t pid, const uint8_t token[NSBOX_TOKEN_LEN]);
void state_remove(const char *id);

/* Every box a helper before us left: each one that is what its file says
 * is given to take() -- which owns its fds and spec from then on, and says
 * 0 to keep it --, then told it has a new helper.  The others are refused,
 * each with a log line.  Returns how many were taken. */
unsigned adopt_all(int (*take)(struct adoptee *a));
