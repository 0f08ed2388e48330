/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's control protocol.  One SOCK_SEQPACKET message per request and
 * per reply (transport.h); each message is a netlink-style header followed
 * by attributes, built and validated with libmnl (proto.c).  Every message
 * carries the protocol version, first; the receiver checks every length and
 * type, and that no attribute but a list's comes twice. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "spec.h"
#include "transport.h"

#define NSBOX_RUNDIR "/run/nsbox"
#define NSBOX_SOCKET NSBOX_RUNDIR "/helper.sock"
#define NSBOX_USER_SOCKET NSBOX_RUNDIR "/user.sock"   /* for `nsbox root`, any user */
#define NSBOX_LOCK NSBOX_RUNDIR "/helper.lock"
#define NSBOX_PROTO_VERSION 1
#define NSBOX_COOKIE_LEN 16
#define NSBOX_ID_LEN 8
#define NSBOX_TOKEN_LEN 16
#define NSBOX_RECORD_MAX 4096

enum msg_type {
        MSG_OPEN = 0x10,        /* box_spec + session info -> MSG_BOX with the init's pidfd */
        MSG_CLOSE,              /* cookie -> MSG_OK */
        MSG_LIST,               /* -> MSG_LIST_REPLY */
        MSG_ROOT,               /* on the user socket: -> MSG_USERNS with the box's user namespace */
        MSG_SHOW,               /* A_BOX_ID -> MSG_SHOW_REPLY */
        MSG_ENTER,              /* A_BOX_ID -> MSG_OK with the init's pidfd */
        MSG_STOP,               /* A_BOX_ID, A_FLAGS (F_FORCE) -> MSG_OK */
        MSG_MANAGER,            /* on the user socket, from a user manager's wrapper -> MSG_MANAGER_REPLY */
        MSG_SPEC,               /* helper -> a new box's init: the box_spec, with A_CGROUP_VIEW */
        /* Between the helper and a box's init, which holds what a new helper
         * needs to take the box over (adopt.c): */
        MSG_CLAIM,              /* A_COOKIE, A_SESSION (+ the login's pidfd): a session of the box */
        MSG_RELEASE,            /* A_COOKIE: that session has closed */
        MSG_RECORD,             /* A_BOX_ID, A_TOKEN, A_RECORD: kept by the init, given back as is */
        MSG_ADOPT,              /* -> the record, the spec, each claim, then MSG_ADOPT_END */
        MSG_ADOPTED,            /* (+ the new helper's pidfd): the init's helper from now on */
        MSG_OK = 0x20,
        MSG_ERROR,              /* errno, step, object */
        MSG_BOX,                /* id, cookie, namespaces, share (+ pidfd) */
        MSG_LIST_REPLY,         /* A_BOXINFO... */
        MSG_USERNS,             /* + the user namespace fd */
        MSG_SHOW_REPLY,         /* A_BOXINFO, the spec's attributes, A_SESSION... */
        MSG_MANAGER_REPLY,      /* id, namespaces, flags, cap_keep (+ a namespace fd for each
                                 * of the box's namespaces but user, in order: mnt pid uts ipc net) */
        MSG_ADOPT_END,          /* init -> helper: A_SESSIONS claims sent, A_USEC unclaimed for */
};

enum attr_type {
        A_UNSPEC,
        A_VERSION,              /* u32 */
        A_USER,                 /* strz */
        A_UID,                  /* u32 */
        A_GID,                  /* u32 */
        A_HOME,                 /* strz */
        A_NAMESPACES,           /* u32 */
        A_SHARE,                /* u32 */
        A_LINGER,               /* u32 */
        A_PROPAGATION,          /* u32 */
        A_FLAGS,                /* u32: F_* */
        A_READ_ONLY,            /* strz, repeated; leading '-' = optional */
        A_INACCESSIBLE,         /* strz, repeated; leading '-' = optional */
        A_BIND,                 /* nested: A_BIND_SRC, A_BIND_DST, A_FLAGS */
        A_BIND_SRC,             /* strz */
        A_BIND_DST,             /* strz */
        A_HOSTNAME,             /* strz */
        A_SERVICE,              /* strz */
        A_TTY,                  /* strz */
        A_RHOST,                /* strz */
        A_COOKIE,               /* binary, NSBOX_COOKIE_LEN */
        A_BOX_ID,               /* strz */
        A_ERRNO,                /* u32 */
        A_STEP,                 /* strz */
        A_OBJECT,               /* strz */
        A_PID,                  /* u32 */
        A_SESSIONS,             /* u32 */
        A_CREATED,              /* u64, seconds since the epoch */
        A_BOXINFO,              /* nested: one box of a list */
        A_SUBUID_START,         /* u32 */
        A_SUBUID_COUNT,         /* u32 */
        A_SUBGID_START,         /* u32 */
        A_SUBGID_COUNT,         /* u32 */
        A_CAP_KEEP,             /* u64 */
        A_NETWORK,              /* u32: enum network */
        A_BRIDGE,               /* strz */
        A_GATEWAY4,             /* strz */
        A_GATEWAY6,             /* strz */
        A_DNS,                  /* strz, repeated */
        A_POOL4,                /* strz */
        A_POOL6,                /* strz */
        A_ADDRESS,              /* strz, repeated: a box's addresses in a list */
        A_SESSION,              /* nested: A_SERVICE, A_TTY, A_RHOST, A_PID, A_CREATED */
        A_TIMING,               /* nested: A_STEP, A_OBJECT, A_USEC */
        A_USEC,                 /* u64 */
        A_X11,                  /* u32: enum x11 */
        A_DISPLAY,              /* u32: the login's X display number; absent: none */
        A_TMP_KEEP,             /* strz, repeated; leading '-' = optional */
        A_SESSION_FLAGS,        /* u32: SF_* */
        A_TMPFS_SIZE,           /* strz */
        A_TMPFS_INODES,         /* strz */
        A_STATE,                /* u32: enum box_state, in a box's info */
        A_LIMITS,               /* binary, struct box_limits; absent: no limits */
        A_USAGE,                /* binary, struct box_usage, in a box's info; absent: unknown */
        A_CGROUP_VIEW,          /* strz: the cgroup a box shows at /sys/fs/cgroup */
        A_TOKEN,                /* binary, NSBOX_TOKEN_LEN: a box's secret, shared with its state file */
        A_RECORD,               /* binary, at most NSBOX_RECORD_MAX: the helper's own record of a box */
        A_PREPARED,             /* u32: prepared_boxes; absent: the default */
        A_PREPARED_LINGER,      /* u32: prepared_linger; absent: the default */
        _A_MAX,
};

enum {
        F_PRIVATE_TMP = 1u << 0,
        F_HIDE_HOMES = 1u << 1,
        F_RO = 1u << 2,
        F_OPTIONAL = 1u << 3,
        F_USER_ROOT = 1u << 4,
        F_NO_NEW_PRIVS = 1u << 5,
        F_CAP_BOUNDING = 1u << 6,
        F_NAT = 1u << 7,
        F_ISOLATE = 1u << 8,
        F_DEBUG = 1u << 9,      /* log each setup step's duration */
        F_FORCE = 1u << 10,     /* MSG_STOP: KILL at once */
        F_MORE = 1u << 11,      /* MSG_LIST_REPLY, MSG_SHOW_REPLY: a part; ask again from where it ends */
};

/* Session flags (A_SESSION_FLAGS in MSG_OPEN). */
enum {
        /* The systemd user manager's session (pam_nsbox.so user_manager): the
         * helper then hands the box to its wrapper, nsbox-user-manager. */
        SF_USER_MANAGER = 1u << 0,
};

struct session_info {
        char *service;
        char *tty;
        char *rhost;
        bool user_manager;
};

/* What nsbox-user-manager needs to put the user manager in its box. */
struct manager_reply {
        char id[NSBOX_ID_LEN + 1];
        unsigned namespaces;
        bool no_new_privs;
        bool cap_bounding;
        uint64_t cap_keep;
};

struct box_reply {
        char id[NSBOX_ID_LEN + 1];
        uint8_t cookie[NSBOX_COOKIE_LEN];
        unsigned namespaces;
        enum share share;
};

struct error_reply {
        int error;              /* positive errno */
        char step[64];
        char object[256];
};

struct session_entry {
        char service[64];
        char tty[64];
        char rhost[256];
        uint32_t pid;
        uint64_t created;
        uint32_t flags;         /* SF_*, in a claim */
};

struct step_time {
        char step[64];
        char object[256];
        uint64_t usec;
};

/* Where a box is in its life; every state is listed, shown and stoppable. */
enum box_state { BOX_STARTING, BOX_RUNNING, BOX_STOPPING, _BOX_STATE_MAX };
const char *box_state_to_string(uint32_t state);

/* What a box's cgroups use; USAGE_UNKNOWN where the host cannot tell. */
#define USAGE_UNKNOWN UINT64_MAX
struct box_usage {
        uint64_t tasks;
        uint64_t memory;        /* bytes */
        uint64_t cpu_usec;      /* CPU time used, all CPUs together */
        uint64_t oom_kills;     /* processes the OOM killer ended */
};
void usage_init(struct box_usage *u);
bool usage_known(const struct box_usage *u);

struct box_info {
        char id[NSBOX_ID_LEN + 1];
        char user[64 + 1];
        uint32_t uid;
        uint32_t pid;
        uint32_t sessions;
        uint32_t namespaces;
        uint32_t share;
        uint64_t created;
        uint32_t state;         /* enum box_state */
        char addresses[2][64];  /* the box's own addresses, IPv4 then IPv6 */
        struct box_usage usage;
        struct box_limits limits;       /* as the box's spec has them */
};

void msg_init(struct msg *m, enum msg_type type);
int msg_type(const struct msg *m);

int proto_put_open(struct msg *m, const struct box_spec *s, const struct session_info *si);
int proto_put_box(struct msg *m, const struct box_reply *b);
int proto_put_error(struct msg *m, const struct error_reply *e);
int proto_put_cookie(struct msg *m, const uint8_t cookie[NSBOX_COOKIE_LEN]);
int proto_put_boxinfo(struct msg *m, const struct box_info *bi);
int proto_put_box_id(struct msg *m, const char *id);
int proto_put_flags(struct msg *m, uint32_t flags);
int proto_put_session(struct msg *m, const struct session_entry *se);
int proto_put_timing(struct msg *m, const struct step_time *st);
int proto_put_manager(struct msg *m, const struct manager_reply *r);
int proto_put_claim(struct msg *m, const uint8_t cookie[NSBOX_COOKIE_LEN], const struct session_entry *se);
int proto_put_record(struct msg *m, const char *id, const uint8_t token[NSBOX_TOKEN_LEN], const void *record,
                     size_t size);
int proto_put_adopt_end(struct msg *m, uint32_t claims, uint64_t unclaimed_usec);
/* The spec's attributes, as in MSG_OPEN, without session information:
 * MSG_SPEC, and a part of MSG_SHOW_REPLY. */
int proto_put_spec(struct msg *m, const struct box_spec *s);

/* Each parser validates the whole message: version, every attribute's type
 * and length, required attributes present.  -EBADMSG on any violation. */
int proto_parse_open(const struct msg *m, struct box_spec *ret_spec, struct session_info *ret_si);
int proto_parse_spec(const struct msg *m, struct box_spec *ret);
int proto_parse_box(const struct msg *m, struct box_reply *ret);
int proto_parse_error(const struct msg *m, struct error_reply *ret);
int proto_parse_cookie(const struct msg *m, uint8_t ret[NSBOX_COOKIE_LEN]);
/* MSG_RELEASE */
int proto_parse_release(const struct msg *m, uint8_t ret[NSBOX_COOKIE_LEN]);
int proto_parse_claim(const struct msg *m, uint8_t ret_cookie[NSBOX_COOKIE_LEN], struct session_entry *ret);
/* The record's bytes go to buf (size bytes at most), their number to *ret_size. */
int proto_parse_record(const struct msg *m, char ret_id[NSBOX_ID_LEN + 1], uint8_t ret_token[NSBOX_TOKEN_LEN],
                       void *buf, size_t size, size_t *ret_size);
int proto_parse_adopt_end(const struct msg *m, uint32_t *ret_claims, uint64_t *ret_unclaimed_usec);
/* MSG_LIST: the id after which to go on, "" from the start. */
int proto_parse_list_request(const struct msg *m, char ret_after[NSBOX_ID_LEN + 1]);
/* Calls cb for every box of a list reply; *ret_more is set when the reply
 * is one part, and the next starts after its last box. */
int proto_parse_list(const struct msg *m, int (*cb)(const struct box_info *bi, void *userdata), void *userdata,
                     bool *ret_more);
int proto_parse_empty(const struct msg *m);
/* MSG_SHOW, MSG_ENTER, MSG_STOP: a box id and optional flags. */
int proto_parse_box_request(const struct msg *m, int type, char ret_id[NSBOX_ID_LEN + 1], uint32_t *ret_flags);
/* MSG_SHOW_REPLY */
struct show_reply {
        struct box_info info;
        struct box_spec spec;
        struct session_entry *sessions;
        size_t n_sessions;
        uint32_t next;          /* a part: ask again with this, 0 when it is the last */
};
/* MSG_SHOW: the box, and where its sessions go on (A_SESSIONS, what the
 * part before said; UINT32_MAX from the start). */
int proto_parse_show_request(const struct msg *m, char ret_id[NSBOX_ID_LEN + 1], uint32_t *ret_before);
int proto_put_show_cursor(struct msg *m, uint32_t next);
int proto_parse_show(const struct msg *m, struct show_reply *ret);
void show_reply_done(struct show_reply *r);
int proto_parse_manager(const struct msg *m, struct manager_reply *ret);
/* MSG_OK from a box's init: how long each setup step took. */
int proto_parse_timings(const struct msg *m, int (*cb)(const struct step_time *st, void *userdata), void *userdata);

void session_info_done(struct session_info *si);

/* Fill *e: a positive errno (EIO when error is none), the step ("setup"
 * when none), the object; returns -e->error. */
int error_reply_set(struct error_reply *e, int error, const char *step, const char *object);
/* Build and send one MSG_ERROR (error is a positive errno). */
int proto_send_error(int sock, int error, const char *step, const char *object);

_Static_assert(_A_MAX <= 64, "attribute bitmasks are 64 bits wide");
