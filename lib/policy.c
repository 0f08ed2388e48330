/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the policy: the main file and its drop-ins, each opened through
 * a trusted path, read by iniparser and once more by us (what iniparser
 * does not report), every key checked where it stands. */
#include "policy.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <iniparser/iniparser.h>
#include <libgen.h>

#include "keys.h"
#include "paths.h"
#include "util.h"

/* ---- loading ------------------------------------------------------------ */

static int push_error(struct policy *p, const char *fmt, ...) _printf_(2, 3);
static int push_error(struct policy *p, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = xvasprintf(&msg, fmt, ap);
        va_end(ap);
        return r < 0 ? r : strv_push(&p->errors, &p->n_errors, msg);
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
        int k = key_lookup(kname);
        int r;

        if (k < 0)
                return push_error(p, "%s: [%s] %s: unknown key", shown, sname, kname);
        if (key_is_global(k) != (sec->kind == SEC_GLOBAL))
                return push_error(p, "%s: [%s] %s: this key belongs in %s", shown, sname, kname,
                                  key_is_global(k) ? "[global]" : "[default], [group:NAME] or [user:NAME]");
        r = key_check(k, value, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return push_error(p, "%s: [%s] %s: %s", shown, sname, kname, why ? why : "invalid value");
        return section_set(sec, (enum key_id)k, value, p->files[p->n_files - 1]);
}

/* A key of a section, and the line it was set on: for keys set twice. */
struct seen_key {
        char *section, *key;
        unsigned line;
};

struct scan {
        struct seen_key *seen;
        size_t n_seen;
        char *section;
};

static void scan_done(struct scan *sc)
{
        for (size_t i = 0; i < sc->n_seen; i++) {
                free(sc->seen[i].section);
                free(sc->seen[i].key);
        }
        free(sc->seen);
        free(sc->section);
}

static void lowercase(char *s)
{
        for (; *s; s++)
                *s = (char)tolower((unsigned char)*s);
}

/* The byte that makes a line binary data (a NUL among them), or -1. */
static int binary_byte(const char *line, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)line[i];

                if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f)
                        return ch;
        }
        return -1;
}

/* One line's section header or key: a key set before in the same
 * section is an error. */
static int scan_line(struct policy *p, struct scan *sc, char *b, unsigned lineno, const char *shown)
{
        struct seen_key *ns;
        char *e;

        while (*b == ' ' || *b == '\t')
                b++;
        if (*b == '[' && (e = strchr(b, ']'))) {
                free(sc->section);
                sc->section = strndup(b + 1, (size_t)(e - b - 1));
                if (!sc->section)
                        return -ENOMEM;
                lowercase(sc->section);
                return 0;
        }
        if (*b == '#' || *b == ';' || !(e = strchr(b, '=')))
                return 0;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        *e = '\0';
        lowercase(b);
        for (size_t i = 0; i < sc->n_seen; i++)
                if (strcmp(sc->seen[i].section, sc->section) == 0 && strcmp(sc->seen[i].key, b) == 0)
                        return push_error(p, "%s: [%s] %s: set twice (lines %u and %u); keep one", shown, sc->section, b,
                                          sc->seen[i].line, lineno);
        ns = reallocarray(sc->seen, sc->n_seen + 1, sizeof(*ns));
        if (!ns)
                return -ENOMEM;
        sc->seen = ns;
        ns = &sc->seen[sc->n_seen];
        *ns = (struct seen_key){ strdup(sc->section), strdup(b), lineno };
        if (!ns->section || !ns->key) {
                free(ns->section);
                free(ns->key);
                return -ENOMEM;
        }
        sc->n_seen++;
        return 0;
}

/* What iniparser does not report: binary data (it reads C strings, so a
 * NUL would silently cut a line), and a key set twice in one section (it
 * keeps the last without a word, which could silently weaken a policy).
 * So the file is read once more, by us.  1 when it holds binary data:
 * iniparser must not read it then. */
static int scan_text(struct policy *p, int fd, const char *shown)
{
        _cleanup_(scan_done) struct scan sc = {};
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        unsigned lineno = 0;
        ssize_t len;
        int dfd, r = 0;

        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return negative_errno();
        f = fdopen(dfd, "re");
        if (!f) {
                close(dfd);
                return -ENOMEM;
        }
        if (fseek(f, 0, SEEK_SET) < 0)
                return negative_errno();
        sc.section = strdup("");
        if (!sc.section)
                return -ENOMEM;
        while (r >= 0 && (len = getline(&line, &cap, f)) > 0) {
                int ch = binary_byte(line, (size_t)len);

                lineno++;
                if (ch >= 0) {
                        r = push_error(p, "%s: line %u holds binary data (byte 0x%02x); a policy is text", shown, lineno,
                                       ch);
                        return r < 0 ? r : 1;
                }
                r = scan_line(p, &sc, line, lineno, shown);
        }
        if (r >= 0 && ferror(f))
                r = -EIO;
        return r < 0 ? r : 0;
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
        r = scan_text(p, fd, shown);
        if (r != 0)
                return r < 0 ? r : 0;
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

