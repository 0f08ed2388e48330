/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <iniparser/iniparser.h>
#include <libgen.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "paths.h"
#include "subid.h"
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

#define LINGER_MAX 604800

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
                        xasprintf(why, "'%s' is not a namespace this version can box; write a list of mount, pid, uts, ipc and user",
                                  w[i]);
                        r = -EINVAL;
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

static int check_share(const char *v, char **why)
{
        if (strcmp(v, "session") != 0 && strcmp(v, "user") != 0) {
                xasprintf(why, "'%s' is not a sharing mode; write session or user", v);
                return -EINVAL;
        }
        return 0;
}

static int check_linger(const char *v, char **why)
{
        unsigned long x;

        if (parse_uint(v, LINGER_MAX, &x) < 0) {
                xasprintf(why, "'%s' is not a number of seconds from 0 to %d", v, LINGER_MAX);
                return -EINVAL;
        }
        return 0;
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
        if (strcmp(v, "slave") != 0 && strcmp(v, "private") != 0) {
                xasprintf(why, "'%s' is not a propagation; write slave or private", v);
                return -EINVAL;
        }
        return 0;
}

/* Expand a path template and insist the result is clean and absolute. */
static int expand_path(const char *tmpl, const struct ident *id, char **ret, char **why)
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

static int check_x11(const char *v, char **why)
{
        if (strcmp(v, "display") != 0 && strcmp(v, "all") != 0 && strcmp(v, "none") != 0) {
                xasprintf(why, "'%s' is not an x11 choice; write display (the login's own X socket), all or none",
                          v);
                return -EINVAL;
        }
        return 0;
}

/* Paths below /tmp or /var/tmp, kept in a private one. */
static int check_tmp_keep(const char *v, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *p = NULL;

                r = expand_path(w[i][0] == '-' ? w[i] + 1 : w[i], &sample_ident, &p, why);
                if (r >= 0 && !tmp_keep_path_valid(p)) {
                        xasprintf(why, "'%s' is not below /tmp or /var/tmp", w[i]);
                        r = -EINVAL;
                }
        }
        strv_free(w);
        return r;
}

static int check_paths(const char *v, char **why)
{
        char **w = NULL;
        size_t n = 0;
        int r = split_words(v, &w, &n);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *p = NULL;
                r = expand_path(w[i][0] == '-' ? w[i] + 1 : w[i], &sample_ident, &p, why);
        }
        strv_free(w);
        return r;
}

/* SRC:DST[:ro|:rw], SRC optionally prefixed with '-'. */
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

static int for_each_bind(const char *v, const struct ident *id, struct box_spec *spec, char **why)
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
        if (strcmp(v, "none") != 0 && strcmp(v, "loopback") != 0 && strcmp(v, "veth") != 0) {
                xasprintf(why, "'%s' is not a network; write none, loopback or veth", v);
                return -EINVAL;
        }
        return 0;
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

/* ---- loading ------------------------------------------------------------ */

static int push_error(struct policy *p, const char *fmt, ...) _printf_(2, 3);
static int push_error(struct policy *p, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_push(&p->errors, &p->n_errors, msg);
}

static struct section *section_get(struct policy *p, const char *name, enum section_kind kind, const char *arg)
{
        struct section *n;

        for (size_t i = 0; i < p->n_sections; i++)
                if (strcmp(p->sections[i].name, name) == 0)
                        return &p->sections[i];
        n = realloc(p->sections, (p->n_sections + 1) * sizeof(*n));
        if (!n)
                return NULL;
        p->sections = n;
        n = &p->sections[p->n_sections];
        *n = (struct section){ .kind = kind };
        n->name = strdup(name);
        n->arg = arg ? strdup(arg) : NULL;
        if (!n->name || (arg && !n->arg)) {
                free(n->name);
                free(n->arg);
                return NULL;
        }
        p->n_sections++;
        return n;
}

static int section_set(struct section *s, enum key_id k, const char *value, const char *file)
{
        struct entry *n;
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_entries; i++)
                if (s->entries[i].key == k) {
                        free(s->entries[i].value);
                        s->entries[i].value = v;
                        s->entries[i].file = file;
                        return 0;
                }
        n = realloc(s->entries, (s->n_entries + 1) * sizeof(*n));
        if (!n) {
                free(v);
                return -ENOMEM;
        }
        s->entries = n;
        s->entries[s->n_entries++] = (struct entry){ .key = k, .value = v, .file = file };
        return 0;
}

static int parse_section_name(const char *name, enum section_kind *ret_kind, const char **ret_arg)
{
        if (strcmp(name, "global") == 0)
                *ret_kind = SEC_GLOBAL, *ret_arg = NULL;
        else if (strcmp(name, "default") == 0)
                *ret_kind = SEC_DEFAULT, *ret_arg = NULL;
        else if (strncmp(name, "group:", 6) == 0 && ident_name_valid(name + 6))
                *ret_kind = SEC_GROUP, *ret_arg = name + 6;
        else if (strncmp(name, "user:", 5) == 0 && ident_name_valid(name + 5))
                *ret_kind = SEC_USER, *ret_arg = name + 5;
        else
                return -EINVAL;
        return 0;
}

static int lookup_key(const char *name)
{
        for (int k = 0; k < _K_MAX; k++)
                if (strcmp(keys[k].name, name) == 0)
                        return k;
        return -1;
}

/* iniparser reports through one process-wide callback with no context
 * pointer, so the message is parked in a thread-local buffer and the
 * callback is reset right after the load. */
static __thread char ini_error[512];

_printf_(1, 2) static int ini_error_cb(const char *fmt, ...)
{
        size_t len = strlen(ini_error);
        va_list ap;
        int r;

        if (len >= sizeof(ini_error) - 1)
                return 0;
        va_start(ap, fmt);
        r = vsnprintf(ini_error + len, sizeof(ini_error) - len, fmt, ap);
        va_end(ap);
        return r;
}

/* Make iniparser's message name the file rather than /proc/self/fd/N. */
static void tidy_ini_error(char *msg)
{
        char *p;

        while ((p = strchr(msg, '\n')))
                *p = ' ';
        p = strstr(msg, "/proc/self/fd/");
        if (p) {
                char *e = p + strlen("/proc/self/fd/");
                while (*e >= '0' && *e <= '9')
                        e++;
                memmove(p, "the file", 8);
                memmove(p + 8, e, strlen(e) + 1);
        }
}

static int add_key(struct policy *p, struct section *sec, const char *shown, const char *sname, const char *kname,
                   const char *value)
{
        _cleanup_free_ char *why = NULL;
        int k = lookup_key(kname);
        int r;

        if (k < 0)
                return push_error(p, "%s: [%s] %s: unknown key", shown, sname, kname);
        if (keys[k].global != (sec->kind == SEC_GLOBAL))
                return push_error(p, "%s: [%s] %s: this key belongs in %s", shown, sname, kname,
                                  keys[k].global ? "[global]" : "[default], [group:NAME] or [user:NAME]");
        r = keys[k].check(value, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return push_error(p, "%s: [%s] %s: %s", shown, sname, kname, why ? why : "invalid value");
        return section_set(sec, (enum key_id)k, value, p->files[p->n_files - 1]);
}

/* What iniparser does not report: binary data (it reads C strings, so a
 * NUL would silently cut a line), and a key set twice in one section (it
 * keeps the last without a word, which could silently weaken a policy).
 * So the file is read once more, by us. */
static int scan_text(struct policy *p, int fd, const char *shown)
{
        struct seen {
                char *section, *key;
                unsigned line;
        } *seen = NULL;
        size_t n_seen = 0;
        _cleanup_free_ char *section = NULL, *line = NULL;
        size_t cap = 0;
        unsigned lineno = 0;
        FILE *f;
        int dfd, r = 0;

        dfd = dup(fd);
        if (dfd < 0)
                return negative_errno();
        if (lseek(dfd, 0, SEEK_SET) < 0) {
                close(dfd);
                return negative_errno();
        }
        f = fdopen(dfd, "re");
        if (!f) {
                close(dfd);
                return -ENOMEM;
        }
        section = strdup("");
        for (ssize_t len; r >= 0 && section && (len = getline(&line, &cap, f)) > 0;) {
                char *b = line, *e;

                lineno++;
                /* iniparser reads lines as C strings: a NUL or other binary
                 * byte would silently cut or bend what it sees. */
                for (ssize_t i = 0; i < len; i++) {
                        unsigned char ch = (unsigned char)line[i];
                        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f) {
                                r = push_error(p, "%s: line %u holds binary data (byte 0x%02x); a policy is text", shown,
                                               lineno, ch);
                                goto done;
                        }
                }
                while (*b == ' ' || *b == '\t')
                        b++;
                if (*b == '[' && (e = strchr(b, ']'))) {
                        free(section);
                        section = strndup(b + 1, (size_t)(e - b - 1));
                        for (char *c = section; c && *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        continue;
                }
                if (*b == '#' || *b == ';' || !(e = strchr(b, '=')))
                        continue;
                while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                *e = '\0';
                for (char *c = b; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                for (size_t i = 0; i < n_seen; i++)
                        if (strcmp(seen[i].section, section) == 0 && strcmp(seen[i].key, b) == 0) {
                                r = push_error(p, "%s: [%s] %s: set twice (lines %u and %u); keep one", shown,
                                               section, b, seen[i].line, lineno);
                                break;
                        }
                {
                        struct seen *ns = realloc(seen, (n_seen + 1) * sizeof(*seen));
                        if (!ns) {
                                r = -ENOMEM;
                                break;
                        }
                        seen = ns;
                        seen[n_seen++] = (struct seen){ strdup(section), strdup(b), lineno };
                }
        }
done:
        fclose(f);
        for (size_t i = 0; i < n_seen; i++) {
                free(seen[i].section);
                free(seen[i].key);
        }
        free(seen);
        return r;
}

int policy_load_fd(struct policy *p, int fd, const char *shown)
{
        char path[64];
        dictionary *d;
        int r;

        r = strv_push(&p->files, &p->n_files, shown);
        if (r < 0)
                return r;
        /* Our own read first: binary data is named as such rather than as
         * whatever iniparser would make of it. */
        {
                size_t before = p->n_errors;

                r = scan_text(p, fd, shown);
                if (r < 0)
                        return r;
                if (p->n_errors > before && strstr(p->errors[p->n_errors - 1], "binary data"))
                        return 0;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ini_error[0] = '\0';
        iniparser_set_error_callback(ini_error_cb);
        d = iniparser_load(path);
        iniparser_set_error_callback(NULL);
        if (!d) {
                tidy_ini_error(ini_error);
                return push_error(p, "%s: cannot be parsed: %s", shown, ini_error[0] ? ini_error : "unreadable");
        }

        /* Walk the dictionary in insertion order: a section entry has no ':'
         * and no value; a key is "SECTION:KEY".  Section names may contain
         * ':' themselves, so a key belongs to the longest section seen. */
        for (ssize_t i = 0; i < (ssize_t)d->size && r >= 0; i++) {
                const char *name = d->key[i], *best = NULL, *sec_arg;
                enum section_kind kind;
                struct section *sec;
                size_t best_len = 0;

                if (!name)
                        continue;
                if (!d->val[i]) {
                        if (parse_section_name(name, &kind, &sec_arg) < 0)
                                r = push_error(p, "%s: [%s]: unknown section; write [global], [default], [group:NAME] or [user:NAME]",
                                               shown, name);
                        else if (!section_get(p, name, kind, sec_arg))
                                r = -ENOMEM;
                        continue;
                }
                for (ssize_t j = 0; j < i; j++) {
                        const char *s = d->key[j];
                        size_t l;

                        if (!s || d->val[j])
                                continue;
                        l = strlen(s);
                        if (l > best_len && strncmp(name, s, l) == 0 && name[l] == ':')
                                best = s, best_len = l;
                }
                if (!best) {
                        r = push_error(p, "%s: key '%s' stands outside any section", shown,
                                       name[0] == ':' ? name + 1 : name);
                        continue;
                }
                if (parse_section_name(best, &kind, &sec_arg) < 0)
                        continue;       /* reported with its section */
                sec = section_get(p, best, kind, sec_arg);
                if (!sec) {
                        r = -ENOMEM;
                        break;
                }
                r = add_key(p, sec, shown, best, name + best_len + 1, d->val[i]);
        }
        iniparser_freedict(d);
        return r < 0 ? r : 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dropins(struct policy *p, const char *dirpath)
{
        _cleanup_close_ int parent = -1, dfd = -1;
        _cleanup_free_ char *why = NULL, *dpath = NULL;
        char **names = NULL;
        size_t n = 0;
        DIR *dir;
        int r;

        r = open_trusted(dirpath, O_PATH | O_DIRECTORY, &parent, &why);
        if (r < 0)
                return push_error(p, "%s", why ? why : strerror(-r));
        r = openat_trusted(parent, dirpath, "nsbox.d", O_RDONLY | O_DIRECTORY, &dfd, &why);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return push_error(p, "%s", why ? why : strerror(-r));
        if (xasprintf(&dpath, "%s/nsbox.d", strcmp(dirpath, "/") == 0 ? "" : dirpath) < 0)
                return -ENOMEM;
        dir = fdopendir(dfd);
        if (!dir)
                return negative_errno();
        dfd = -1;       /* owned by dir now */
        for (struct dirent *de; (de = readdir(dir));) {
                size_t l = strlen(de->d_name);

                if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
                        continue;
                r = strv_push(&names, &n, de->d_name);
                if (r < 0)
                        break;
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *shown = NULL, *w = NULL;

                if (xasprintf(&shown, "%s/%s", dpath, names[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = openat_trusted(dirfd(dir), dpath, names[i], O_RDONLY, &fd, &w);
                if (r < 0) {
                        r = push_error(p, "%s", w ? w : strerror(-r));
                        continue;
                }
                r = policy_load_fd(p, fd, shown);
        }
        closedir(dir);
        strv_free(names);
        return r < 0 ? r : 0;
}

int policy_load(const char *path, struct policy *ret)
{
        struct policy p = {};
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *why = NULL, *copy = NULL;
        int r;

        r = open_trusted(path, O_RDONLY, &fd, &why);
        if (r < 0) {
                if (push_error(&p, "%s", why ? why : strerror(-r)) < 0)
                        r = -ENOMEM;
                *ret = p;
                return r == -EINVAL ? -EINVAL : r;
        }
        r = policy_load_fd(&p, fd, path);
        /* A main file with no section at all is most likely truncated. */
        if (r >= 0 && p.n_sections == 0 && p.n_errors == 0)
                r = push_error(&p, "%s: holds no section; an empty policy is probably a truncated file (write at "
                                   "least [default])", path);
        if (r >= 0) {
                if (xstrdup(&copy, path) < 0)
                        r = -ENOMEM;
                else
                        r = load_dropins(&p, dirname(copy));
        }
        *ret = p;
        if (r < 0)
                return r;
        return p.n_errors > 0 ? -EINVAL : 0;
}

/* The host's resolv.conf names a resolver on loopback, which a box with a
 * network of its own cannot reach. */
static bool host_resolver_on_loopback(void)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;

        while (f && getline(&line, &cap, f) > 0) {
                char ns[64];
                struct addr a;

                if (sscanf(line, " nameserver %63s", ns) == 1 && addr_parse(ns, &a) == 0 && addr_is_loopback(&a))
                        return true;
        }
        return false;
}

int policy_warnings(const struct policy *p, char ***ret, size_t *ret_n)
{
        bool own_net = false, dns = false;
        int r = 0;

        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];

                        if (e->key == K_NETWORK && strcmp(e->value, "none") != 0)
                                own_net = true;
                        if (e->key == K_DNS && e->value[0])
                                dns = true;
                }
        if (own_net && !dns && host_resolver_on_loopback())
                r = strv_push(ret, ret_n,
                              "warning: boxes get a network of their own but no dns, and /etc/resolv.conf names a "
                              "loopback resolver they cannot reach; set dns = ADDR");
        return r;
}

void policy_done(struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++) {
                struct section *s = &p->sections[i];
                for (size_t j = 0; j < s->n_entries; j++)
                        free(s->entries[j].value);
                free(s->entries);
                free(s->name);
                free(s->arg);
        }
        free(p->sections);
        strv_free(p->files);
        strv_free(p->errors);
        *p = (struct policy){};
}

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
                r.value[k] = keys[k].def;
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

        s->network = strcmp(res->value[K_NETWORK], "veth") == 0       ? NET_VETH
                     : strcmp(res->value[K_NETWORK], "loopback") == 0 ? NET_LOOPBACK
                                                                      : NET_NONE;
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
        unsigned long linger;
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
        s.share = strcmp(res->value[K_SHARE], "user") == 0 ? SHARE_USER : SHARE_SESSION;
        s.propagation = strcmp(res->value[K_PROPAGATION], "private") == 0 ? PROP_PRIVATE : PROP_SLAVE;
        if (parse_uint(res->value[K_LINGER], LINGER_MAX, &linger) < 0)
                linger = 0;
        s.linger = (unsigned)linger;
        s.private_tmp = parse_bool(res->value[K_PRIVATE_TMP]) == 1;
        s.hide_homes = parse_bool(res->value[K_HIDE_HOMES]) == 1;
        s.x11 = strcmp(res->value[K_X11], "all") == 0 ? X11_ALL : strcmp(res->value[K_X11], "none") == 0 ? X11_NONE
                                                                                                          : X11_DISPLAY;
        s.display = -1;         /* the module's to say */
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
