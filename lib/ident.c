/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ident.h"

#include <grp.h>
#include <pwd.h>

#include "util.h"

bool ident_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > IDENT_NAME_MAX)
                return false;
        if (s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1);
                if (!ok)
                        return false;
        }
        return true;
}

bool path_is_clean(const char *p)
{
        size_t n = strlen(p);

        if (n == 0 || n > IDENT_HOME_MAX || p[0] != '/')
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c < 0x21 || c == 0x7f || c == ':' || c == ',')
                        return false;
        }
        /* Walk components: reject "", ".", ".." (a trailing "/" is rejected too:
         * callers normalise before asking). */
        if (n == 1)
                return true;
        for (const char *s = p + 1;;) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);

                if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                if (!e)
                        return true;
                s = e + 1;
        }
}

static int lookup_passwd(const char *name, struct passwd *pw, char **buf)
{
        struct passwd *res = NULL;
        size_t sz = 1024;

        for (;;) {
                char *b = realloc(*buf, sz);
                int r;

                if (!b)
                        return -ENOMEM;
                *buf = b;
                r = getpwnam_r(name, pw, b, sz, &res);
                if (r == ERANGE && sz < (1u << 20)) {
                        sz *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                return res ? 0 : -ENOENT;
        }
}

/* A group by name, or by gid when name is NULL; *buf holds its strings
 * (the caller frees it), grown while NSS says it is too small. */
static int lookup_group(const char *name, gid_t gid, struct group *gr, char **buf)
{
        struct group *res = NULL;
        size_t sz = 1024;

        for (;;) {
                char *b = realloc(*buf, sz);
                int r;

                if (!b)
                        return -ENOMEM;
                *buf = b;
                r = name ? getgrnam_r(name, gr, b, sz, &res) : getgrgid_r(gid, gr, b, sz, &res);
                if (r == ERANGE && sz < (1u << 22)) {
                        sz *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                return res ? 0 : -ENOENT;
        }
}

static int getgr(gid_t gid, char **ret_name)
{
        _cleanup_free_ char *buf = NULL;
        struct group gr;
        int r = lookup_group(NULL, gid, &gr, &buf);

        return r < 0 ? r : xstrdup(ret_name, gr.gr_name);
}

static int gid_of(const char *name, gid_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        struct group gr;
        int r = lookup_group(name, 0, &gr, &buf);

        if (r == 0)
                *ret = gr.gr_gid;
        return r;
}

/* Every group the user is in, the primary one first. */
static int group_list(const struct ident *id, gid_t **ret, int *ret_n)
{
        _cleanup_free_ gid_t *gids = NULL;
        int ngroups = 64;

        for (;;) {
                gid_t *g = reallocarray(gids, (size_t)ngroups, sizeof(gid_t));
                int n = ngroups;

                if (!g)
                        return -ENOMEM;
                gids = g;
                if (getgrouplist(id->name, id->gid, gids, &n) >= 0) {
                        *ret = TAKE_PTR(gids);
                        *ret_n = n;
                        return 0;
                }
                if (n <= ngroups || n > 65536)
                        return -E2BIG;
                ngroups = n;
        }
}

/* Strip a trailing slash so "/home/alice/" compares as "/home/alice". */
static int normalise_home(const char *h, char **ret)
{
        size_t n = strlen(h);
        char *d;

        while (n > 1 && h[n - 1] == '/')
                n--;
        d = strndup(h, n);
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

static int load_groups(struct ident *id)
{
        _cleanup_free_ gid_t *gids = NULL;
        int ngroups = 0, r = group_list(id, &gids, &ngroups);

        for (int i = 0; r == 0 && i < ngroups; i++) {
                _cleanup_free_ char *gname = NULL;

                if (gids[i] == id->gid && i > 0)
                        continue;
                r = getgr(gids[i], &gname);
                /* A gid without a name cannot be named by the policy, nor
                 * can a name no section could spell. */
                if (r == -ENOENT || (r == 0 && !ident_name_valid(gname))) {
                        r = 0;
                        continue;
                }
                if (r == 0)
                        r = strv_push(&id->groups, &id->n_groups, gname);
        }
        return r;
}

int ident_lookup_user(const char *name, struct ident *ret, const char **ret_why)
{
        struct ident id = {};
        struct passwd pw;
        _cleanup_free_ char *buf = NULL;
        int r;

        *ret_why = NULL;
        if (!ident_name_valid(name)) {
                *ret_why = "user name has characters or a length that cannot be used safely";
                return -EINVAL;
        }
        r = lookup_passwd(name, &pw, &buf);
        if (r < 0)
                return r;
        /* NSS may answer for a differently spelled name; insist on the exact one. */
        if (strcmp(pw.pw_name, name) != 0) {
                *ret_why = "NSS returned a different user name";
                return -EINVAL;
        }
        if (!pw.pw_dir) {
                *ret_why = "user has no home directory";
                return -EINVAL;
        }
        r = xstrdup(&id.name, pw.pw_name);
        if (r < 0)
                goto fail;
        id.uid = pw.pw_uid;
        id.gid = pw.pw_gid;
        r = normalise_home(pw.pw_dir, &id.home);
        if (r < 0)
                goto fail;
        if (!path_is_clean(id.home)) {
                *ret_why = "home directory is not a clean absolute path";
                r = -EINVAL;
                goto fail;
        }
        *ret = id;
        return 0;
fail:
        ident_done(&id);
        return r;
}

static int load_primary(struct ident *id, const char **ret_why)
{
        int r;

        if (id->group)
                return 0;
        r = getgr(id->gid, &id->group);
        if (r == -ENOENT) {
                *ret_why = "primary group has no name";
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (!ident_name_valid(id->group)) {
                *ret_why = "primary group name has characters that cannot be used safely";
                return -EINVAL;
        }
        return 0;
}

int ident_load_groups(struct ident *id, char *const *names, size_t n, bool primary, const char **ret_why)
{
        _cleanup_free_ gid_t *gids = NULL;
        int ngroups = 0, r;

        *ret_why = NULL;
        if (primary) {
                r = load_primary(id, ret_why);
                if (r < 0)
                        return r;
        }
        if (n == 0)
                return 0;
        r = group_list(id, &gids, &ngroups);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                gid_t gid = 0;
                bool member = false;

                r = gid_of(names[i], &gid);
                if (r == -ENOENT) {
                        /* Perhaps spelled otherwise (section names come
                         * lowercased): name every group the user is in. */
                        strv_free(id->groups);
                        id->groups = NULL;
                        id->n_groups = 0;
                        r = load_primary(id, ret_why);
                        if (r >= 0)
                                r = strv_push(&id->groups, &id->n_groups, id->group);
                        return r < 0 ? r : load_groups(id);
                }
                if (r < 0)
                        return r;
                for (int k = 0; k < ngroups && !member; k++)
                        member = gids[k] == gid;
                if (member && (r = strv_push(&id->groups, &id->n_groups, names[i])) < 0)
                        return r;
        }
        return 0;
}

int ident_lookup(const char *name, struct ident *ret, const char **ret_why)
{
        struct ident id = {};
        int r;

        r = ident_lookup_user(name, &id, ret_why);
        if (r < 0)
                return r;
        r = load_primary(&id, ret_why);
        if (r >= 0)
                r = strv_push(&id.groups, &id.n_groups, id.group);
        if (r >= 0)
                r = load_groups(&id);
        if (r < 0) {
                ident_done(&id);
                return r;
        }
        *ret = id;
        return 0;
}

void ident_done(struct ident *id)
{
        free(id->name);
        free(id->group);
        free(id->home);
        strv_free(id->groups);
        *id = (struct ident){};
}
