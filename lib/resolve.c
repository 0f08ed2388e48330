/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy for one user: its sections applied in order (global, default,
 * the user's groups, the user), then turned into a box spec. */
#include "policy.h"

#include <strings.h>
#include <sys/param.h>
#include <sys/socket.h>

#include "keys.h"
#include "netaddr.h"
#include "subid.h"
#include "util.h"

/* ---- resolution --------------------------------------------------------- */

static void apply_section(const struct section *s, struct resolved *r)
{
        for (size_t j = 0; j < s->n_entries; j++) {
                enum key_id k = s->entries[j].key;
                r->value[k] = s->entries[j].value;
                r->file[k] = s->entries[j].file;
                r->section[k] = s->name;
        }
}

int policy_group_names(const struct policy *p, char ***ret, size_t *ret_n, bool *ret_primary)
{
        char **names = NULL;
        size_t n = 0;
        bool primary = false;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < p->n_sections; i++) {
                const struct section *sec = &p->sections[i];

                if (sec->kind == SEC_GROUP)
                        r = strv_push(&names, &n, sec->arg);
                for (size_t j = 0; r >= 0 && j < sec->n_entries; j++) {
                        const struct entry *e = &sec->entries[j];

                        if (strstr(e->value, "${GROUP}"))
                                primary = true;
                        if (e->key == K_EXEMPT_GROUPS) {
                                char **w = NULL;
                                size_t nw = 0;

                                r = split_words(e->value, &w, &nw);
                                for (size_t k = 0; r >= 0 && k < nw; k++)
                                        r = strv_push(&names, &n, w[k]);
                                strv_free(w);
                        }
                }
        }
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        *ret_n = n;
        *ret_primary = primary;
        return 0;
}

static bool in_groups(const struct ident *id, const char *name)
{
        /* iniparser lowercases section names, so they match case-insensitively. */
        for (size_t i = 0; i < id->n_groups; i++)
                if (strcasecmp(id->groups[i], name) == 0)
                        return true;
        return false;
}

void policy_resolve(const struct policy *p, const struct ident *id, struct resolved *ret)
{
        struct resolved r = {};

        for (int k = 0; k < _K_MAX; k++)
                r.value[k] = key_default(k);
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == SEC_GLOBAL)
                        apply_section(&p->sections[i], &r);
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == SEC_DEFAULT)
                        apply_section(&p->sections[i], &r);
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == SEC_GROUP && in_groups(id, p->sections[i].arg))
                        apply_section(&p->sections[i], &r);
        for (size_t i = 0; i < p->n_sections; i++)
                if (p->sections[i].kind == SEC_USER && strcasecmp(p->sections[i].arg, id->name) == 0)
                        apply_section(&p->sections[i], &r);
        *ret = r;
}

/* Is any word of the space-separated list accepted by match()? */
static bool any_word(const char *list, bool (*match)(const char *word, const void *arg), const void *arg)
{
        char **w = NULL;
        size_t n = 0;
        bool found = false;

        if (split_words(list, &w, &n) < 0)
                return false;
        for (size_t i = 0; i < n && !found; i++)
                found = match(w[i], arg);
        strv_free(w);
        return found;
}

static bool is_user(const char *word, const void *arg)
{
        return strcmp(word, ((const struct ident *)arg)->name) == 0;
}

static bool is_group_of(const char *word, const void *arg)
{
        const struct ident *id = arg;

        /* Values keep their case, and so does this match. */
        for (size_t i = 0; i < id->n_groups; i++)
                if (strcmp(id->groups[i], word) == 0)
                        return true;
        return false;
}

bool policy_is_exempt(const struct policy *p, const struct ident *id)
{
        struct resolved r;

        policy_resolve(p, id, &r);
        return any_word(r.value[K_EXEMPT_USERS], is_user, id) || any_word(r.value[K_EXEMPT_GROUPS], is_group_of, id);
}

bool policy_wants_box(const struct resolved *r)
{
        return parse_bool(r->value[K_BOX]) == 1;
}

static int build_paths(const char *v, const struct ident *id, struct spec_path **out, size_t *n_out, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *p = NULL;
                bool optional = w[i][0] == '-';

                r = expand_path(optional ? w[i] + 1 : w[i], id, &p, why);
                if (r >= 0)
                        r = spec_path_push(out, n_out, p, optional);
        }
        strv_free(w);
        return r;
}

static int build_subids(struct box_spec *s, const struct ident *id, char **why)
{
        int r;

        r = subid_lookup(SUBUID_FILE, id->name, id->uid, &s->subuid_start, &s->subuid_count);
        if (r >= 0)
                r = subid_lookup(SUBGID_FILE, id->name, id->gid, &s->subgid_start, &s->subgid_count);
        if (r < 0) {
                xasprintf(why, "cannot read %s or %s: %s", SUBUID_FILE, SUBGID_FILE, strerror(-r));
                return r;
        }
        if (subid_range_bad(id->uid, s->subuid_start, s->subuid_count) ||
            subid_range_bad(id->gid, s->subgid_start, s->subgid_count)) {
                xasprintf(why, "the subordinate range of %s in %s or %s holds id 0 or the user's own id", id->name,
                          SUBUID_FILE, SUBGID_FILE);
                return -EINVAL;
        }
        return 0;
}

static int build_network(struct box_spec *s, const struct resolved *res, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r;

        /* Every value was checked at load: each names one. */
        s->network = (enum network)MAX(enum_from_string(&network_names, res->value[K_NETWORK]), 0);
        /* "net" in namespaces without a network key: a box of its own, with lo. */
        if (s->network == NET_NONE && (s->namespaces & NS_NET))
                s->network = NET_LOOPBACK;
        if (s->network != NET_NONE)
                s->namespaces |= NS_NET;
        s->nat = parse_bool(res->value[K_NAT]) == 1;
        s->isolate = parse_bool(res->value[K_ISOLATE]) == 1;
        r = split_words(res->value[K_DNS], &s->dns, &s->n_dns);
        if (r < 0)
                return r;
        if (s->network != NET_VETH) {
                if (s->nat || res->value[K_BRIDGE][0] || res->value[K_GATEWAY][0]) {
                        xasprintf(why, "nat, bridge and gateway need network = veth");
                        return -EINVAL;
                }
                return 0;
        }
        if ((res->value[K_BRIDGE][0] && xstrdup(&s->bridge, res->value[K_BRIDGE]) < 0) ||
            xstrdup(&s->pool4, res->value[K_POOL4]) < 0 ||
            (res->value[K_POOL6][0] && xstrdup(&s->pool6, res->value[K_POOL6]) < 0))
                return -ENOMEM;
        if (s->nat && s->bridge) {
                xasprintf(why, "nat and bridge exclude each other: a bridged box is routed by the bridge's network");
                return -EINVAL;
        }
        r = split_words(res->value[K_GATEWAY], &w, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct addr a;

                if (addr_parse(w[i], &a) < 0)
                        r = -EINVAL;
                else
                        r = xstrdup(a.family == AF_INET ? &s->gateway4 : &s->gateway6, w[i]);
        }
        strv_free(w);
        return r;
}

int policy_build_spec(const struct resolved *res, const struct ident *id, struct box_spec *ret, char **ret_why)
{
        struct box_spec s = {};
        unsigned long linger, v;
        char **w = NULL;
        size_t n = 0;
        int r;

        r = split_words(res->value[K_NAMESPACES], &w, &n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                s.namespaces |= namespace_flag(w[i]);
        strv_free(w);
        if (r < 0)
                return r;
        s.uid = id->uid;
        s.gid = id->gid;
        s.share = (enum share)MAX(enum_from_string(&share_names, res->value[K_SHARE]), 0);
        s.propagation = (enum propagation)MAX(enum_from_string(&propagation_names, res->value[K_PROPAGATION]), 0);
        if (parse_uint(res->value[K_LINGER], LINGER_MAX, &linger) < 0)
                linger = 0;
        s.linger = (unsigned)linger;
        s.private_tmp = parse_bool(res->value[K_PRIVATE_TMP]) == 1;
        s.hide_homes = parse_bool(res->value[K_HIDE_HOMES]) == 1;
        s.x11 = (enum x11)MAX(enum_from_string(&x11_names, res->value[K_X11]), 0);
        s.display = -1;         /* the module's to say */
        /* Sent only when they are not the defaults: a helper older than
         * the keys then still takes the login. */
        s.prepared = -1;
        s.prepared_linger = -1;
        if (parse_uint(res->value[K_PREPARED_BOXES], PREPARED_MAX, &v) == 0 && v != PREPARED_DEFAULT)
                s.prepared = (int)v;
        if (parse_uint(res->value[K_PREPARED_LINGER], PREPARED_LINGER_MAX, &v) == 0 && v != PREPARED_LINGER_DEFAULT)
                s.prepared_linger = (int)v;
        if (xstrdup(&s.user, id->name) < 0 || xstrdup(&s.home, id->home) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = build_paths(res->value[K_READ_ONLY], id, &s.read_only, &s.n_read_only, ret_why);
        if (r >= 0)
                r = build_paths(res->value[K_INACCESSIBLE], id, &s.inaccessible, &s.n_inaccessible, ret_why);
        if (r >= 0 && s.private_tmp)
                r = build_paths(res->value[K_TMP_KEEP], id, &s.tmp_keep, &s.n_tmp_keep, ret_why);
        for (size_t i = 0; r >= 0 && i < s.n_tmp_keep; i++)
                if (!tmp_keep_path_valid(s.tmp_keep[i].path)) {
                        xasprintf(ret_why, "tmp_keep path '%s' is not below /tmp or /var/tmp", s.tmp_keep[i].path);
                        r = -EINVAL;
                }
        if (r >= 0)
                r = for_each_bind(res->value[K_BIND], id, &s, ret_why);
        if (r >= 0 && res->value[K_HOSTNAME][0]) {
                r = expand(res->value[K_HOSTNAME], id, &s.hostname, ret_why);
                if (r >= 0 && !hostname_valid(s.hostname)) {
                        xasprintf(ret_why, "hostname '%s' is not a valid host name", s.hostname);
                        r = -EINVAL;
                }
                if (r >= 0 && !(s.namespaces & NS_UTS)) {
                        xasprintf(ret_why, "hostname is set but uts is not in namespaces");
                        r = -EINVAL;
                }
        }
        if (r >= 0 && (xstrdup(&s.tmpfs_size, res->value[K_TMPFS_SIZE]) < 0 ||
                       xstrdup(&s.tmpfs_inodes, res->value[K_TMPFS_INODES]) < 0))
                r = -ENOMEM;
        for (int i = 0; r >= 0 && i < _L_MAX; i++)
                r = limit_parse(i, res->value[K_TASKS_MAX + i], &s.limits.v[i], ret_why);
        if (r >= 0 && s.limits.v[L_MEMORY_HIGH] != LIMIT_UNSET && s.limits.v[L_MEMORY_MAX] != LIMIT_UNSET &&
            s.limits.v[L_MEMORY_HIGH] > s.limits.v[L_MEMORY_MAX]) {
                xasprintf(ret_why, "memory_high is above memory_max: the box would be killed before it is slowed");
                r = -EINVAL;
        }
        s.user_root = parse_bool(res->value[K_USER_ROOT]) == 1;
        s.no_new_privs = parse_bool(res->value[K_NO_NEW_PRIVS]) == 1;
        if (r >= 0)
                r = parse_caps(res->value[K_CAPABILITY_BOUNDING], &s.cap_bounding, &s.cap_keep, ret_why);
        if (r >= 0 && s.user_root && !(s.namespaces & NS_USER)) {
                xasprintf(ret_why, "user_root = yes needs user in namespaces");
                r = -EINVAL;
        }
        if (r >= 0 && (s.namespaces & NS_USER))
                r = build_subids(&s, id, ret_why);
        if (r >= 0)
                r = build_network(&s, res, ret_why);
        if (r < 0) {
                box_spec_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}
