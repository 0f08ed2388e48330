/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "spec.h"

#include <sched.h>
#include <sys/socket.h>

#include "ident.h"
#include "netaddr.h"
#include "util.h"

static const struct {
        const char *name;
        unsigned flag;
} ns_names[] = {
        { "mount", NS_MOUNT },
        { "pid", NS_PID },
        { "uts", NS_UTS },
        { "ipc", NS_IPC },
        { "user", NS_USER },
        { "net", NS_NET },
};

static void spec_paths_free(struct spec_path *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

void box_spec_done(struct box_spec *s)
{
        free(s->user);
        free(s->home);
        free(s->hostname);
        free(s->tmpfs_size);
        free(s->tmpfs_inodes);
        free(s->cgroup_view);
        free(s->bridge);
        free(s->gateway4);
        free(s->gateway6);
        free(s->pool4);
        free(s->pool6);
        strv_free(s->dns);
        spec_paths_free(s->read_only, s->n_read_only);
        spec_paths_free(s->inaccessible, s->n_inaccessible);
        spec_paths_free(s->tmp_keep, s->n_tmp_keep);
        for (size_t i = 0; i < s->n_binds; i++) {
                free(s->binds[i].src);
                free(s->binds[i].dst);
        }
        free(s->binds);
        *s = (struct box_spec){};
}

int spec_path_push(struct spec_path **v, size_t *n, const char *path, bool optional)
{
        struct spec_path *nv;
        char *d = strdup(path);

        if (!d)
                return -ENOMEM;
        nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv) {
                free(d);
                return -ENOMEM;
        }
        nv[*n] = (struct spec_path){ .path = d, .optional = optional };
        (*n)++;
        *v = nv;
        return 0;
}

int spec_bind_push(struct box_spec *s, const char *src, const char *dst, bool ro, bool optional)
{
        struct spec_bind *nv;
        char *a = strdup(src), *b = strdup(dst);

        nv = (a && b) ? realloc(s->binds, (s->n_binds + 1) * sizeof(*s->binds)) : NULL;
        if (!nv) {
                free(a);
                free(b);
                return -ENOMEM;
        }
        nv[s->n_binds++] = (struct spec_bind){ .src = a, .dst = b, .ro = ro, .optional = optional };
        s->binds = nv;
        return 0;
}

unsigned namespace_flag(const char *name)
{
        for (size_t j = 0; j < ARRAY_SIZE(ns_names); j++)
                if (strcmp(name, ns_names[j].name) == 0)
                        return ns_names[j].flag;
        return 0;
}

int namespaces_format(unsigned ns, char **ret)
{
        char buf[64] = "";

        for (size_t j = 0; j < ARRAY_SIZE(ns_names); j++)
                if (ns & ns_names[j].flag) {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, ns_names[j].name);
                }
        return xstrdup(ret, buf);
}

int namespaces_clone_flags(unsigned ns)
{
        /* The user namespace is never among them: the session stays in the
         * initial one, and the box's is joined by its init alone. */
        return CLONE_NEWNS | ((ns & NS_PID) ? CLONE_NEWPID : 0) | ((ns & NS_UTS) ? CLONE_NEWUTS : 0) |
               ((ns & NS_IPC) ? CLONE_NEWIPC : 0) | ((ns & NS_NET) ? CLONE_NEWNET : 0);
}

const struct ns_file session_ns_files[N_SESSION_NS] = {
        { NS_MOUNT, "mnt", CLONE_NEWNS }, { NS_PID, "pid", CLONE_NEWPID }, { NS_UTS, "uts", CLONE_NEWUTS },
        { NS_IPC, "ipc", CLONE_NEWIPC },  { NS_NET, "net", CLONE_NEWNET },
};

#define NAMES(e, ...)                                                                                               \
        static const char *const e##_list[] = { __VA_ARGS__ };                                                     \
        const struct enum_names e = { e##_list, ARRAY_SIZE(e##_list) }
NAMES(share_names, [SHARE_SESSION] = "session", [SHARE_USER] = "user");
NAMES(propagation_names, [PROP_SLAVE] = "slave", [PROP_PRIVATE] = "private");
NAMES(network_names, [NET_NONE] = "none", [NET_LOOPBACK] = "loopback", [NET_VETH] = "veth");
NAMES(x11_names, [X11_DISPLAY] = "display", [X11_ALL] = "all", [X11_NONE] = "none");

const char *enum_to_string(const struct enum_names *e, unsigned v)
{
        return v < e->n && e->names[v] ? e->names[v] : "?";
}

int enum_from_string(const struct enum_names *e, const char *s)
{
        for (size_t i = 0; i < e->n; i++)
                if (e->names[i] && strcmp(e->names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

int enum_choices(const struct enum_names *e, char **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < e->n; i++)
                fprintf(f, "%s%s", i == 0 ? "" : i + 1 == e->n ? " or " : ", ", e->names[i]);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *share_to_string(enum share s)
{
        return enum_to_string(&share_names, s);
}

const char *propagation_to_string(enum propagation p)
{
        return enum_to_string(&propagation_names, p);
}

const char *network_to_string(enum network n)
{
        return enum_to_string(&network_names, n);
}

const char *x11_to_string(enum x11 x)
{
        return enum_to_string(&x11_names, x);
}

bool tmp_keep_path_valid(const char *path)
{
        return path_is_clean(path) && (strncmp(path, "/tmp/", 5) == 0 || strncmp(path, "/var/tmp/", 9) == 0);
}

bool ifname_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= ' ' || s[i] == '/' || s[i] == ':' || (unsigned char)s[i] >= 0x7f)
                        return false;
        return true;
}

static bool addr_of_family(const char *s, int family)
{
        struct addr a;

        return addr_parse(s, &a) == 0 && a.family == family;
}

static bool pool_ok(const char *s, int family)
{
        struct cidr c;

        return cidr_parse(s, &c) == 0 && c.base.family == family && pool_blocks(&c) > 0;
}

static int validate_network(const struct box_spec *s, const char **ret_why)
{
        if (s->network > NET_VETH || (s->network != NET_NONE) != !!(s->namespaces & NS_NET))
                return *ret_why = "network", -EINVAL;
        for (size_t i = 0; i < s->n_dns; i++) {
                struct addr a;
                if (addr_parse(s->dns[i], &a) < 0)
                        return *ret_why = "dns", -EINVAL;
        }
        if (s->prepared > PREPARED_MAX)
                return *ret_why = "prepared_boxes", -EINVAL;
        if (s->prepared_linger > PREPARED_LINGER_MAX)
                return *ret_why = "prepared_linger", -EINVAL;
        if (s->network != NET_VETH)
                return 0;
        if (!s->pool4 || !pool_ok(s->pool4, AF_INET) || (s->pool6 && !pool_ok(s->pool6, AF_INET6)))
                return *ret_why = "pool4 or pool6", -EINVAL;
        if (s->bridge && !ifname_valid(s->bridge))
                return *ret_why = "bridge", -EINVAL;
        if ((s->gateway4 && !addr_of_family(s->gateway4, AF_INET)) ||
            (s->gateway6 && !addr_of_family(s->gateway6, AF_INET6)))
                return *ret_why = "gateway", -EINVAL;
        return 0;
}

bool hostname_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.' || s[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.'))
                        return false;
        }
        return true;
}

bool subid_range_bad(uint32_t own, uint32_t start, uint32_t count)
{
        uint64_t end = (uint64_t)start + count;

        if (count == 0)
                return false;
        /* Never map host root into a box, nor the user's own id twice, nor
         * past the largest id. */
        return start == 0 || end > UINT32_MAX || (own >= start && own < end) || count > (1u << 30);
}

int box_spec_validate(const struct box_spec *s, const char **ret_why)
{
        if (!s->user || !ident_name_valid(s->user))
                return *ret_why = "user name", -EINVAL;
        if (!s->home || !path_is_clean(s->home))
                return *ret_why = "home", -EINVAL;
        if (!(s->namespaces & NS_MOUNT) || (s->namespaces & ~NS_ALL))
                return *ret_why = "namespaces", -EINVAL;
        if (s->share > SHARE_USER || s->propagation > PROP_PRIVATE)
                return *ret_why = "share or propagation", -EINVAL;
        for (size_t i = 0; i < s->n_read_only; i++)
                if (!path_is_clean(s->read_only[i].path))
                        return *ret_why = "read_only path", -EINVAL;
        for (size_t i = 0; i < s->n_inaccessible; i++)
                if (!path_is_clean(s->inaccessible[i].path))
                        return *ret_why = "inaccessible path", -EINVAL;
        for (size_t i = 0; i < s->n_binds; i++)
                if (!path_is_clean(s->binds[i].src) || !path_is_clean(s->binds[i].dst))
                        return *ret_why = "bind path", -EINVAL;
        for (size_t i = 0; i < s->n_tmp_keep; i++)
                if (!tmp_keep_path_valid(s->tmp_keep[i].path))
                        return *ret_why = "tmp_keep path", -EINVAL;
        if (s->x11 > X11_NONE || s->display < -1 || s->display > 65535)
                return *ret_why = "x11 or display", -EINVAL;
        if (s->hostname && (!(s->namespaces & NS_UTS) || !hostname_valid(s->hostname)))
                return *ret_why = "hostname", -EINVAL;
        if (!s->tmpfs_size || !tmpfs_limit_valid(s->tmpfs_size, true) || !s->tmpfs_inodes ||
            !tmpfs_limit_valid(s->tmpfs_inodes, false))
                return *ret_why = "tmpfs_size or tmpfs_inodes", -EINVAL;
        if (!limits_valid(&s->limits))
                return *ret_why = "limits", -EINVAL;
        if (s->cgroup_view && (!path_is_clean(s->cgroup_view) || strcmp(s->cgroup_view, "/") == 0))
                return *ret_why = "cgroup view", -EINVAL;
        if (!(s->namespaces & NS_USER) && (s->subuid_count || s->subgid_count || s->user_root))
                return *ret_why = "subordinate ids or user_root without a user namespace", -EINVAL;
        if (subid_range_bad(s->uid, s->subuid_start, s->subuid_count) ||
            subid_range_bad(s->gid, s->subgid_start, s->subgid_count))
                return *ret_why = "subordinate id range", -EINVAL;
        if (validate_network(s, ret_why) < 0)
                return -EINVAL;
        return 0;
}

bool tmpfs_limit_valid(const char *s, bool percent_ok)
{
        unsigned long long v = 0;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (v > (1ULL << 40))
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (i == 0 || v == 0 || s[0] == '0')
                return false;
        if (s[i] == '\0')
                return true;
        if (s[i + 1] != '\0')
                return false;
        if (s[i] == '%')
                return percent_ok && v <= 100;
        return strchr("kKmMgG", s[i]) != NULL;
}

static bool paths_same(const struct spec_path *a, size_t na, const struct spec_path *b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (a[i].optional != b[i].optional || strcmp(a[i].path, b[i].path) != 0)
                        return false;
        return true;
}

static bool strv_same(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

bool box_spec_same_policy(const struct box_spec *a, const struct box_spec *b)
{
        if (a->uid != b->uid || a->gid != b->gid || a->namespaces != b->namespaces || a->share != b->share ||
            a->linger != b->linger || a->propagation != b->propagation || a->private_tmp != b->private_tmp ||
            a->x11 != b->x11 || a->hide_homes != b->hide_homes || a->subuid_start != b->subuid_start ||
            a->subuid_count != b->subuid_count || a->subgid_start != b->subgid_start ||
            a->subgid_count != b->subgid_count || a->user_root != b->user_root || a->network != b->network ||
            a->nat != b->nat || a->isolate != b->isolate || a->no_new_privs != b->no_new_privs ||
            a->cap_bounding != b->cap_bounding || a->cap_keep != b->cap_keep ||
            memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0)
                return false;
        if (!streq_ptr(a->user, b->user) || !streq_ptr(a->home, b->home) || !streq_ptr(a->hostname, b->hostname) ||
            !streq_ptr(a->tmpfs_size, b->tmpfs_size) || !streq_ptr(a->tmpfs_inodes, b->tmpfs_inodes) ||
            !streq_ptr(a->bridge, b->bridge) || !streq_ptr(a->gateway4, b->gateway4) ||
            !streq_ptr(a->gateway6, b->gateway6) || !streq_ptr(a->pool4, b->pool4) || !streq_ptr(a->pool6, b->pool6))
                return false;
        if (!paths_same(a->tmp_keep, a->n_tmp_keep, b->tmp_keep, b->n_tmp_keep) ||
            !paths_same(a->read_only, a->n_read_only, b->read_only, b->n_read_only) ||
            !paths_same(a->inaccessible, a->n_inaccessible, b->inaccessible, b->n_inaccessible) ||
            !strv_same(a->dns, a->n_dns, b->dns, b->n_dns) || a->n_binds != b->n_binds)
                return false;
        for (size_t i = 0; i < a->n_binds; i++) {
                const struct spec_bind *x = &a->binds[i], *y = &b->binds[i];

                if (x->ro != y->ro || x->optional != y->optional || strcmp(x->src, y->src) != 0 ||
                    strcmp(x->dst, y->dst) != 0)
                        return false;
        }
        return true;
}
