/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box specification: the policy resolved and expanded for one user.  The
 * module builds it, the wire protocol carries it, the helper builds from it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resources.h"

enum {
        NS_MOUNT = 1u << 0,
        NS_PID = 1u << 1,
        NS_UTS = 1u << 2,
        NS_IPC = 1u << 3,
        NS_USER = 1u << 4,
        NS_NET = 1u << 5,
        NS_ALL = NS_MOUNT | NS_PID | NS_UTS | NS_IPC | NS_USER | NS_NET,
};

enum share { SHARE_SESSION, SHARE_USER };
enum propagation { PROP_SLAVE, PROP_PRIVATE };
enum network { NET_NONE, NET_LOOPBACK, NET_VETH };
/* Which X11 sockets a private /tmp shows: the login's own display's, the
 * host's whole /tmp/.X11-unix, or none. */
enum x11 { X11_DISPLAY, X11_ALL, X11_NONE };

struct spec_path {
        char *path;
        bool optional;          /* written with a leading '-': missing is not an error */
};

struct spec_bind {
        char *src;
        char *dst;
        bool ro;
        bool optional;
};

struct box_spec {
        char *user;
        uid_t uid;
        gid_t gid;
        char *home;
        unsigned namespaces;
        enum share share;
        unsigned linger;
        enum propagation propagation;
        bool private_tmp;
        enum x11 x11;
        int display;            /* the login's X display number (PAM_XDISPLAY), or -1 */
        struct spec_path *tmp_keep;     /* host paths below /tmp, /var/tmp kept in a private one */
        size_t n_tmp_keep;
        bool hide_homes;
        struct spec_path *read_only;
        size_t n_read_only;
        struct spec_path *inaccessible;
        size_t n_inaccessible;
        struct spec_bind *binds;
        size_t n_binds;
        char *hostname;         /* NULL: keep the host's name */
        /* Limits of every tmpfs the box gets for the user to write (/tmp,
         * /var/tmp, /dev/shm), as tmpfs takes them: "size" in bytes with
         * k, m or g, or a share of RAM ("10%"); "nr_inodes" with k, m or g. */
        char *tmpfs_size;
        char *tmpfs_inodes;
        /* What the box shows at /sys/fs/cgroup, read-only: the cgroup v2
         * path of its login's own session scope, set by the helper for a
         * box of one session; NULL: the host's tree. */
        char *cgroup_view;
        /* cgroup v2 limits of the whole box (resources.h). */
        struct box_limits limits;

        /* The box's user namespace (NS_USER): box uid 0 is the user, box
         * uids 1..count come from /etc/subuid; likewise for gids. */
        uint32_t subuid_start, subuid_count;
        uint32_t subgid_start, subgid_count;
        bool user_root;         /* `nsbox root` allowed */

        /* The box's network (NS_NET unless NET_NONE). */
        enum network network;
        bool nat;
        bool isolate;
        char *bridge;           /* NULL: routed through the host end */
        char *gateway4;         /* NULL: the host end */
        char *gateway6;
        char **dns;             /* servers for the box's resolv.conf */
        size_t n_dns;
        char *pool4;            /* CIDR; leases are /30 blocks */
        char *pool6;            /* CIDR or NULL; leases are /126 blocks */
        /* [global] prepared_boxes: how many boxes of this kind the helper
         * keeps made ahead of logins, and prepared_linger: for how many
         * seconds after the last; -1: the default (not sent). */
        int prepared;
        int prepared_linger;

        /* Applied by the module to the login process, inherited by the session. */
        bool no_new_privs;
        bool cap_bounding;      /* limit the bounding set to cap_keep */
        uint64_t cap_keep;

        bool debug;             /* the module's debug argument: time each step */
};

/* prepared_boxes and prepared_linger: the defaults, and at most. */
#define PREPARED_DEFAULT 2
#define PREPARED_MAX 64
#define PREPARED_LINGER_DEFAULT 30
#define PREPARED_LINGER_MAX 3600
static inline unsigned box_spec_prepared(const struct box_spec *s)
{
        return s->prepared < 0 ? PREPARED_DEFAULT : (unsigned)s->prepared;
}
static inline unsigned box_spec_prepared_linger(const struct box_spec *s)
{
        return s->prepared_linger < 0 ? PREPARED_LINGER_DEFAULT : (unsigned)s->prepared_linger;
}

void box_spec_done(struct box_spec *s);
int spec_path_push(struct spec_path **v, size_t *n, const char *path, bool optional);
int spec_bind_push(struct box_spec *s, const char *src, const char *dst, bool ro, bool optional);

/* Names as written in the policy: "mount pid uts ipc". */
unsigned namespace_flag(const char *name);   /* 0 when unknown */
/* CLONE_NEW* flags for the namespaces a session joins (or a box is made with). */
int namespaces_clone_flags(unsigned ns);
int namespaces_format(unsigned ns, char **ret);
/* The namespaces a session may join (all but user), in the order the
 * helper hands their fds to nsbox-user-manager: flag, /proc/PID/ns name,
 * CLONE_NEW* flag.  The mount namespace is always among a box's. */
#define N_SESSION_NS 5
struct ns_file {
        unsigned ns;
        const char *name;
        int clone_flag;
};
extern const struct ns_file session_ns_files[N_SESSION_NS];
/* Each enum's names, in one table apiece: share, propagation, network and
 * x11 are spelled there and nowhere else. */
struct enum_names {
        const char *const *names;
        size_t n;
};
extern const struct enum_names share_names, propagation_names, network_names, x11_names;
const char *enum_to_string(const struct enum_names *e, unsigned v);
/* The value named s, or -EINVAL. */
int enum_from_string(const struct enum_names *e, const char *s);
/* "none, loopback or veth", for a message; the caller frees *ret. */
int enum_choices(const struct enum_names *e, char **ret);
const char *share_to_string(enum share s);
const char *propagation_to_string(enum propagation p);
const char *network_to_string(enum network n);
const char *x11_to_string(enum x11 x);
/* Is this a path a private /tmp may keep: strictly below /tmp or /var/tmp? */
bool tmp_keep_path_valid(const char *path);
bool ifname_valid(const char *s);

/* Checks the helper repeats on what it receives: every path clean and
 * absolute, the hostname well formed. */
int box_spec_validate(const struct box_spec *s, const char **ret_why);
bool hostname_valid(const char *s);
/* A tmpfs limit: a positive number with an optional k, m or g, or (when
 * percent_ok) a share of RAM from 1% to 100%. */
bool tmpfs_limit_valid(const char *s, bool percent_ok);
/* Would a box built from a serve a login whose own policy gives b?  All
 * that the policy decides must be the same; what is the login's own (its
 * X display, the debug argument) may differ. */
bool box_spec_same_policy(const struct box_spec *a, const struct box_spec *b);

/* A subordinate range that must never be mapped: it holds id 0 or the
 * user's own id, or runs past the largest id. */
bool subid_range_bad(uint32_t own, uint32_t start, uint32_t count);
