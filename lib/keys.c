/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy's keys: each one's name, scope, default and value check, and
 * the ${VAR} expansion that paths and host names go through. */
#include "keys.h"

#include <ctype.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "spec.h"
#include "util.h"

typedef int (*check_fn)(const char *value, char **ret_why);

static int check_bool(const char *v, char **why);
static int check_names(const char *v, char **why);
static int check_namespaces(const char *v, char **why);
static int check_share(const char *v, char **why);
static int check_linger(const char *v, char **why);
static int check_propagation(const char *v, char **why);
static int check_paths(const char *v, char **why);
static int check_tmp_keep(const char *v, char **why);
static int check_x11(const char *v, char **why);
static int check_binds(const char *v, char **why);
static int check_hostname(const char *v, char **why);
static int check_caps(const char *v, char **why);
static int check_network(const char *v, char **why);
static int check_ifname(const char *v, char **why);
static int check_gateway(const char *v, char **why);
static int check_addrs(const char *v, char **why);
static int check_pool4(const char *v, char **why);
static int check_pool6(const char *v, char **why);
static int check_prepared(const char *v, char **why);
static int check_prepared_linger(const char *v, char **why);
static int check_tmpfs_size(const char *v, char **why);
static int check_tmpfs_inodes(const char *v, char **why);

/* One check a limit: limit_parse() says what is wrong. */
#define LIMIT_CHECK(id, fn)                                                                                           \
        static int fn(const char *v, char **why)                                                                      \
        {                                                                                                             \
                uint64_t x;                                                                                           \
                return limit_parse(id, v, &x, why);                                                                   \
        }
LIMIT_CHECK(L_TASKS_MAX, check_tasks_max)
LIMIT_CHECK(L_MEMORY_MAX, check_memory_max)
LIMIT_CHECK(L_MEMORY_HIGH, check_memory_high)
LIMIT_CHECK(L_MEMORY_SWAP_MAX, check_memory_swap_max)
LIMIT_CHECK(L_CPU_WEIGHT, check_cpu_weight)
LIMIT_CHECK(L_CPU_MAX, check_cpu_max)
LIMIT_CHECK(L_IO_WEIGHT, check_io_weight)

static const struct key_def {
        const char *name;
        bool global;
        const char *def;
        check_fn check;
} keys[_K_MAX] = {
        [K_EXEMPT_USERS] = { "exempt_users", true, "root", check_names },
        [K_EXEMPT_GROUPS] = { "exempt_groups", true, "", check_names },
        [K_BOX] = { "box", false, "yes", check_bool },
        [K_NAMESPACES] = { "namespaces", false, "mount pid uts ipc user", check_namespaces },
        [K_SHARE] = { "share", false, "session", check_share },
        [K_LINGER] = { "linger", false, "0", check_linger },
        [K_PROPAGATION] = { "propagation", false, "slave", check_propagation },
        [K_PRIVATE_TMP] = { "private_tmp", false, "no", check_bool },
        [K_X11] = { "x11", false, "display", check_x11 },
        [K_TMP_KEEP] = { "tmp_keep", false, "", check_tmp_keep },
        [K_HIDE_HOMES] = { "hide_homes", false, "no", check_bool },
        [K_READ_ONLY] = { "read_only", false, "", check_paths },
        [K_INACCESSIBLE] = { "inaccessible", false, "", check_paths },
        [K_BIND] = { "bind", false, "", check_binds },
        [K_HOSTNAME] = { "hostname", false, "", check_hostname },
        [K_USER_ROOT] = { "user_root", false, "no", check_bool },
        [K_NO_NEW_PRIVS] = { "no_new_privs", false, "no", check_bool },
        [K_CAPABILITY_BOUNDING] = { "capability_bounding", false, "", check_caps },
        [K_NETWORK] = { "network", false, "none", check_network },
        [K_NAT] = { "nat", false, "no", check_bool },
        [K_BRIDGE] = { "bridge", false, "", check_ifname },
        [K_GATEWAY] = { "gateway", false, "", check_gateway },
        [K_ISOLATE] = { "isolate", false, "yes", check_bool },
        [K_DNS] = { "dns", false, "", check_addrs },
        [K_POOL4] = { "pool4", true, "10.213.0.0/16", check_pool4 },
        [K_POOL6] = { "pool6", true, "", check_pool6 },
        [K_PREPARED_BOXES] = { "prepared_boxes", true, "2", check_prepared },
        [K_PREPARED_LINGER] = { "prepared_linger", true, "30", check_prepared_linger },
        [K_TMPFS_SIZE] = { "tmpfs_size", false, "10%", check_tmpfs_size },
        [K_TMPFS_INODES] = { "tmpfs_inodes", false, "100k", check_tmpfs_inodes },
        [K_TASKS_MAX] = { "tasks_max", false, "", check_tasks_max },
        [K_MEMORY_MAX] = { "memory_max", false, "", check_memory_max },
        [K_MEMORY_HIGH] = { "memory_high", false, "", check_memory_high },
        [K_MEMORY_SWAP_MAX] = { "memory_swap_max", false, "", check_memory_swap_max },
        [K_CPU_WEIGHT] = { "cpu_weight", false, "", check_cpu_weight },
        [K_CPU_MAX] = { "cpu_max", false, "", check_cpu_max },
        [K_IO_WEIGHT] = { "io_weight", false, "", check_io_weight },
};
_Static_assert(K_IO_WEIGHT - K_TASKS_MAX == _L_MAX - 1, "the limit keys follow limit_defs");

const char *key_name(enum key_id k)
{
        return keys[k].name;
}

bool key_is_global(enum key_id k)
{
        return keys[k].global;
}

const char *key_default(enum key_id k)
{
        return keys[k].def;
}

int key_lookup(const char *name)
{
        /* Its name before boxes without a network were made ahead too. */
        if (strcmp(name, "prepared_networks") == 0)
                return K_PREPARED_BOXES;
        for (int k = 0; k < _K_MAX; k++)
                if (strcmp(keys[k].name, name) == 0)
                        return k;
        return -1;
}

int key_check(enum key_id k, const char *value, char **ret_why)
{
        return keys[k].check(value, ret_why);
}

/* ---- expansion ---------------------------------------------------------- */

int expand(const char *tmpl, const struct ident *id, char **ret, char **ret_why)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0;

        out = calloc(1, 1);
        if (!out)
                return -ENOMEM;
        for (const char *p = tmpl; *p;) {
                const char *piece;
                char num[16];
                size_t plen;
                char *n;

                if (p[0] == '$' && p[1] == '{') {
                        const char *end = strchr(p + 2, '}');
                        size_t vlen;

                        if (!end) {
                                xasprintf(ret_why, "'%s' has an unterminated ${", tmpl);
                                return -EINVAL;
                        }
                        vlen = (size_t)(end - (p + 2));
                        if (vlen == 4 && strncmp(p + 2, "USER", 4) == 0)
                                piece = id->name;
                        else if (vlen == 3 && strncmp(p + 2, "UID", 3) == 0) {
                                snprintf(num, sizeof(num), "%u", (unsigned)id->uid);
                                piece = num;
                        } else if (vlen == 4 && strncmp(p + 2, "HOME", 4) == 0)
                                piece = id->home;
                        else if (vlen == 5 && strncmp(p + 2, "GROUP", 5) == 0)
                                piece = id->group;
                        else {
                                xasprintf(ret_why, "'%s' uses ${%.*s}; known are ${USER}, ${UID}, ${HOME} and ${GROUP}",
                                          tmpl, (int)vlen, p + 2);
                                return -EINVAL;
                        }
                        plen = strlen(piece);
                        p = end + 1;
                } else {
                        piece = p;
                        plen = 1;
                        p++;
                }
                n = realloc(out, len + plen + 1);
                if (!n)
                        return -ENOMEM;
                out = n;
                memcpy(out + len, piece, plen);
                len += plen;
                out[len] = '\0';
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* A stand-in identity: static checks expand templates with it, so that a
 * template that could never give a clean path is caught by `nsbox check`. */
static const struct ident sample_ident = {
        .name = (char *)"user",
        .uid = 1000,
        .gid = 1000,
        .group = (char *)"user",
        .home = (char *)"/home/user",
};

/* ---- value checks ------------------------------------------------------- */

static int check_bool(const char *v, char **why)
{
        if (parse_bool(v) < 0) {
                xasprintf(why, "'%s' is not a boolean; write yes or no", v);
                return -EINVAL;
        }
        return 0;
}

static int check_names(const char *v, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!ident_name_valid(w[i])) {
                        xasprintf(why, "'%s' is not a valid user or group name", w[i]);
                        r = -EINVAL;
                        break;
                }
        strv_free(w);
        return r;
}

static int check_namespaces(const char *v, char **why)
{
        char **w = NULL;
        size_t n = 0;
        unsigned ns = 0;
        int r = split_words(v, &w, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++) {
                unsigned f = namespace_flag(w[i]);

                if (!f) {
                        _cleanup_free_ char *all = NULL;

                        r = namespaces_format(NS_ALL, &all);
                        if (r == 0) {
                                xasprintf(why, "'%s' is not a namespace this version can box; write a list of %s", w[i],
                                          all);
                                r = -EINVAL;
                        }
                }
                ns |= f;
        }
        strv_free(w);
        if (r == 0 && !(ns & NS_MOUNT)) {
                xasprintf(why, "'%s' lacks mount; every box has its own mount namespace", v);
                r = -EINVAL;
        }
        return r;
}

/* One of an enum's names: "'V' is not WHAT; write A, B or C". */
static int check_enum(const struct enum_names *e, const char *what, const char *v, char **why)
{
        _cleanup_free_ char *choices = NULL;

        if (enum_from_string(e, v) >= 0)
                return 0;
        if (enum_choices(e, &choices) < 0)
                return -ENOMEM;
        xasprintf(why, "'%s' is not %s; write %s", v, what, choices);
        return -EINVAL;
}

static int check_share(const char *v, char **why)
{
        return check_enum(&share_names, "a sharing mode", v, why);
}

/* A whole number from 0 to max, of what. */
static int check_count(const char *v, unsigned long max, const char *what, char **why)
{
        unsigned long x;

        if (parse_uint(v, max, &x) < 0) {
                xasprintf(why, "'%s' is not a number of %s from 0 to %lu", v, what, max);
                return -EINVAL;
        }
        return 0;
}

static int check_linger(const char *v, char **why)
{
        return check_count(v, LINGER_MAX, "seconds", why);
}

_Static_assert(PREPARED_DEFAULT == 2, "keys[] gives prepared_boxes its default as \"2\"");
_Static_assert(PREPARED_LINGER_DEFAULT == 30, "keys[] gives prepared_linger its default as \"30\"");

static int check_prepared(const char *v, char **why)
{
        return check_count(v, PREPARED_MAX, "boxes", why);
}

static int check_prepared_linger(const char *v, char **why)
{
        return check_count(v, PREPARED_LINGER_MAX, "seconds", why);
}

static int check_tmpfs_size(const char *v, char **why)
{
        if (!tmpfs_limit_valid(v, true)) {
                xasprintf(why, "'%s' is not a tmpfs size; write bytes with k, m or g (512m), or a share of RAM (10%%)",
                          v);
                return -EINVAL;
        }
        return 0;
}

static int check_tmpfs_inodes(const char *v, char **why)
{
        if (!tmpfs_limit_valid(v, false)) {
                xasprintf(why, "'%s' is not a number of inodes; write a positive number with k, m or g (100k)", v);
                return -EINVAL;
        }
        return 0;
}

static int check_propagation(const char *v, char **why)
{
        return check_enum(&propagation_names, "a propagation", v, why);
}

/* Expand a path template and insist the result is clean and absolute. */
int expand_path(const char *tmpl, const struct ident *id, char **ret, char **why)
{
        _cleanup_free_ char *p = NULL;
        int r;

        r = expand(tmpl, id, &p, why);
        if (r < 0)
                return r;
        if (p[0] != '/') {
                xasprintf(why, "'%s' is not an absolute path; write one such as /srv/data or ${HOME}/data", tmpl);
                return -EINVAL;
        }
        if (!path_is_clean(p)) {
                xasprintf(why,
                          "'%s' is not a clean path; write it without '.', '..', '//', a trailing '/', "
                          "white space, ':' or ','",
                          tmpl);
                return -EINVAL;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* display: the login's own X socket. */
static int check_x11(const char *v, char **why)
{
        return check_enum(&x11_names, "an x11 choice", v, why);
}

/* Absolute, clean paths once expanded, each optional with a leading '-';
 * for tmp_keep, below /tmp or /var/tmp. */
static int check_path_list(const char *v, bool below_tmp, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *p = NULL;

                r = expand_path(w[i][0] == '-' ? w[i] + 1 : w[i], &sample_ident, &p, why);
                if (r >= 0 && below_tmp && !tmp_keep_path_valid(p)) {
                        xasprintf(why, "'%s' is not below /tmp or /var/tmp", w[i]);
                        r = -EINVAL;
                }
        }
        strv_free(w);
        return r;
}

static int check_tmp_keep(const char *v, char **why)
{
        return check_path_list(v, true, why);
}

static int check_paths(const char *v, char **why)
{
        return check_path_list(v, false, why);
}

static int split_bind(const char *word, char **ret_src, char **ret_dst, bool *ret_ro, bool *ret_optional, char **why)
{
        _cleanup_free_ char *copy = NULL;
        char *src, *dst, *mode;
        bool optional = false;

        if (xstrdup(&copy, word) < 0)
                return -ENOMEM;
        src = copy;
        if (*src == '-') {
                optional = true;
                src++;
        }
        dst = strchr(src, ':');
        if (!dst) {
                xasprintf(why, "'%s' is not SRC:DST[:ro]", word);
                return -EINVAL;
        }
        *dst++ = '\0';
        mode = strchr(dst, ':');
        if (mode) {
                *mode++ = '\0';
                if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0) {
                        xasprintf(why, "'%s' ends in ':%s'; the only options are :ro and :rw", word, mode);
                        return -EINVAL;
                }
        }
        if (xstrdup(ret_src, src) < 0)
                return -ENOMEM;
        if (xstrdup(ret_dst, dst) < 0) {
                free(*ret_src);
                return -ENOMEM;
        }
        *ret_ro = mode && strcmp(mode, "ro") == 0;
        *ret_optional = optional;
        return 0;
}

int for_each_bind(const char *v, const struct ident *id, struct box_spec *spec, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *s = NULL, *d = NULL, *es = NULL, *ed = NULL;
                bool ro, optional;

                r = split_bind(w[i], &s, &d, &ro, &optional, why);
                if (r >= 0)
                        r = expand_path(s, id, &es, why);
                if (r >= 0)
                        r = expand_path(d, id, &ed, why);
                if (r >= 0 && spec)
                        r = spec_bind_push(spec, es, ed, ro, optional);
        }
        strv_free(w);
        return r;
}

static int check_binds(const char *v, char **why)
{
        return for_each_bind(v, &sample_ident, NULL, why);
}

int parse_caps(const char *v, bool *ret_set, uint64_t *ret_keep, char **ret_why)
{
        _cleanup_free_ char *copy = NULL;
        uint64_t keep = 0;
        char *save = NULL;

        if (xstrdup(&copy, v) < 0)
                return -ENOMEM;
        if (!*v) {
                *ret_set = false;
                *ret_keep = 0;
                return 0;
        }
        if (strcmp(v, "none") != 0)
                for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
                        cap_value_t c;

                        if (cap_from_name(w, &c) < 0 || c < 0 || c > 63) {
                                xasprintf(ret_why, "'%s' is not a capability; write names such as cap_net_raw,cap_kill, or none",
                                          w);
                                return -EINVAL;
                        }
                        keep |= 1ULL << c;
                }
        *ret_set = true;
        *ret_keep = keep;
        return 0;
}

static int check_caps(const char *v, char **why)
{
        bool set;
        uint64_t keep;

        return parse_caps(v, &set, &keep, why);
}

static int check_network(const char *v, char **why)
{
        return check_enum(&network_names, "a network", v, why);
}

static int check_ifname(const char *v, char **why)
{
        if (*v && !ifname_valid(v)) {
                xasprintf(why, "'%s' is not an interface name (at most 15 characters, no '/', ':' or blanks)", v);
                return -EINVAL;
        }
        return 0;
}

/* Each word an IPv4 or IPv6 address; with one_per_family, at most one of each. */
static int check_addr_list(const char *v, bool one_per_family, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int seen4 = 0, seen6 = 0, r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct addr a;

                if (addr_parse(w[i], &a) < 0) {
                        xasprintf(why, "'%s' is not an IPv4 or IPv6 address", w[i]);
                        r = -EINVAL;
                } else if (one_per_family && ((a.family == AF_INET ? ++seen4 : ++seen6) > 1)) {
                        xasprintf(why, "'%s': give at most one IPv4 and one IPv6 gateway", v);
                        r = -EINVAL;
                }
        }
        strv_free(w);
        return r;
}

static int check_gateway(const char *v, char **why)
{
        return check_addr_list(v, true, why);
}

static int check_addrs(const char *v, char **why)
{
        return check_addr_list(v, false, why);
}

static int check_pool(const char *v, int family, unsigned max_prefix, char **why)
{
        struct cidr c;

        if (!*v && family == AF_INET6)
                return 0;
        if (cidr_parse(v, &c) < 0 || c.base.family != family || c.prefix > max_prefix) {
                xasprintf(why, "'%s' is not an %s network with a prefix of at most /%u, such as %s", v,
                          family == AF_INET ? "IPv4" : "IPv6", max_prefix,
                          family == AF_INET ? "10.213.0.0/16" : "fd00:213::/64");
                return -EINVAL;
        }
        return 0;
}

static int check_pool4(const char *v, char **why)
{
        return check_pool(v, AF_INET, 30, why);
}

static int check_pool6(const char *v, char **why)
{
        return check_pool(v, AF_INET6, 126, why);
}

static int check_hostname(const char *v, char **why)
{
        _cleanup_free_ char *h = NULL;
        int r;

        if (!*v)
                return 0;
        r = expand(v, &sample_ident, &h, why);
        if (r < 0)
                return r;
        if (!hostname_valid(h)) {
                xasprintf(why, "'%s' does not give a valid host name (letters, digits, '-' and '.', at most 64)", v);
                return -EINVAL;
        }
        return 0;
}

