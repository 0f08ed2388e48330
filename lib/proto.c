/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>

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

        /* Attribute padding must not carry stale memory over the socket. */
        memset(m->buf, 0, sizeof(m->buf));
        h = mnl_nlmsg_put_header(m->buf);

        h->nlmsg_type = (uint16_t)type;
        mnl_attr_put_u32(h, A_VERSION, NSBOX_PROTO_VERSION);
        m->len = h->nlmsg_len;
}

const char *box_state_to_string(uint32_t state)
{
        static const char *const names[_BOX_STATE_MAX] = {
                [BOX_STARTING] = "starting", [BOX_RUNNING] = "running", [BOX_STOPPING] = "stopping"
        };

        return state < _BOX_STATE_MAX ? names[state] : "?";
}

int msg_type(const struct msg *m)
{
        return chdr(m)->nlmsg_type;
}

static int put_str(struct msg *m, uint16_t type, const char *s)
{
        if (!mnl_attr_put_strz_check(hdr(m), sizeof(m->buf), type, s))
                return -E2BIG;
        return 0;
}

static int put_u32(struct msg *m, uint16_t type, uint32_t v)
{
        if (!mnl_attr_put_u32_check(hdr(m), sizeof(m->buf), type, v))
                return -E2BIG;
        return 0;
}

static int put_opt_path(struct msg *m, uint16_t type, const struct spec_path *p)
{
        char buf[4096];

        if ((size_t)snprintf(buf, sizeof(buf), "%s%s", p->optional ? "-" : "", p->path) >= sizeof(buf))
                return -ENAMETOOLONG;
        return put_str(m, type, buf);
}

int proto_put_spec(struct msg *m, const struct box_spec *s)
{
        int r = 0;

        r = r ?: put_str(m, A_USER, s->user);
        r = r ?: put_u32(m, A_UID, s->uid);
        r = r ?: put_u32(m, A_GID, s->gid);
        r = r ?: put_str(m, A_HOME, s->home);
        r = r ?: put_u32(m, A_NAMESPACES, s->namespaces);
        r = r ?: put_u32(m, A_SHARE, s->share);
        r = r ?: put_u32(m, A_LINGER, s->linger);
        r = r ?: put_u32(m, A_PROPAGATION, s->propagation);
        r = r ?: put_u32(m, A_FLAGS,
                         (s->private_tmp ? F_PRIVATE_TMP : 0) | (s->hide_homes ? F_HIDE_HOMES : 0) |
                                 (s->user_root ? F_USER_ROOT : 0) | (s->no_new_privs ? F_NO_NEW_PRIVS : 0) |
                                 (s->cap_bounding ? F_CAP_BOUNDING : 0) | (s->nat ? F_NAT : 0) |
                                 (s->isolate ? F_ISOLATE : 0) | (s->debug ? F_DEBUG : 0));
        r = r ?: put_u32(m, A_NETWORK, s->network);
        r = r ?: put_u32(m, A_X11, s->x11);
        if (!r && s->display >= 0)
                r = put_u32(m, A_DISPLAY, (uint32_t)s->display);
        for (size_t i = 0; !r && i < s->n_tmp_keep; i++)
                r = put_opt_path(m, A_TMP_KEEP, &s->tmp_keep[i]);
        if (!r && s->bridge)
                r = put_str(m, A_BRIDGE, s->bridge);
        if (!r && s->gateway4)
                r = put_str(m, A_GATEWAY4, s->gateway4);
        if (!r && s->gateway6)
                r = put_str(m, A_GATEWAY6, s->gateway6);
        if (!r && s->pool4)
                r = put_str(m, A_POOL4, s->pool4);
        if (!r && s->pool6)
                r = put_str(m, A_POOL6, s->pool6);
        for (size_t i = 0; !r && i < s->n_dns; i++)
                r = put_str(m, A_DNS, s->dns[i]);
        r = r ?: put_u32(m, A_SUBUID_START, s->subuid_start);
        r = r ?: put_u32(m, A_SUBUID_COUNT, s->subuid_count);
        r = r ?: put_u32(m, A_SUBGID_START, s->subgid_start);
        r = r ?: put_u32(m, A_SUBGID_COUNT, s->subgid_count);
        if (!r && !mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), A_CAP_KEEP, s->cap_keep))
                r = -E2BIG;
        for (size_t i = 0; !r && i < s->n_read_only; i++)
                r = put_opt_path(m, A_READ_ONLY, &s->read_only[i]);
        for (size_t i = 0; !r && i < s->n_inaccessible; i++)
                r = put_opt_path(m, A_INACCESSIBLE, &s->inaccessible[i]);
        for (size_t i = 0; !r && i < s->n_binds; i++) {
                struct nlattr *nest = mnl_attr_nest_start_check(hdr(m), sizeof(m->buf), A_BIND);

                if (!nest)
                        return -E2BIG;
                r = r ?: put_str(m, A_BIND_SRC, s->binds[i].src);
                r = r ?: put_str(m, A_BIND_DST, s->binds[i].dst);
                r = r ?: put_u32(m, A_FLAGS, (s->binds[i].ro ? F_RO : 0) | (s->binds[i].optional ? F_OPTIONAL : 0));
                mnl_attr_nest_end(hdr(m), nest);
        }
        if (!r && s->hostname)
                r = put_str(m, A_HOSTNAME, s->hostname);
        if (!r && s->tmpfs_size)
                r = put_str(m, A_TMPFS_SIZE, s->tmpfs_size);
        if (!r && s->tmpfs_inodes)
                r = put_str(m, A_TMPFS_INODES, s->tmpfs_inodes);
        if (!r && s->cgroup_view)
                r = put_str(m, A_CGROUP_VIEW, s->cgroup_view);
        if (!r && limits_any(&s->limits) &&
            !mnl_attr_put_check(hdr(m), sizeof(m->buf), A_LIMITS, sizeof(s->limits), &s->limits))
                r = -E2BIG;
        m->len = hdr(m)->nlmsg_len;
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
        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_manager(struct msg *m, const struct manager_reply *mr)
{
        int r = 0;

        r = r ?: put_str(m, A_BOX_ID, mr->id);
        r = r ?: put_u32(m, A_NAMESPACES, mr->namespaces);
        r = r ?: put_u32(m, A_FLAGS, (mr->no_new_privs ? F_NO_NEW_PRIVS : 0) | (mr->cap_bounding ? F_CAP_BOUNDING : 0));
        if (!r && !mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), A_CAP_KEEP, mr->cap_keep))
                r = -E2BIG;
        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_box(struct msg *m, const struct box_reply *b)
{
        int r = 0;

        r = r ?: put_str(m, A_BOX_ID, b->id);
        r = r ?: proto_put_cookie(m, b->cookie);
        r = r ?: put_u32(m, A_NAMESPACES, b->namespaces);
        r = r ?: put_u32(m, A_SHARE, b->share);
        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_error(struct msg *m, const struct error_reply *e)
{
        int r = 0;

        r = r ?: put_u32(m, A_ERRNO, (uint32_t)e->error);
        r = r ?: put_str(m, A_STEP, e->step);
        r = r ?: put_str(m, A_OBJECT, e->object);
        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_cookie(struct msg *m, const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        if (!mnl_attr_put_check(hdr(m), sizeof(m->buf), A_COOKIE, NSBOX_COOKIE_LEN, cookie))
                return -E2BIG;
        m->len = hdr(m)->nlmsg_len;
        return 0;
}

/* Close a nested attribute: kept whole, or dropped whole on error. */
static int nest_close(struct msg *m, struct nlattr *nest, int r)
{
        if (r) {
                mnl_attr_nest_cancel(hdr(m), nest);
                return r;
        }
        mnl_attr_nest_end(hdr(m), nest);
        m->len = hdr(m)->nlmsg_len;
        return 0;
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

int proto_put_boxinfo(struct msg *m, const struct box_info *bi)
{
        struct nlattr *nest = mnl_attr_nest_start_check(hdr(m), sizeof(m->buf), A_BOXINFO);
        int r = 0;

        if (!nest)
                return -E2BIG;
        r = r ?: put_str(m, A_BOX_ID, bi->id);
        r = r ?: put_str(m, A_USER, bi->user);
        r = r ?: put_u32(m, A_UID, bi->uid);
        r = r ?: put_u32(m, A_PID, bi->pid);
        r = r ?: put_u32(m, A_SESSIONS, bi->sessions);
        r = r ?: put_u32(m, A_NAMESPACES, bi->namespaces);
        r = r ?: put_u32(m, A_SHARE, bi->share);
        r = r ?: put_u32(m, A_STATE, bi->state);
        if (!r && !mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), A_CREATED, bi->created))
                r = -E2BIG;
        for (size_t i = 0; !r && i < 2; i++)
                if (bi->addresses[i][0])
                        r = put_str(m, A_ADDRESS, bi->addresses[i]);
        if (!r && usage_known(&bi->usage) &&
            !mnl_attr_put_check(hdr(m), sizeof(m->buf), A_USAGE, sizeof(bi->usage), &bi->usage))
                r = -E2BIG;
        if (!r && limits_any(&bi->limits) &&
            !mnl_attr_put_check(hdr(m), sizeof(m->buf), A_LIMITS, sizeof(bi->limits), &bi->limits))
                r = -E2BIG;
        return nest_close(m, nest, r);
}

int proto_put_box_id(struct msg *m, const char *id)
{
        int r = put_str(m, A_BOX_ID, id);

        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_flags(struct msg *m, uint32_t flags)
{
        int r = put_u32(m, A_FLAGS, flags);

        m->len = hdr(m)->nlmsg_len;
        return r;
}

int proto_put_session(struct msg *m, const struct session_entry *se)
{
        struct nlattr *nest = mnl_attr_nest_start_check(hdr(m), sizeof(m->buf), A_SESSION);
        int r = 0;

        if (!nest)
                return -E2BIG;
        r = r ?: put_str(m, A_SERVICE, se->service);
        r = r ?: put_str(m, A_TTY, se->tty);
        r = r ?: put_str(m, A_RHOST, se->rhost);
        r = r ?: put_u32(m, A_PID, se->pid);
        if (!r && !mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), A_CREATED, se->created))
                r = -E2BIG;
        return nest_close(m, nest, r);
}

int proto_put_timing(struct msg *m, const struct step_time *st)
{
        struct nlattr *nest = mnl_attr_nest_start_check(hdr(m), sizeof(m->buf), A_TIMING);
        int r = 0;

        if (!nest)
                return -E2BIG;
        r = r ?: put_str(m, A_STEP, st->step);
        r = r ?: put_str(m, A_OBJECT, st->object);
        if (!r && !mnl_attr_put_u64_check(hdr(m), sizeof(m->buf), A_USEC, st->usec))
                r = -E2BIG;
        return nest_close(m, nest, r);
}

/* ---- parsing ------------------------------------------------------------ */

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
        [A_CGROUP_VIEW] = MNL_TYPE_NUL_STRING,
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

/* Checks the framing and the version; calls cb for each top-level attribute. */
static int parse_msg(const struct msg *m, int type, mnl_attr_cb_t cb, void *data)
{
        const struct nlmsghdr *h = chdr(m);
        const struct nlattr *a;
        bool version = false;
        int r;

        if (m->len < sizeof(struct nlmsghdr) || !mnl_nlmsg_ok(h, (int)m->len) || h->nlmsg_len != m->len)
                return -EBADMSG;
        if (h->nlmsg_type != type)
                return -EBADMSG;
        mnl_attr_for_each(a, h, 0) {
                r = validate_attr(a);
                if (r < 0)
                        return r;
                if (mnl_attr_get_type(a) == A_VERSION) {
                        if (mnl_attr_get_u32(a) != NSBOX_PROTO_VERSION)
                                return -EPROTONOSUPPORT;
                        version = true;
                        continue;
                }
                if (cb && cb(a, data) != MNL_CB_OK)
                        return -EBADMSG;
        }
        /* mnl_attr_for_each stops at the first malformed attribute: it must
         * have consumed the whole payload. */
        if ((const char *)a != (const char *)h + h->nlmsg_len)
                return -EBADMSG;
        return version ? 0 : -EBADMSG;
}

static int parse_nested(const struct nlattr *nest, mnl_attr_cb_t cb, void *data)
{
        const struct nlattr *a;

        mnl_attr_for_each_nested(a, nest) {
                if (validate_attr(a) < 0 || cb(a, data) != MNL_CB_OK)
                        return -EBADMSG;
        }
        if ((const char *)a != (const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest))
                return -EBADMSG;
        return 0;
}

struct open_ctx {
        struct box_spec *s;
        struct session_info *si;
        uint64_t seen;
        int error;
};

struct bind_ctx {
        const char *src, *dst;
        uint32_t flags;
        bool have_flags;
};

static int bind_cb(const struct nlattr *a, void *data)
{
        struct bind_ctx *b = data;

        switch (mnl_attr_get_type(a)) {
        case A_BIND_SRC:
                if (b->src)
                        return MNL_CB_ERROR;
                b->src = mnl_attr_get_str(a);
                break;
        case A_BIND_DST:
                if (b->dst)
                        return MNL_CB_ERROR;
                b->dst = mnl_attr_get_str(a);
                break;
        case A_FLAGS:
                if (b->have_flags)
                        return MNL_CB_ERROR;
                b->flags = mnl_attr_get_u32(a);
                b->have_flags = true;
                break;
        default:
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

static int set_once_str(char **dst, const struct nlattr *a)
{
        if (*dst)
                return -EBADMSG;
        return xstrdup(dst, mnl_attr_get_str(a));
}

/* One attribute of a box spec.  Returns 0, 1 when the attribute is not a
 * spec attribute, or -errno. */
static int spec_attr(struct open_ctx *c, const struct nlattr *a)
{
        uint16_t t = mnl_attr_get_type(a);
        const char *str;
        int r = 0;

        /* Scalars may appear once; repeated attributes are lists. */
        if (t != A_READ_ONLY && t != A_INACCESSIBLE && t != A_BIND && t != A_DNS && t != A_TMP_KEEP) {
                if (c->seen & (1ULL << t))
                        return MNL_CB_ERROR;
                c->seen |= 1ULL << t;
        }
        switch (t) {
        case A_USER:
                r = set_once_str(&c->s->user, a);
                break;
        case A_UID:
                c->s->uid = mnl_attr_get_u32(a);
                break;
        case A_GID:
                c->s->gid = mnl_attr_get_u32(a);
                break;
        case A_HOME:
                r = set_once_str(&c->s->home, a);
                break;
        case A_NAMESPACES:
                c->s->namespaces = mnl_attr_get_u32(a);
                break;
        case A_SHARE:
                c->s->share = mnl_attr_get_u32(a);
                break;
        case A_LINGER:
                c->s->linger = mnl_attr_get_u32(a);
                break;
        case A_PROPAGATION:
                c->s->propagation = mnl_attr_get_u32(a);
                break;
        case A_FLAGS:
                c->s->private_tmp = mnl_attr_get_u32(a) & F_PRIVATE_TMP;
                c->s->hide_homes = mnl_attr_get_u32(a) & F_HIDE_HOMES;
                c->s->user_root = mnl_attr_get_u32(a) & F_USER_ROOT;
                c->s->no_new_privs = mnl_attr_get_u32(a) & F_NO_NEW_PRIVS;
                c->s->cap_bounding = mnl_attr_get_u32(a) & F_CAP_BOUNDING;
                c->s->nat = mnl_attr_get_u32(a) & F_NAT;
                c->s->isolate = mnl_attr_get_u32(a) & F_ISOLATE;
                c->s->debug = mnl_attr_get_u32(a) & F_DEBUG;
                break;
        case A_NETWORK:
                c->s->network = mnl_attr_get_u32(a);
                break;
        case A_BRIDGE:
                r = set_once_str(&c->s->bridge, a);
                break;
        case A_GATEWAY4:
                r = set_once_str(&c->s->gateway4, a);
                break;
        case A_GATEWAY6:
                r = set_once_str(&c->s->gateway6, a);
                break;
        case A_POOL4:
                r = set_once_str(&c->s->pool4, a);
                break;
        case A_POOL6:
                r = set_once_str(&c->s->pool6, a);
                break;
        case A_DNS:
                r = strv_push(&c->s->dns, &c->s->n_dns, mnl_attr_get_str(a));
                break;
        case A_SUBUID_START:
                c->s->subuid_start = mnl_attr_get_u32(a);
                break;
        case A_SUBUID_COUNT:
                c->s->subuid_count = mnl_attr_get_u32(a);
                break;
        case A_SUBGID_START:
                c->s->subgid_start = mnl_attr_get_u32(a);
                break;
        case A_SUBGID_COUNT:
                c->s->subgid_count = mnl_attr_get_u32(a);
                break;
        case A_CAP_KEEP:
                c->s->cap_keep = mnl_attr_get_u64(a);
                break;
        case A_READ_ONLY:
        case A_INACCESSIBLE:
        case A_TMP_KEEP:
                str = mnl_attr_get_str(a);
                if (t == A_READ_ONLY)
                        r = spec_path_push(&c->s->read_only, &c->s->n_read_only, str + (str[0] == '-'), str[0] == '-');
                else if (t == A_INACCESSIBLE)
                        r = spec_path_push(&c->s->inaccessible, &c->s->n_inaccessible, str + (str[0] == '-'),
                                           str[0] == '-');
                else
                        r = spec_path_push(&c->s->tmp_keep, &c->s->n_tmp_keep, str + (str[0] == '-'), str[0] == '-');
                break;
        case A_X11:
                c->s->x11 = mnl_attr_get_u32(a);
                break;
        case A_DISPLAY:
                if (mnl_attr_get_u32(a) > 65535)
                        return -EBADMSG;
                c->s->display = (int)mnl_attr_get_u32(a);
                break;
        case A_BIND: {
                struct bind_ctx b = {};

                r = parse_nested(a, bind_cb, &b);
                if (r == 0 && (!b.src || !b.dst || !b.have_flags))
                        r = -EBADMSG;
                if (r == 0)
                        r = spec_bind_push(c->s, b.src, b.dst, b.flags & F_RO, b.flags & F_OPTIONAL);
                break;
        }
        case A_HOSTNAME:
                r = set_once_str(&c->s->hostname, a);
                break;
        case A_TMPFS_SIZE:
                r = set_once_str(&c->s->tmpfs_size, a);
                break;
        case A_TMPFS_INODES:
                r = set_once_str(&c->s->tmpfs_inodes, a);
                break;
        case A_CGROUP_VIEW:
                r = set_once_str(&c->s->cgroup_view, a);
                break;
        case A_LIMITS:
                memcpy(&c->s->limits, mnl_attr_get_payload(a), sizeof(c->s->limits));
                break;
        default:
                return 1;
        }
        return r;
}

static int open_cb(const struct nlattr *a, void *data)
{
        struct open_ctx *c = data;
        int r = spec_attr(c, a);

        if (r == 1) {
                switch (mnl_attr_get_type(a)) {
                case A_SERVICE:
                        r = set_once_str(&c->si->service, a);
                        break;
                case A_TTY:
                        r = set_once_str(&c->si->tty, a);
                        break;
                case A_RHOST:
                        r = set_once_str(&c->si->rhost, a);
                        break;
                case A_SESSION_FLAGS:
                        if (c->si->user_manager || (mnl_attr_get_u32(a) & ~(uint32_t)SF_USER_MANAGER))
                                r = -EBADMSG;
                        else
                                c->si->user_manager = true;
                        break;
                default:
                        r = -EBADMSG;
                }
        }
        if (r < 0) {
                c->error = r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int proto_parse_open(const struct msg *m, struct box_spec *ret_spec, struct session_info *ret_si)
{
        struct box_spec s = {};
        struct session_info si = {};
        struct open_ctx c = { .s = &s, .si = &si };
        const uint64_t required = (1ULL << A_USER) | (1ULL << A_UID) | (1ULL << A_GID) | (1ULL << A_HOME) |
                                  (1ULL << A_NAMESPACES) | (1ULL << A_SHARE) | (1ULL << A_LINGER) | (1ULL << A_PROPAGATION) |
                                  (1ULL << A_FLAGS) | (1ULL << A_SUBUID_START) | (1ULL << A_SUBUID_COUNT) |
                                  (1ULL << A_SUBGID_START) | (1ULL << A_SUBGID_COUNT) | (1ULL << A_CAP_KEEP) |
                                  (1ULL << A_NETWORK) | (1ULL << A_X11);
        int r;

        s.display = -1;
        limits_init(&s.limits);
        r = parse_msg(m, MSG_OPEN, open_cb, &c);
        if (r == 0 && (c.seen & required) != required)
                r = -EBADMSG;
        if (r < 0) {
                box_spec_done(&s);
                session_info_done(&si);
                return c.error == -ENOMEM ? -ENOMEM : r;
        }
        *ret_spec = s;
        *ret_si = si;
        return 0;
}

/* A reply whose attributes come each at most once, and the required ones
 * all: the callbacks fill ctx->out, noting what they saw. */
struct reply_ctx {
        uint64_t seen;
        void *out;
};

static bool first_time(struct reply_ctx *c, uint16_t t)
{
        if (c->seen & (1ULL << t))
                return false;
        c->seen |= 1ULL << t;
        return true;
}

static int parse_reply(const struct msg *m, int type, mnl_attr_cb_t cb, void *out, uint64_t required)
{
        struct reply_ctx c = { .out = out };
        int r = parse_msg(m, type, cb, &c);

        if (r < 0)
                return r;
        return (c.seen & required) == required ? 0 : -EBADMSG;
}

static int copy_id(char dst[NSBOX_ID_LEN + 1], const struct nlattr *a)
{
        if (strlen(mnl_attr_get_str(a)) > NSBOX_ID_LEN)
                return MNL_CB_ERROR;
        strcpy(dst, mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int box_cb(const struct nlattr *a, void *data)
{
        struct reply_ctx *c = data;
        struct box_reply *b = c->out;
        uint16_t t = mnl_attr_get_type(a);

        if (!first_time(c, t))
                return MNL_CB_ERROR;
        switch (t) {
        case A_BOX_ID:
                return copy_id(b->id, a);
        case A_COOKIE:
                memcpy(b->cookie, mnl_attr_get_payload(a), NSBOX_COOKIE_LEN);
                return MNL_CB_OK;
        case A_NAMESPACES:
                b->namespaces = mnl_attr_get_u32(a);
                return MNL_CB_OK;
        case A_SHARE:
                b->share = mnl_attr_get_u32(a);
                return MNL_CB_OK;
        default:
                return MNL_CB_ERROR;
        }
}

int proto_parse_box(const struct msg *m, struct box_reply *ret)
{
        struct box_reply b = {};
        int r = parse_reply(m, MSG_BOX, box_cb, &b,
                            (1ULL << A_BOX_ID) | (1ULL << A_COOKIE) | (1ULL << A_NAMESPACES) | (1ULL << A_SHARE));

        if (r == 0)
                *ret = b;
        return r;
}

static int manager_cb(const struct nlattr *a, void *data)
{
        struct reply_ctx *c = data;
        struct manager_reply *mr = c->out;
        uint16_t t = mnl_attr_get_type(a);

        if (!first_time(c, t))
                return MNL_CB_ERROR;
        switch (t) {
        case A_BOX_ID:
                return copy_id(mr->id, a);
        case A_NAMESPACES:
                mr->namespaces = mnl_attr_get_u32(a);
                return MNL_CB_OK;
        case A_FLAGS:
                mr->no_new_privs = mnl_attr_get_u32(a) & F_NO_NEW_PRIVS;
                mr->cap_bounding = mnl_attr_get_u32(a) & F_CAP_BOUNDING;
                return MNL_CB_OK;
        case A_CAP_KEEP:
                mr->cap_keep = mnl_attr_get_u64(a);
                return MNL_CB_OK;
        default:
                return MNL_CB_ERROR;
        }
}

int proto_parse_manager(const struct msg *m, struct manager_reply *ret)
{
        struct manager_reply mr = {};
        int r = parse_reply(m, MSG_MANAGER_REPLY, manager_cb, &mr,
                            (1ULL << A_BOX_ID) | (1ULL << A_NAMESPACES) | (1ULL << A_FLAGS) | (1ULL << A_CAP_KEEP));

        if (r == 0 && (mr.namespaces & ~(unsigned)NS_ALL))
                r = -EBADMSG;
        if (r == 0)
                *ret = mr;
        return r;
}

static int error_cb(const struct nlattr *a, void *data)
{
        struct error_reply *e = data;

        switch (mnl_attr_get_type(a)) {
        case A_ERRNO:
                e->error = (int)mnl_attr_get_u32(a);
                break;
        case A_STEP:
                snprintf(e->step, sizeof(e->step), "%s", mnl_attr_get_str(a));
                break;
        case A_OBJECT:
                snprintf(e->object, sizeof(e->object), "%s", mnl_attr_get_str(a));
                break;
        default:
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int proto_parse_error(const struct msg *m, struct error_reply *ret)
{
        struct error_reply e = {};
        int r = parse_msg(m, MSG_ERROR, error_cb, &e);

        if (r < 0)
                return r;
        if (e.error <= 0 || e.error > 4095)
                e.error = EIO;
        *ret = e;
        return 0;
}

static int cookie_cb(const struct nlattr *a, void *data)
{
        uint8_t *out = data;

        if (mnl_attr_get_type(a) != A_COOKIE)
                return MNL_CB_ERROR;
        memcpy(out, mnl_attr_get_payload(a), NSBOX_COOKIE_LEN);
        out[NSBOX_COOKIE_LEN] = 1;
        return MNL_CB_OK;
}

int proto_parse_cookie(const struct msg *m, uint8_t ret[NSBOX_COOKIE_LEN])
{
        uint8_t buf[NSBOX_COOKIE_LEN + 1] = {};
        int r = parse_msg(m, MSG_CLOSE, cookie_cb, buf);

        if (r < 0)
                return r;
        if (!buf[NSBOX_COOKIE_LEN])
                return -EBADMSG;
        memcpy(ret, buf, NSBOX_COOKIE_LEN);
        return 0;
}

static int boxinfo_cb(const struct nlattr *a, void *data)
{
        struct box_info *bi = data;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                snprintf(bi->id, sizeof(bi->id), "%s", mnl_attr_get_str(a));
                break;
        case A_USER:
                snprintf(bi->user, sizeof(bi->user), "%s", mnl_attr_get_str(a));
                break;
        case A_UID:
                bi->uid = mnl_attr_get_u32(a);
                break;
        case A_PID:
                bi->pid = mnl_attr_get_u32(a);
                break;
        case A_SESSIONS:
                bi->sessions = mnl_attr_get_u32(a);
                break;
        case A_NAMESPACES:
                bi->namespaces = mnl_attr_get_u32(a);
                break;
        case A_SHARE:
                bi->share = mnl_attr_get_u32(a);
                break;
        case A_CREATED:
                bi->created = mnl_attr_get_u64(a);
                break;
        case A_STATE:
                bi->state = mnl_attr_get_u32(a);
                if (bi->state >= _BOX_STATE_MAX)
                        return MNL_CB_ERROR;
                break;
        case A_ADDRESS:
                for (size_t i = 0; i < 2; i++)
                        if (!bi->addresses[i][0]) {
                                snprintf(bi->addresses[i], sizeof(bi->addresses[i]), "%s", mnl_attr_get_str(a));
                                break;
                        }
                break;
        case A_USAGE:
                memcpy(&bi->usage, mnl_attr_get_payload(a), sizeof(bi->usage));
                break;
        case A_LIMITS:
                memcpy(&bi->limits, mnl_attr_get_payload(a), sizeof(bi->limits));
                if (!limits_valid(&bi->limits))
                        return MNL_CB_ERROR;
                break;
        default:
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

struct list_ctx {
        int (*cb)(const struct box_info *bi, void *userdata);
        void *userdata;
};

static int list_cb(const struct nlattr *a, void *data)
{
        struct list_ctx *c = data;
        struct box_info bi = {};

        usage_init(&bi.usage);
        limits_init(&bi.limits);
        if (mnl_attr_get_type(a) != A_BOXINFO)
                return MNL_CB_ERROR;
        if (parse_nested(a, boxinfo_cb, &bi) < 0)
                return MNL_CB_ERROR;
        return c->cb(&bi, c->userdata) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int proto_parse_list(const struct msg *m, int (*cb)(const struct box_info *bi, void *userdata), void *userdata)
{
        struct list_ctx c = { cb, userdata };

        return parse_msg(m, MSG_LIST_REPLY, list_cb, &c);
}

static int reject_cb(const struct nlattr *a, void *data)
{
        (void)a, (void)data;
        return MNL_CB_ERROR;
}

int proto_parse_empty(const struct msg *m)
{
        return parse_msg(m, msg_type(m), reject_cb, NULL);
}

struct box_request_ctx {
        char *id;
        uint32_t *flags;
        bool have_id;
};

static int box_request_cb(const struct nlattr *a, void *data)
{
        struct box_request_ctx *c = data;

        switch (mnl_attr_get_type(a)) {
        case A_BOX_ID:
                if (c->have_id || strlen(mnl_attr_get_str(a)) > NSBOX_ID_LEN)
                        return MNL_CB_ERROR;
                strcpy(c->id, mnl_attr_get_str(a));
                c->have_id = true;
                return MNL_CB_OK;
        case A_FLAGS:
                *c->flags = mnl_attr_get_u32(a);
                return MNL_CB_OK;
        default:
                return MNL_CB_ERROR;
        }
}

int proto_parse_box_request(const struct msg *m, int type, char ret_id[NSBOX_ID_LEN + 1], uint32_t *ret_flags)
{
        char id[NSBOX_ID_LEN + 1] = "";
        uint32_t flags = 0;
        struct box_request_ctx c = { .id = id, .flags = &flags };
        int r = parse_msg(m, type, box_request_cb, &c);

        if (r < 0)
                return r;
        if (!c.have_id)
                return -EBADMSG;
        strcpy(ret_id, id);
        if (ret_flags)
                *ret_flags = flags;
        return 0;
}

static int session_cb(const struct nlattr *a, void *data)
{
        struct session_entry *se = data;

        switch (mnl_attr_get_type(a)) {
        case A_SERVICE:
                snprintf(se->service, sizeof(se->service), "%s", mnl_attr_get_str(a));
                break;
        case A_TTY:
                snprintf(se->tty, sizeof(se->tty), "%s", mnl_attr_get_str(a));
                break;
        case A_RHOST:
                snprintf(se->rhost, sizeof(se->rhost), "%s", mnl_attr_get_str(a));
                break;
        case A_PID:
                se->pid = mnl_attr_get_u32(a);
                break;
        case A_CREATED:
                se->created = mnl_attr_get_u64(a);
                break;
        default:
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

struct show_ctx {
        struct open_ctx spec;
        struct show_reply *r;
        int error;
};

static int show_cb(const struct nlattr *a, void *data)
{
        struct show_ctx *c = data;
        struct session_entry se = {}, *n;
        int r;

        switch (mnl_attr_get_type(a)) {
        case A_BOXINFO:
                return parse_nested(a, boxinfo_cb, &c->r->info) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
        case A_SESSION:
                if (parse_nested(a, session_cb, &se) < 0)
                        return MNL_CB_ERROR;
                n = realloc(c->r->sessions, (c->r->n_sessions + 1) * sizeof(*n));
                if (!n) {
                        c->error = -ENOMEM;
                        return MNL_CB_ERROR;
                }
                n[c->r->n_sessions++] = se;
                c->r->sessions = n;
                return MNL_CB_OK;
        default:
                r = spec_attr(&c->spec, a);
                if (r != 0) {
                        c->error = r < 0 ? r : -EBADMSG;
                        return MNL_CB_ERROR;
                }
                return MNL_CB_OK;
        }
}

int proto_parse_show(const struct msg *m, struct show_reply *ret)
{
        struct show_reply r = {};
        struct show_ctx c = { .r = &r };
        int e;

        c.spec.s = &r.spec;
        r.spec.display = -1;
        usage_init(&r.info.usage);
        limits_init(&r.info.limits);
        limits_init(&r.spec.limits);
        e = parse_msg(m, MSG_SHOW_REPLY, show_cb, &c);
        if (e < 0) {
                show_reply_done(&r);
                return c.error == -ENOMEM ? -ENOMEM : e;
        }
        *ret = r;
        return 0;
}

void show_reply_done(struct show_reply *r)
{
        box_spec_done(&r->spec);
        free(r->sessions);
        *r = (struct show_reply){};
}

static int timing_cb(const struct nlattr *a, void *data)
{
        struct step_time *st = data;

        switch (mnl_attr_get_type(a)) {
        case A_STEP:
                snprintf(st->step, sizeof(st->step), "%s", mnl_attr_get_str(a));
                break;
        case A_OBJECT:
                snprintf(st->object, sizeof(st->object), "%s", mnl_attr_get_str(a));
                break;
        case A_USEC:
                st->usec = mnl_attr_get_u64(a);
                break;
        default:
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

struct timings_ctx {
        int (*cb)(const struct step_time *st, void *userdata);
        void *userdata;
};

static int timings_cb(const struct nlattr *a, void *data)
{
        struct timings_ctx *c = data;
        struct step_time st = {};

        if (mnl_attr_get_type(a) != A_TIMING || parse_nested(a, timing_cb, &st) < 0)
                return MNL_CB_ERROR;
        return c->cb(&st, c->userdata) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int proto_parse_timings(const struct msg *m, int (*cb)(const struct step_time *st, void *userdata), void *userdata)
{
        struct timings_ctx c = { cb, userdata };

        return parse_msg(m, MSG_OK, timings_cb, &c);
}

void session_info_done(struct session_info *si)
{
        free(si->service);
        free(si->tty);
        free(si->rhost);
        *si = (struct session_info){};
}

int msg_send_fds(int sock, const struct msg *m, const int *fds, size_t n_fds)
{
        struct iovec iov = { .iov_base = (void *)m->buf, .iov_len = m->len };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * NSBOX_MAX_FDS)];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > NSBOX_MAX_FDS)
                return -E2BIG;
        if (n_fds > 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                ssize_t k = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (k >= 0)
                        return (size_t)k == m->len ? 0 : -EMSGSIZE;
                if (errno != EINTR)
                        return negative_errno();
        }
}

int msg_send(int sock, const struct msg *m, int fd)
{
        return msg_send_fds(sock, m, &fd, fd >= 0 ? 1 : 0);
}

int msg_recv_fds(int sock, struct msg *m, int *ret_fds, size_t max_fds, size_t *ret_n)
{
        struct iovec iov = { .iov_base = m->buf, .iov_len = sizeof(m->buf) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * (NSBOX_MAX_FDS + 1))];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        int fds[NSBOX_MAX_FDS];
        size_t nfds = 0, extra = 0;
        ssize_t k;

        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < n; i++) {
                                int x;
                                memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (nfds < max_fds && nfds < NSBOX_MAX_FDS)
                                        fds[nfds++] = x;
                                else {
                                        close(x);
                                        extra++;
                                }
                        }
                }
        }
        if (k == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra > 0) {
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
                return k == 0 ? -ECONNRESET : -EBADMSG;
        }
        m->len = (size_t)k;
        memcpy(ret_fds, fds, sizeof(int) * nfds);
        *ret_n = nfds;
        return 0;
}

int msg_recv(int sock, struct msg *m, int *ret_fd)
{
        size_t n = 0;
        int fd = -1, r = msg_recv_fds(sock, m, &fd, ret_fd ? 1 : 0, &n);

        if (r == 0 && ret_fd)
                *ret_fd = n ? fd : -1;
        return r;
}

int proto_send_error(int sock, int error, const char *step, const char *object)
{
        struct error_reply er = { .error = error > 0 ? error : EIO };
        struct msg *m = malloc(sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        snprintf(er.step, sizeof(er.step), "%s", step && *step ? step : "setup");
        snprintf(er.object, sizeof(er.object), "%s", object ? object : "");
        msg_init(m, MSG_ERROR);
        r = proto_put_error(m, &er);
        if (r >= 0)
                r = msg_send(sock, m, -1);
        free(m);
        return r;
}
