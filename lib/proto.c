/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The messages' attributes, built and read with libmnl.  A box's spec has
 * one table (spec_fields) that both directions follow; every decoder goes
 * through decode(), which checks each attribute's type and length, refuses
 * one that comes twice unless it is a list, and wants the required ones. */
#include "proto.h"

#include <libmnl/libmnl.h>
#include <stddef.h>

#include "util.h"

static struct nlmsghdr *hdr(struct msg *m)
{
        return (struct nlmsghdr *)m->buf;
}

static const struct nlmsghdr *chdr(const struct msg *m)
{
        return (const struct nlmsghdr *)m->buf;
}

void msg_init(struct msg *m, enum msg_type type)
{
        struct nlmsghdr *h;

        /* Not the whole buffer: what a message holds is written as it is
         * built, the header here (zeroed first) and each attribute with its
         * padding (pad_tail) -- a buffer is 64 KiB, a message mostly less
         * than one. */
        h = mnl_nlmsg_put_header(m->buf);
        h->nlmsg_type = (uint16_t)type;
        mnl_attr_put_u32(h, A_VERSION, NSBOX_PROTO_VERSION);
}

int msg_type(const struct msg *m)
{
        return chdr(m)->nlmsg_type;
}

const char *box_state_to_string(uint32_t state)
{
        static const char *const names[_BOX_STATE_MAX] = {
                [BOX_STARTING] = "starting", [BOX_RUNNING] = "running", [BOX_STOPPING] = "stopping"
        };

        return state < _BOX_STATE_MAX ? names[state] : "?";
}

void usage_init(struct box_usage *u)
{
        *u = (struct box_usage){ USAGE_UNKNOWN, USAGE_UNKNOWN, USAGE_UNKNOWN, USAGE_UNKNOWN };
}

bool usage_known(const struct box_usage *u)
{
        return u->tasks != USAGE_UNKNOWN || u->memory != USAGE_UNKNOWN || u->cpu_usec != USAGE_UNKNOWN ||
               u->oom_kills != USAGE_UNKNOWN;
}

void session_info_done(struct session_info *si)
{
        free(si->service);
        free(si->tty);
        free(si->rhost);
        *si = (struct session_info){};
}

/* ---- building ----------------------------------------------------------- */

/* The attribute just put at a, its padding zeroed: libmnl (1.0.4) leaves
 * it as the buffer had it, and stale memory must not go over the socket.
 * Lengths that are multiples of 4 (numbers, nests) have none. */
static int pad_tail(struct nlattr *a, bool put)
{
        if (!put)
                return -E2BIG;
        memset((char *)a + a->nla_len, 0, MNL_ALIGN(a->nla_len) - a->nla_len);
        return 0;
}

static int put_str(struct msg *m, uint16_t type, const char *s)
{
        struct nlattr *a = mnl_nlmsg_get_payload_tail(hdr(m));

        return s ? pad_tail(a, mnl_attr_put_strz_check(hdr(m), sizeof(m->buf), type, s)) : -E2BIG;
}

static int put_u32(struct msg *m, uint16_t type, uint32_t v)
{
        return mnl_attr_put_u32_check(hdr(m), sizeof(m->buf), type, v) ? 0 : -E2BIG;
}

static int put_u64(struct msg *m, uint16_t type, uint64_t v)
{
        return mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), type, v) ? 0 : -E2BIG;
}

static int put_blob(struct msg *m, uint16_t type, const void *p, size_t size)
{
        struct nlattr *a = mnl_nlmsg_get_payload_tail(hdr(m));

        return pad_tail(a, mnl_attr_put_check(hdr(m), sizeof(m->buf), type, size, p));
}

static int put_opt_path(struct msg *m, uint16_t type, const struct spec_path *p)
{
        char buf[4096];

        if ((size_t)snprintf(buf, sizeof(buf), "%s%s", p->optional ? "-" : "", p->path) >= sizeof(buf))
                return -ENAMETOOLONG;
        return put_str(m, type, buf);
}

/* A nested attribute is kept whole, or dropped whole on error. */
static struct nlattr *nest_open(struct msg *m, uint16_t type)
{
        return mnl_attr_nest_start_check(hdr(m), sizeof(m->buf), type);
}

static int nest_close(struct msg *m, struct nlattr *nest, int r)
{
        if (r)
                mnl_attr_nest_cancel(hdr(m), nest);
        else
                mnl_attr_nest_end(hdr(m), nest);
        return r;
}

/* ---- the spec's table ----------------------------------------------------- */

enum kind {
        K_STR,          /* char *, absent when NULL */
        K_U32,          /* a 32-bit field: an id, a count, an enum */
        K_U64,
        K_PATHS,        /* struct spec_path[], each with '-' when optional */
        K_STRV,         /* char *[] */
        K_BINDS,        /* struct spec_bind[], each a nest */
        K_FLAGS,        /* the bools of spec_flags */
        K_OPT_INT,      /* int up to 65535, absent when -1 */
        K_LIMITS,       /* struct box_limits, absent when none is set */
};

struct field {
        uint16_t attr;
        uint8_t kind;
        bool required;
        size_t off, n_off;      /* the member, and for a list its count */
};

#define SPEC(a, k, req, member) { a, k, req, offsetof(struct box_spec, member), 0 }
#define SPEC_LIST(a, k, member, n) { a, k, false, offsetof(struct box_spec, member), offsetof(struct box_spec, n) }

/* In the order they are sent. */
static const struct field spec_fields[] = {
        SPEC(A_USER, K_STR, true, user),
        SPEC(A_UID, K_U32, true, uid),
        SPEC(A_GID, K_U32, true, gid),
        SPEC(A_HOME, K_STR, true, home),
        SPEC(A_NAMESPACES, K_U32, true, namespaces),
        SPEC(A_SHARE, K_U32, true, share),
        SPEC(A_LINGER, K_U32, true, linger),
        SPEC(A_PROPAGATION, K_U32, true, propagation),
        { A_FLAGS, K_FLAGS, true, 0, 0 },
        SPEC(A_NETWORK, K_U32, true, network),
        SPEC(A_X11, K_U32, true, x11),
        SPEC(A_DISPLAY, K_OPT_INT, false, display),
        SPEC_LIST(A_TMP_KEEP, K_PATHS, tmp_keep, n_tmp_keep),
        SPEC(A_BRIDGE, K_STR, false, bridge),
        SPEC(A_GATEWAY4, K_STR, false, gateway4),
        SPEC(A_GATEWAY6, K_STR, false, gateway6),
        SPEC(A_POOL4, K_STR, false, pool4),
        SPEC(A_POOL6, K_STR, false, pool6),
        SPEC(A_PREPARED, K_OPT_INT, false, prepared),
        SPEC(A_PREPARED_LINGER, K_OPT_INT, false, prepared_linger),
        SPEC_LIST(A_DNS, K_STRV, dns, n_dns),
        SPEC(A_SUBUID_START, K_U32, true, subuid_start),
        SPEC(A_SUBUID_COUNT, K_U32, true, subuid_count),
        SPEC(A_SUBGID_START, K_U32, true, subgid_start),
        SPEC(A_SUBGID_COUNT, K_U32, true, subgid_count),
        SPEC(A_CAP_KEEP, K_U64, true, cap_keep),
        SPEC_LIST(A_READ_ONLY, K_PATHS, read_only, n_read_only),
        SPEC_LIST(A_INACCESSIBLE, K_PATHS, inaccessible, n_inaccessible),
        SPEC_LIST(A_BIND, K_BINDS, binds, n_binds),
        SPEC(A_HOSTNAME, K_STR, false, hostname),
        SPEC(A_TMPFS_SIZE, K_STR, false, tmpfs_size),
        SPEC(A_TMPFS_INODES, K_STR, false, tmpfs_inodes),
        SPEC(A_CGROUP_VIEW, K_STR, false, cgroup_view),
        SPEC(A_LIMITS, K_LIMITS, false, limits),
};

/* The spec's bools that A_FLAGS carries. */
static const struct {
        uint32_t flag;
        size_t off;
} spec_flags[] = {
        { F_PRIVATE_TMP, offsetof(struct box_spec, private_tmp) },
        { F_HIDE_HOMES, offsetof(struct box_spec, hide_homes) },
        { F_USER_ROOT, offsetof(struct box_spec, user_root) },
        { F_NO_NEW_PRIVS, offsetof(struct box_spec, no_new_privs) },
        { F_CAP_BOUNDING, offsetof(struct box_spec, cap_bounding) },
        { F_NAT, offsetof(struct box_spec, nat) },
        { F_ISOLATE, offsetof(struct box_spec, isolate) },
        { F_DEBUG, offsetof(struct box_spec, debug) },
};

_Static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4 && sizeof(unsigned) == 4 && sizeof(enum share) == 4 &&
                       sizeof(enum propagation) == 4 && sizeof(enum network) == 4 && sizeof(enum x11) == 4,
               "K_U32 fields are 32 bits wide");

#define BIT(a) (1ULL << (a))

static uint64_t spec_mask(bool required_only)
{
        uint64_t mask = 0;

        for (size_t i = 0; i < ARRAY_SIZE(spec_fields); i++)
                if (!required_only || spec_fields[i].required)
                        mask |= BIT(spec_fields[i].attr);
        return mask;
}

#define SPEC_LISTS (BIT(A_TMP_KEEP) | BIT(A_DNS) | BIT(A_READ_ONLY) | BIT(A_INACCESSIBLE) | BIT(A_BIND))

static int put_binds(struct msg *m, const struct spec_bind *b, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct nlattr *nest = nest_open(m, A_BIND);
                int r;

                if (!nest)
                        return -E2BIG;
                r = put_str(m, A_BIND_SRC, b[i].src);
                r = r ?: put_str(m, A_BIND_DST, b[i].dst);
                r = r ?: put_u32(m, A_FLAGS, (b[i].ro ? F_RO : 0) | (b[i].optional ? F_OPTIONAL : 0));
                r = nest_close(m, nest, r);
                if (r)
                        return r;
        }
        return 0;
}

static int put_field(struct msg *m, const struct box_spec *s, const struct field *f)
{
        const char *p = (const char *)s + f->off;
        size_t n = f->n_off ? *(const size_t *)((const char *)s + f->n_off) : 0;
        uint32_t flags = 0;
        int r = 0;

        switch (f->kind) {
        case K_STR:
                if (!*(char *const *)p)
                        return f->required ? -EINVAL : 0;
                return put_str(m, f->attr, *(char *const *)p);
        case K_U32:
                return put_u32(m, f->attr, *(const uint32_t *)p);
        case K_U64:
                return put_u64(m, f->attr, *(const uint64_t *)p);
        case K_PATHS:
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = put_opt_path(m, f->attr, &(*(struct spec_path *const *)p)[i]);
                return r;
        case K_STRV:
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = put_str(m, f->attr, (*(char **const *)p)[i]);
                return r;
        case K_BINDS:
                return put_binds(m, *(struct spec_bind *const *)p, n);
        case K_FLAGS:
                for (size_t i = 0; i < ARRAY_SIZE(spec_flags); i++)
                        if (*(const bool *)((const char *)s + spec_flags[i].off))
                                flags |= spec_flags[i].flag;
                return put_u32(m, f->attr, flags);
        case K_OPT_INT:
                return *(const int *)p >= 0 ? put_u32(m, f->attr, (uint32_t) * (const int *)p) : 0;
        case K_LIMITS:
                return limits_any((const struct box_limits *)p) ? put_blob(m, f->attr, p, sizeof(struct box_limits))
                                                                : 0;
        }
        return -EINVAL;
}

int proto_put_spec(struct msg *m, const struct box_spec *s)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(spec_fields); i++)
                r = put_field(m, s, &spec_fields[i]);
        return r;
}

int proto_put_open(struct msg *m, const struct box_spec *s, const struct session_info *si)
{
        int r = proto_put_spec(m, s);

        if (!r && si && si->service)
                r = put_str(m, A_SERVICE, si->service);
        if (!r && si && si->tty)
                r = put_str(m, A_TTY, si->tty);
        if (!r && si && si->rhost)
                r = put_str(m, A_RHOST, si->rhost);
        if (!r && si && si->user_manager)
                r = put_u32(m, A_SESSION_FLAGS, SF_USER_MANAGER);
        return r;
}

/* ---- building the other messages ----------------------------------------- */

int proto_put_manager(struct msg *m, const struct manager_reply *mr)
{
        int r = put_str(m, A_BOX_ID, mr->id);

        r = r ?: put_u32(m, A_NAMESPACES, mr->namespaces);
        r = r ?: put_u32(m, A_FLAGS, (mr->no_new_privs ? F_NO_NEW_PRIVS : 0) | (mr->cap_bounding ? F_CAP_BOUNDING : 0));
        return r ?: put_u64(m, A_CAP_KEEP, mr->cap_keep);
}

int proto_put_box(struct msg *m, const struct box_reply *b)
{
        int r = put_str(m, A_BOX_ID, b->id);

        r = r ?: proto_put_cookie(m, b->cookie);
        r = r ?: put_u32(m, A_NAMESPACES, b->namespaces);
        return r ?: put_u32(m, A_SHARE, b->share);
}

int proto_put_error(struct msg *m, const struct error_reply *e)
{
        int r = put_u32(m, A_ERRNO, (uint32_t)e->error);

        r = r ?: put_str(m, A_STEP, e->step);
        return r ?: put_str(m, A_OBJECT, e->object);
}

int proto_put_cookie(struct msg *m, const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        return put_blob(m, A_COOKIE, cookie, NSBOX_COOKIE_LEN);
}

int proto_put_boxinfo(struct msg *m, const struct box_info *bi)
{
        struct nlattr *nest = nest_open(m, A_BOXINFO);
        int r;

        if (!nest)
                return -E2BIG;
        r = put_str(m, A_BOX_ID, bi->id);
        r = r ?: put_str(m, A_USER, bi->user);
        r = r ?: put_u32(m, A_UID, bi->uid);
        r = r ?: put_u32(m, A_PID, bi->pid);
        r = r ?: put_u32(m, A_SESSIONS, bi->sessions);
        r = r ?: put_u32(m, A_NAMESPACES, bi->namespaces);
        r = r ?: put_u32(m, A_SHARE, bi->share);
        r = r ?: put_u32(m, A_STATE, bi->state);
        r = r ?: put_u64(m, A_CREATED, bi->created);
        for (size_t i = 0; !r && i < 2; i++)
                if (bi->addresses[i][0])
                        r = put_str(m, A_ADDRESS, bi->addresses[i]);
        if (!r && usage_known(&bi->usage))
                r = put_blob(m, A_USAGE, &bi->usage, sizeof(bi->usage));
        if (!r && limits_any(&bi->limits))
                r = put_blob(m, A_LIMITS, &bi->limits, sizeof(bi->limits));
        return nest_close(m, nest, r);
}

int proto_put_box_id(struct msg *m, const char *id)
{
        return put_str(m, A_BOX_ID, id);
}

int proto_put_flags(struct msg *m, uint32_t flags)
{
        return put_u32(m, A_FLAGS, flags);
}

int proto_put_session(struct msg *m, const struct session_entry *se)
{
        struct nlattr *nest = nest_open(m, A_SESSION);
        int r;

        if (!nest)
                return -E2BIG;
        r = put_str(m, A_SERVICE, se->service);
        r = r ?: put_str(m, A_TTY, se->tty);
        r = r ?: put_str(m, A_RHOST, se->rhost);
        r = r ?: put_u32(m, A_PID, se->pid);
        r = r ?: put_u64(m, A_CREATED, se->created);
        if (se->flags)
                r = r ?: put_u32(m, A_SESSION_FLAGS, se->flags);
        return nest_close(m, nest, r);
}

int proto_put_claim(struct msg *m, const uint8_t cookie[NSBOX_COOKIE_LEN], const struct session_entry *se)
{
        int r = proto_put_cookie(m, cookie);

        return r ?: proto_put_session(m, se);
}

int proto_put_record(struct msg *m, const char *id, const uint8_t token[NSBOX_TOKEN_LEN], const void *record,
                     size_t size)
{
        int r = put_str(m, A_BOX_ID, id);

        r = r ?: put_blob(m, A_TOKEN, token, NSBOX_TOKEN_LEN);
        return r ?: put_blob(m, A_RECORD, record, size);
}

int proto_put_adopt_end(struct msg *m, uint32_t claims, uint64_t unclaimed_usec)
{
        int r = put_u32(m, A_SESSIONS, claims);

        return r ?: put_u64(m, A_USEC, unclaimed_usec);
}

int proto_put_timing(struct msg *m, const struct step_time *st)
{
        struct nlattr *nest = nest_open(m, A_TIMING);
        int r;

        if (!nest)
                return -E2BIG;
        r = put_str(m, A_STEP, st->step);
        r = r ?: put_str(m, A_OBJECT, st->object);
        r = r ?: put_u64(m, A_USEC, st->usec);
        return nest_close(m, nest, r);
}

int error_reply_set(struct error_reply *e, int error, const char *step, const char *object)
{
        e->error = error > 0 ? error : EIO;
        snprintf(e->step, sizeof(e->step), "%s", step && *step ? step : "setup");
        snprintf(e->object, sizeof(e->object), "%s", object ?: "");
        return -e->error;
}

int proto_send_error(int sock, int error, const char *step, const char *object)
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        struct error_reply er;
        int r;

        if (!m)
                return -ENOMEM;
        error_reply_set(&er, error, step, object);
        msg_init(m, MSG_ERROR);
        r = proto_put_error(m, &er);
        return r < 0 ? r : msg_send(sock, m, -1);
}

/* ---- reading --------------------------------------------------------------- */

static const enum mnl_attr_data_type attr_kind[_A_MAX] = {
        [A_VERSION] = MNL_TYPE_U32,     [A_USER] = MNL_TYPE_NUL_STRING,   [A_UID] = MNL_TYPE_U32,
        [A_GID] = MNL_TYPE_U32,         [A_HOME] = MNL_TYPE_NUL_STRING,   [A_NAMESPACES] = MNL_TYPE_U32,
        [A_SHARE] = MNL_TYPE_U32,       [A_LINGER] = MNL_TYPE_U32,        [A_PROPAGATION] = MNL_TYPE_U32,
        [A_FLAGS] = MNL_TYPE_U32,       [A_READ_ONLY] = MNL_TYPE_NUL_STRING,
        [A_INACCESSIBLE] = MNL_TYPE_NUL_STRING,                           [A_BIND] = MNL_TYPE_NESTED,
        [A_BIND_SRC] = MNL_TYPE_NUL_STRING,                               [A_BIND_DST] = MNL_TYPE_NUL_STRING,
        [A_HOSTNAME] = MNL_TYPE_NUL_STRING,                               [A_SERVICE] = MNL_TYPE_NUL_STRING,
        [A_TTY] = MNL_TYPE_NUL_STRING,  [A_RHOST] = MNL_TYPE_NUL_STRING,  [A_COOKIE] = MNL_TYPE_BINARY,
        [A_BOX_ID] = MNL_TYPE_NUL_STRING,                                 [A_ERRNO] = MNL_TYPE_U32,
        [A_STEP] = MNL_TYPE_NUL_STRING, [A_OBJECT] = MNL_TYPE_NUL_STRING, [A_PID] = MNL_TYPE_U32,
        [A_SESSIONS] = MNL_TYPE_U32,    [A_CREATED] = MNL_TYPE_U64,       [A_BOXINFO] = MNL_TYPE_NESTED,
        [A_SUBUID_START] = MNL_TYPE_U32,                                  [A_SUBUID_COUNT] = MNL_TYPE_U32,
        [A_SUBGID_START] = MNL_TYPE_U32,                                  [A_SUBGID_COUNT] = MNL_TYPE_U32,
        [A_CAP_KEEP] = MNL_TYPE_U64,    [A_NETWORK] = MNL_TYPE_U32,       [A_BRIDGE] = MNL_TYPE_NUL_STRING,
        [A_GATEWAY4] = MNL_TYPE_NUL_STRING,                               [A_GATEWAY6] = MNL_TYPE_NUL_STRING,
        [A_DNS] = MNL_TYPE_NUL_STRING,  [A_POOL4] = MNL_TYPE_NUL_STRING,  [A_POOL6] = MNL_TYPE_NUL_STRING,
        [A_ADDRESS] = MNL_TYPE_NUL_STRING,                                [A_SESSION] = MNL_TYPE_NESTED,
        [A_X11] = MNL_TYPE_U32,         [A_DISPLAY] = MNL_TYPE_U32,       [A_TMP_KEEP] = MNL_TYPE_NUL_STRING,
        [A_TIMING] = MNL_TYPE_NESTED,   [A_USEC] = MNL_TYPE_U64,          [A_SESSION_FLAGS] = MNL_TYPE_U32,
        [A_TMPFS_SIZE] = MNL_TYPE_NUL_STRING,                             [A_TMPFS_INODES] = MNL_TYPE_NUL_STRING,
        [A_STATE] = MNL_TYPE_U32,       [A_LIMITS] = MNL_TYPE_BINARY,     [A_USAGE] = MNL_TYPE_BINARY,
        [A_CGROUP_VIEW] = MNL_TYPE_NUL_STRING,                            [A_TOKEN] = MNL_TYPE_BINARY,
        [A_RECORD] = MNL_TYPE_BINARY,   [A_PREPARED] = MNL_TYPE_U32,      [A_PREPARED_LINGER] = MNL_TYPE_U32,
};

static int validate_attr(const struct nlattr *a)
{
        uint16_t t = mnl_attr_get_type(a);

        if (t == A_UNSPEC || t >= _A_MAX)
                return -EBADMSG;
        if (t == A_COOKIE)
                return mnl_attr_validate2(a, MNL_TYPE_BINARY, NSBOX_COOKIE_LEN) < 0 ? -EBADMSG : 0;
        if (t == A_LIMITS)
                return mnl_attr_validate2(a, MNL_TYPE_BINARY, sizeof(struct box_limits)) < 0 ? -EBADMSG : 0;
        if (t == A_USAGE)
                return mnl_attr_validate2(a, MNL_TYPE_BINARY, sizeof(struct box_usage)) < 0 ? -EBADMSG : 0;
        if (t == A_TOKEN)
                return mnl_attr_validate2(a, MNL_TYPE_BINARY, NSBOX_TOKEN_LEN) < 0 ? -EBADMSG : 0;
        if (t == A_RECORD)
                return mnl_attr_get_payload_len(a) == 0 || mnl_attr_get_payload_len(a) > NSBOX_RECORD_MAX ? -EBADMSG
                                                                                                          : 0;
        if (mnl_attr_validate(a, attr_kind[t]) < 0)
                return -EBADMSG;
        if (attr_kind[t] == MNL_TYPE_NUL_STRING) {
                /* The NUL must be the last byte: no hidden tail after it. */
                const char *s = mnl_attr_get_str(a);
                if (strlen(s) + 1 != mnl_attr_get_payload_len(a) || strlen(s) >= 4096)
                        return -EBADMSG;
        }
        return 0;
}

/* What a decoder reads from one message or nest: each attribute goes to
 * attr() (0, or -errno); those in repeatable may come more than once, the
 * others once; those in required must come. */
struct decoder {
        uint64_t repeatable, required, seen;
        int (*attr)(struct decoder *d, const struct nlattr *a);
        void *out;
        int error;
};

static int decode_one(struct decoder *d, const struct nlattr *a)
{
        uint16_t t = mnl_attr_get_type(a);
        int r = validate_attr(a);

        if (r < 0)
                return r;
        if ((d->seen & BIT(t)) && !(d->repeatable & BIT(t)))
                return -EBADMSG;
        d->seen |= BIT(t);
        return d->attr(d, a);
}

static int decode_end(struct decoder *d, const void *at, const void *end)
{
        /* mnl_attr_for_each stops at the first malformed attribute: it must
         * have consumed the whole payload. */
        if (at != end)
                return -EBADMSG;
        return (d->seen & d->required) == d->required ? 0 : -EBADMSG;
}

/* A whole message of type: its framing and version, then every attribute. */
static int decode(const struct msg *m, int type, struct decoder *d)
{
        const struct nlmsghdr *h = chdr(m);
        const struct nlattr *a;
        size_t off;
        int r;

        if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > sizeof(m->buf) || !mnl_nlmsg_ok(h, (int)h->nlmsg_len))
                return -EBADMSG;
        if (h->nlmsg_type != type)
                return -EBADMSG;
        a = mnl_nlmsg_get_payload(h);
        if (!mnl_attr_ok(a, (int)(h->nlmsg_len - NLMSG_HDRLEN)) || mnl_attr_get_type(a) != A_VERSION ||
            validate_attr(a) < 0)
                return -EBADMSG;
        if (mnl_attr_get_u32(a) != NSBOX_PROTO_VERSION)
                return -EPROTONOSUPPORT;
        d->seen = BIT(A_VERSION);
        off = MNL_ALIGN(a->nla_len);
        mnl_attr_for_each(a, h, off) {
                r = decode_one(d, a);
                if (r < 0)
                        return r;
        }
        return decode_end(d, a, (const char *)h + h->nlmsg_len);
}

static int decode_nested(const struct nlattr *nest, struct decoder *d)
{
        const struct nlattr *a;
        int r;

        d->seen = 0;
        mnl_attr_for_each_nested(a, nest) {
                r = decode_one(d, a);
                if (r < 0)
                        return r;
        }
        return decode_end(d, a, (const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest));
}

static int copy_str(char *dst, size_t size, const struct nlattr *a)
{
        if (strlen(mnl_attr_get_str(a)) >= size)
                return -EBADMSG;
        strcpy(dst, mnl_attr_get_str(a));
        return 0;
}

/* ---- reading a spec ---------------------------------------------------------- */

static int bind_attr(struct decoder *d, const struct nlattr *a)
{
        struct spec_bind *b = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BIND_SRC:
                b->src = (char *)mnl_attr_get_str(a);
                return 0;
        case A_BIND_DST:
                b->dst = (char *)mnl_attr_get_str(a);
                return 0;
        case A_FLAGS:
                b->ro = mnl_attr_get_u32(a) & F_RO;
                b->optional = mnl_attr_get_u32(a) & F_OPTIONAL;
                return 0;
        default:
                return -EBADMSG;
        }
}

static int get_bind(struct box_spec *s, const struct nlattr *a)
{
        struct spec_bind b = {};
        struct decoder d = { .required = BIT(A_BIND_SRC) | BIT(A_BIND_DST) | BIT(A_FLAGS), .attr = bind_attr, .out = &b };
        int r = decode_nested(a, &d);

        return r < 0 ? r : spec_bind_push(s, b.src, b.dst, b.ro, b.optional);
}

static int get_field(struct box_spec *s, const struct field *f, const struct nlattr *a)
{
        char *p = (char *)s + f->off;
        size_t *n = f->n_off ? (size_t *)((char *)s + f->n_off) : NULL;
        const char *str = mnl_attr_get_str(a);

        switch (f->kind) {
        case K_STR:
                return xstrdup((char **)p, str);
        case K_U32:
                *(uint32_t *)p = mnl_attr_get_u32(a);
                return 0;
        case K_U64:
                *(uint64_t *)p = mnl_attr_get_u64(a);
                return 0;
        case K_PATHS:
                return spec_path_push((struct spec_path **)p, n, str + (str[0] == '-'), str[0] == '-');
        case K_STRV:
                return strv_push((char ***)p, n, str);
        case K_BINDS:
                return get_bind(s, a);
        case K_FLAGS:
                for (size_t i = 0; i < ARRAY_SIZE(spec_flags); i++)
                        *(bool *)((char *)s + spec_flags[i].off) = mnl_attr_get_u32(a) & spec_flags[i].flag;
                return 0;
        case K_OPT_INT:
                if (mnl_attr_get_u32(a) > 65535)
                        return -EBADMSG;
                *(int *)p = (int)mnl_attr_get_u32(a);
                return 0;
        case K_LIMITS:
                memcpy(p, mnl_attr_get_payload(a), sizeof(struct box_limits));
                return 0;
        }
        return -EBADMSG;
}

/* One attribute of a box spec: 0, 1 when it is none of the spec's, or
 * -errno. */
static int spec_attr(struct box_spec *s, const struct nlattr *a)
{
        for (size_t i = 0; i < ARRAY_SIZE(spec_fields); i++)
                if (spec_fields[i].attr == mnl_attr_get_type(a))
                        return get_field(s, &spec_fields[i], a);
        return 1;
}

static void spec_init(struct box_spec *s)
{
        *s = (struct box_spec){ .display = -1, .prepared = -1, .prepared_linger = -1 };
        limits_init(&s->limits);
}

struct open_out {
        struct box_spec *s;
        struct session_info *si;
};

static int session_attr(struct session_info *si, const struct nlattr *a)
{
        switch (mnl_attr_get_type(a)) {
        case A_SERVICE:
                return xstrdup(&si->service, mnl_attr_get_str(a));
        case A_TTY:
                return xstrdup(&si->tty, mnl_attr_get_str(a));
        case A_RHOST:
                return xstrdup(&si->rhost, mnl_attr_get_str(a));
        case A_SESSION_FLAGS:
                if (mnl_attr_get_u32(a) & ~(uint32_t)SF_USER_MANAGER)
                        return -EBADMSG;
                si->user_manager = mnl_attr_get_u32(a) & SF_USER_MANAGER;
                return 0;
        default:
                return -EBADMSG;
        }
}

static int open_attr(struct decoder *d, const struct nlattr *a)
{
        struct open_out *o = d->out;
        int r;

        /* What a box shows of the cgroups is the helper's to say. */
        if (mnl_attr_get_type(a) == A_CGROUP_VIEW)
                return -EBADMSG;
        r = spec_attr(o->s, a);
        return r == 1 ? session_attr(o->si, a) : r;
}

static int spec_only_attr(struct decoder *d, const struct nlattr *a)
{
        int r = spec_attr(d->out, a);

        return r == 1 ? -EBADMSG : r;
}

int proto_parse_open(const struct msg *m, struct box_spec *ret_spec, struct session_info *ret_si)
{
        struct box_spec s;
        struct session_info si = {};
        struct open_out o = { .s = &s, .si = &si };
        struct decoder d = { .repeatable = SPEC_LISTS, .required = spec_mask(true), .attr = open_attr, .out = &o };
        int r;

        spec_init(&s);
        r = decode(m, MSG_OPEN, &d);
        if (r < 0) {
                box_spec_done(&s);
                session_info_done(&si);
                return r;
        }
        *ret_spec = s;
        *ret_si = si;
        return 0;
}

int proto_parse_spec(const struct msg *m, struct box_spec *ret)
{
        struct box_spec s;
        struct decoder d = { .repeatable = SPEC_LISTS, .required = spec_mask(true), .attr = spec_only_attr, .out = &s };
        int r;

        spec_init(&s);
        r = decode(m, MSG_SPEC, &d);
        if (r < 0) {
                box_spec_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* ---- reading the other messages ----------------------------------------------- */

static int box_attr(struct decoder *d, const struct nlattr *a)
{
        struct box_reply *b = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                return copy_str(b->id, sizeof(b->id), a);
        case A_COOKIE:
                memcpy(b->cookie, mnl_attr_get_payload(a), NSBOX_COOKIE_LEN);
                return 0;
        case A_NAMESPACES:
                b->namespaces = mnl_attr_get_u32(a);
                return 0;
        case A_SHARE:
                b->share = mnl_attr_get_u32(a);
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_box(const struct msg *m, struct box_reply *ret)
{
        struct box_reply b = {};
        struct decoder d = { .required = BIT(A_BOX_ID) | BIT(A_COOKIE) | BIT(A_NAMESPACES) | BIT(A_SHARE),
                             .attr = box_attr, .out = &b };
        int r = decode(m, MSG_BOX, &d);

        if (r == 0)
                *ret = b;
        return r;
}

static int manager_attr(struct decoder *d, const struct nlattr *a)
{
        struct manager_reply *mr = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                return copy_str(mr->id, sizeof(mr->id), a);
        case A_NAMESPACES:
                mr->namespaces = mnl_attr_get_u32(a);
                return (mr->namespaces & ~(unsigned)NS_ALL) ? -EBADMSG : 0;
        case A_FLAGS:
                mr->no_new_privs = mnl_attr_get_u32(a) & F_NO_NEW_PRIVS;
                mr->cap_bounding = mnl_attr_get_u32(a) & F_CAP_BOUNDING;
                return 0;
        case A_CAP_KEEP:
                mr->cap_keep = mnl_attr_get_u64(a);
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_manager(const struct msg *m, struct manager_reply *ret)
{
        struct manager_reply mr = {};
        struct decoder d = { .required = BIT(A_BOX_ID) | BIT(A_NAMESPACES) | BIT(A_FLAGS) | BIT(A_CAP_KEEP),
                             .attr = manager_attr, .out = &mr };
        int r = decode(m, MSG_MANAGER_REPLY, &d);

        if (r == 0)
                *ret = mr;
        return r;
}

static int error_attr(struct decoder *d, const struct nlattr *a)
{
        struct error_reply *e = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_ERRNO:
                e->error = (int)mnl_attr_get_u32(a);
                return 0;
        case A_STEP:
                snprintf(e->step, sizeof(e->step), "%s", mnl_attr_get_str(a));
                return 0;
        case A_OBJECT:
                snprintf(e->object, sizeof(e->object), "%s", mnl_attr_get_str(a));
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_error(const struct msg *m, struct error_reply *ret)
{
        struct error_reply e = {};
        struct decoder d = { .attr = error_attr, .out = &e };
        int r = decode(m, MSG_ERROR, &d);

        if (r < 0)
                return r;
        if (e.error <= 0 || e.error > 4095)
                e.error = EIO;
        *ret = e;
        return 0;
}

static int cookie_attr(struct decoder *d, const struct nlattr *a)
{
        if (mnl_attr_get_type(a) != A_COOKIE)
                return -EBADMSG;
        memcpy(d->out, mnl_attr_get_payload(a), NSBOX_COOKIE_LEN);
        return 0;
}

static int parse_cookie(const struct msg *m, int type, uint8_t ret[NSBOX_COOKIE_LEN])
{
        uint8_t cookie[NSBOX_COOKIE_LEN] = {};
        struct decoder d = { .required = BIT(A_COOKIE), .attr = cookie_attr, .out = cookie };
        int r = decode(m, type, &d);

        if (r == 0)
                memcpy(ret, cookie, NSBOX_COOKIE_LEN);
        return r;
}

int proto_parse_cookie(const struct msg *m, uint8_t ret[NSBOX_COOKIE_LEN])
{
        return parse_cookie(m, MSG_CLOSE, ret);
}

int proto_parse_release(const struct msg *m, uint8_t ret[NSBOX_COOKIE_LEN])
{
        return parse_cookie(m, MSG_RELEASE, ret);
}

static int get_session(const struct nlattr *a, struct session_entry *se);

struct claim_out {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct session_entry se;
};

static int claim_attr(struct decoder *d, const struct nlattr *a)
{
        struct claim_out *o = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_COOKIE:
                return cookie_attr(&(struct decoder){ .out = o->cookie }, a);
        case A_SESSION:
                return get_session(a, &o->se);
        default:
                return -EBADMSG;
        }
}

int proto_parse_claim(const struct msg *m, uint8_t ret_cookie[NSBOX_COOKIE_LEN], struct session_entry *ret)
{
        struct claim_out o = {};
        struct decoder d = { .required = BIT(A_COOKIE) | BIT(A_SESSION), .attr = claim_attr, .out = &o };
        int r = decode(m, MSG_CLAIM, &d);

        if (r < 0)
                return r;
        memcpy(ret_cookie, o.cookie, NSBOX_COOKIE_LEN);
        *ret = o.se;
        return 0;
}

struct record_out {
        char id[NSBOX_ID_LEN + 1];
        uint8_t token[NSBOX_TOKEN_LEN];
        void *buf;
        size_t size, len;
};

static int record_attr(struct decoder *d, const struct nlattr *a)
{
        struct record_out *o = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                return copy_str(o->id, sizeof(o->id), a);
        case A_TOKEN:
                memcpy(o->token, mnl_attr_get_payload(a), NSBOX_TOKEN_LEN);
                return 0;
        case A_RECORD:
                o->len = mnl_attr_get_payload_len(a);
                if (o->len > o->size)
                        return -EBADMSG;
                memcpy(o->buf, mnl_attr_get_payload(a), o->len);
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_record(const struct msg *m, char ret_id[NSBOX_ID_LEN + 1], uint8_t ret_token[NSBOX_TOKEN_LEN],
                       void *buf, size_t size, size_t *ret_size)
{
        struct record_out o = { .buf = buf, .size = size };
        struct decoder d = { .required = BIT(A_BOX_ID) | BIT(A_TOKEN) | BIT(A_RECORD), .attr = record_attr, .out = &o };
        int r = decode(m, MSG_RECORD, &d);

        if (r < 0)
                return r;
        strcpy(ret_id, o.id);
        memcpy(ret_token, o.token, NSBOX_TOKEN_LEN);
        *ret_size = o.len;
        return 0;
}

struct adopt_end_out {
        uint32_t claims;
        uint64_t usec;
};

static int adopt_end_attr(struct decoder *d, const struct nlattr *a)
{
        struct adopt_end_out *o = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_SESSIONS:
                o->claims = mnl_attr_get_u32(a);
                return 0;
        case A_USEC:
                o->usec = mnl_attr_get_u64(a);
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_adopt_end(const struct msg *m, uint32_t *ret_claims, uint64_t *ret_unclaimed_usec)
{
        struct adopt_end_out o = {};
        struct decoder d = { .required = BIT(A_SESSIONS) | BIT(A_USEC), .attr = adopt_end_attr, .out = &o };
        int r = decode(m, MSG_ADOPT_END, &d);

        if (r < 0)
                return r;
        *ret_claims = o.claims;
        *ret_unclaimed_usec = o.usec;
        return 0;
}

static int boxinfo_attr(struct decoder *d, const struct nlattr *a)
{
        struct box_info *bi = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                return copy_str(bi->id, sizeof(bi->id), a);
        case A_USER:
                return copy_str(bi->user, sizeof(bi->user), a);
        case A_UID:
                bi->uid = mnl_attr_get_u32(a);
                return 0;
        case A_PID:
                bi->pid = mnl_attr_get_u32(a);
                return 0;
        case A_SESSIONS:
                bi->sessions = mnl_attr_get_u32(a);
                return 0;
        case A_NAMESPACES:
                bi->namespaces = mnl_attr_get_u32(a);
                return 0;
        case A_SHARE:
                bi->share = mnl_attr_get_u32(a);
                return 0;
        case A_CREATED:
                bi->created = mnl_attr_get_u64(a);
                return 0;
        case A_STATE:
                bi->state = mnl_attr_get_u32(a);
                return bi->state < _BOX_STATE_MAX ? 0 : -EBADMSG;
        case A_ADDRESS:
                for (size_t i = 0; i < 2; i++)
                        if (!bi->addresses[i][0])
                                return copy_str(bi->addresses[i], sizeof(bi->addresses[i]), a);
                return -EBADMSG;
        case A_USAGE:
                memcpy(&bi->usage, mnl_attr_get_payload(a), sizeof(bi->usage));
                return 0;
        case A_LIMITS:
                memcpy(&bi->limits, mnl_attr_get_payload(a), sizeof(bi->limits));
                return limits_valid(&bi->limits) ? 0 : -EBADMSG;
        default:
                return -EBADMSG;
        }
}

static int get_boxinfo(const struct nlattr *a, struct box_info *bi)
{
        struct decoder d = { .repeatable = BIT(A_ADDRESS),
                             .required = BIT(A_BOX_ID) | BIT(A_USER) | BIT(A_UID) | BIT(A_PID) | BIT(A_SESSIONS) |
                                         BIT(A_NAMESPACES) | BIT(A_SHARE) | BIT(A_STATE) | BIT(A_CREATED),
                             .attr = boxinfo_attr, .out = bi };

        *bi = (struct box_info){};
        usage_init(&bi->usage);
        limits_init(&bi->limits);
        return decode_nested(a, &d);
}

struct list_out {
        int (*cb)(const struct box_info *bi, void *userdata);
        void *userdata;
        uint32_t flags;
};

static int list_attr(struct decoder *d, const struct nlattr *a)
{
        struct list_out *l = d->out;
        struct box_info bi;
        int r;

        if (mnl_attr_get_type(a) == A_FLAGS) {
                l->flags = mnl_attr_get_u32(a);
                return (l->flags & ~(uint32_t)F_MORE) ? -EBADMSG : 0;
        }
        if (mnl_attr_get_type(a) != A_BOXINFO)
                return -EBADMSG;
        r = get_boxinfo(a, &bi);
        return r < 0 ? r : l->cb(&bi, l->userdata);
}

int proto_parse_list(const struct msg *m, int (*cb)(const struct box_info *bi, void *userdata), void *userdata,
                     bool *ret_more)
{
        struct list_out l = { cb, userdata, 0 };
        struct decoder d = { .repeatable = BIT(A_BOXINFO), .attr = list_attr, .out = &l };
        int r = decode(m, MSG_LIST_REPLY, &d);

        if (ret_more)
                *ret_more = r == 0 && (l.flags & F_MORE);
        return r;
}

static int list_request_attr(struct decoder *d, const struct nlattr *a)
{
        if (mnl_attr_get_type(a) != A_BOX_ID)
                return -EBADMSG;
        return copy_str(d->out, NSBOX_ID_LEN + 1, a);
}

int proto_parse_list_request(const struct msg *m, char ret_after[NSBOX_ID_LEN + 1])
{
        char after[NSBOX_ID_LEN + 1] = "";
        struct decoder d = { .attr = list_request_attr, .out = after };
        int r = decode(m, MSG_LIST, &d);

        if (r == 0)
                strcpy(ret_after, after);
        return r;
}

static int reject_attr(struct decoder *d, const struct nlattr *a)
{
        (void)d, (void)a;
        return -EBADMSG;
}

int proto_parse_empty(const struct msg *m)
{
        struct decoder d = { .attr = reject_attr };

        return decode(m, msg_type(m), &d);
}

struct box_request_out {
        char id[NSBOX_ID_LEN + 1];
        uint32_t flags;
        uint32_t before;
        bool has_before;
};

static int box_request_attr(struct decoder *d, const struct nlattr *a)
{
        struct box_request_out *o = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                return copy_str(o->id, sizeof(o->id), a);
        case A_FLAGS:
                o->flags = mnl_attr_get_u32(a);
                return 0;
        case A_SESSIONS:
                o->before = mnl_attr_get_u32(a);
                o->has_before = true;
                return 0;
        default:
                return -EBADMSG;
        }
}

int proto_parse_box_request(const struct msg *m, int type, char ret_id[NSBOX_ID_LEN + 1], uint32_t *ret_flags)
{
        struct box_request_out o = {};
        struct decoder d = { .required = BIT(A_BOX_ID), .attr = box_request_attr, .out = &o };
        int r = decode(m, type, &d);

        if (r < 0)
                return r;
        if (o.has_before)       /* a show's alone */
                return -EBADMSG;
        strcpy(ret_id, o.id);
        if (ret_flags)
                *ret_flags = o.flags;
        return 0;
}

int proto_parse_show_request(const struct msg *m, char ret_id[NSBOX_ID_LEN + 1], uint32_t *ret_before)
{
        struct box_request_out o = { .before = UINT32_MAX };
        struct decoder d = { .required = BIT(A_BOX_ID), .attr = box_request_attr, .out = &o };
        int r = decode(m, MSG_SHOW, &d);

        if (r < 0)
                return r;
        if (o.flags || o.before == 0)
                return -EBADMSG;
        strcpy(ret_id, o.id);
        *ret_before = o.before;
        return 0;
}

int proto_put_show_cursor(struct msg *m, uint32_t next)
{
        return put_u32(m, A_SESSIONS, next);
}

static int session_entry_attr(struct decoder *d, const struct nlattr *a)
{
        struct session_entry *se = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_SERVICE:
                return copy_str(se->service, sizeof(se->service), a);
        case A_TTY:
                return copy_str(se->tty, sizeof(se->tty), a);
        case A_RHOST:
                return copy_str(se->rhost, sizeof(se->rhost), a);
        case A_PID:
                se->pid = mnl_attr_get_u32(a);
                return 0;
        case A_CREATED:
                se->created = mnl_attr_get_u64(a);
                return 0;
        case A_SESSION_FLAGS:
                se->flags = mnl_attr_get_u32(a);
                return (se->flags & ~(uint32_t)SF_USER_MANAGER) ? -EBADMSG : 0;
        default:
                return -EBADMSG;
        }
}

static int get_session(const struct nlattr *a, struct session_entry *se)
{
        struct decoder d = { .required = BIT(A_SERVICE) | BIT(A_TTY) | BIT(A_RHOST) | BIT(A_PID) | BIT(A_CREATED),
                             .attr = session_entry_attr, .out = se };

        *se = (struct session_entry){};
        return decode_nested(a, &d);
}

static int add_session(struct show_reply *sr, const struct nlattr *a)
{
        struct session_entry se, *n;
        int r = get_session(a, &se);

        if (r < 0)
                return r;
        n = reallocarray(sr->sessions, sr->n_sessions + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n[sr->n_sessions++] = se;
        sr->sessions = n;
        return 0;
}

static int show_attr(struct decoder *d, const struct nlattr *a)
{
        struct show_reply *sr = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_BOXINFO:
                return get_boxinfo(a, &sr->info);
        case A_SESSION:
                return add_session(sr, a);
        case A_SESSIONS:
                sr->next = mnl_attr_get_u32(a);
                return sr->next ? 0 : -EBADMSG;
        default:
                return spec_only_attr(&(struct decoder){ .out = &sr->spec }, a);
        }
}

int proto_parse_show(const struct msg *m, struct show_reply *ret)
{
        struct show_reply sr = {};
        struct decoder d = { .repeatable = SPEC_LISTS | BIT(A_SESSION), .required = BIT(A_BOXINFO) | spec_mask(true),
                             .attr = show_attr, .out = &sr };
        int r;

        spec_init(&sr.spec);
        r = decode(m, MSG_SHOW_REPLY, &d);
        if (r < 0) {
                show_reply_done(&sr);
                return r;
        }
        *ret = sr;
        return 0;
}

void show_reply_done(struct show_reply *r)
{
        box_spec_done(&r->spec);
        free(r->sessions);
        *r = (struct show_reply){};
}

static int timing_attr(struct decoder *d, const struct nlattr *a)
{
        struct step_time *st = d->out;

        switch (mnl_attr_get_type(a)) {
        case A_STEP:
                return copy_str(st->step, sizeof(st->step), a);
        case A_OBJECT:
                return copy_str(st->object, sizeof(st->object), a);
        case A_USEC:
                st->usec = mnl_attr_get_u64(a);
                return 0;
        default:
                return -EBADMSG;
        }
}

struct timings_out {
        int (*cb)(const struct step_time *st, void *userdata);
        void *userdata;
};

static int timings_attr(struct decoder *d, const struct nlattr *a)
{
        struct timings_out *t = d->out;
        struct step_time st = {};
        struct decoder nd = { .required = BIT(A_STEP) | BIT(A_OBJECT) | BIT(A_USEC), .attr = timing_attr, .out = &st };
        int r;

        if (mnl_attr_get_type(a) != A_TIMING)
                return -EBADMSG;
        r = decode_nested(a, &nd);
        return r < 0 ? r : t->cb(&st, t->userdata);
}

int proto_parse_timings(const struct msg *m, int (*cb)(const struct step_time *st, void *userdata), void *userdata)
{
        struct timings_out t = { cb, userdata };
        struct decoder d = { .repeatable = BIT(A_TIMING), .attr = timings_attr, .out = &t };

        return decode(m, MSG_OK, &d);
}
