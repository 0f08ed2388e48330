/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox check, nsbox explain: the policy as the module reads it. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "cli.h"
#include "netaddr.h"
#include "pamconf.h"
#include "policy.h"
#include "util.h"

#define HOMES_ROOT "/home/"
#define MAX_USERS_SCANNED 10000

static const char *parse_config_opt(int argc, char **argv, int *ret_optind, bool *ret_usage)
{
        static const struct option opts[] = { { "config", required_argument, NULL, 'c' }, {} };
        const char *config = NSBOX_DEFAULT_CONFIG;
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
                if (c == 'c')
                        config = optarg;
                else {
                        *ret_usage = true;
                        return NULL;
                }
        }
        *ret_optind = optind;
        return config;
}

static int print_errors(const struct policy *p, int r, const char *config)
{
        for (size_t i = 0; i < p->n_errors; i++)
                fprintf(stderr, "%s\n", p->errors[i]);
        if (p->n_errors == 0)
                fprintf(stderr, "%s: %s\n", config, strerror(-r));
        return EXIT_INVALID;
}

/* A section naming a user or group NSS does not know matches nobody. */
static void warn_unknown_names(const struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++) {
                const struct section *s = &p->sections[i];

                if (s->kind == SEC_USER && !getpwnam(s->arg))
                        fprintf(stderr, "warning: [%s] matches no user: NSS knows no user '%s'\n", s->name, s->arg);
                if (s->kind == SEC_GROUP && !getgrnam(s->arg))
                        fprintf(stderr, "warning: [%s] matches no user: NSS knows no group '%s'\n", s->name, s->arg);
        }
}

/* exempt_users and exempt_groups name accounts NSS must know: a name it
 * does not know (Debian's admin group is "sudo", not "admins") exempts
 * nobody, and those users are boxed. */
static void warn_unknown_exempt(const struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];
                        bool users = e->key == K_EXEMPT_USERS;
                        char **w = NULL;
                        size_t n = 0;

                        if ((!users && e->key != K_EXEMPT_GROUPS) || split_words(e->value, &w, &n) < 0)
                                continue;
                        for (size_t k = 0; k < n; k++)
                                if (users ? !getpwnam(w[k]) : !getgrnam(w[k]))
                                        fprintf(stderr,
                                                "warning: %s: [%s] %s: NSS knows no %s '%s': it exempts nobody\n",
                                                e->file, p->sections[i].name, key_name(e->key), users ? "user" : "group",
                                                w[k]);
                        strv_free(w);
                }
}

static bool has_template(const char *s)
{
        return s && strchr(s, '$') != NULL;
}

/* A mount path with ${...} in it: checked per user (warn_for_users). */
struct template_use {
        const struct section *section;
        const struct entry *entry;
        bool checked;           /* some user NSS lists gets it */
};
#define MAX_TEMPLATES 64

/* A bind source in a directory others may write: another user may make
 * it first (bob's /srv/scratch/alice), and the init then leaves it out of
 * the box.  Templates are checked by their fixed parent. */
static void warn_writable_parent(const struct entry *e, const char *section, const char *src)
{
        const char *slash = strrchr(src, '/');
        char parent[1024];
        struct stat st;

        if (!slash || slash == src || (size_t)(slash - src) >= sizeof(parent))
                return;
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - src), src);
        if (!has_template(parent) && stat(parent, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 022))
                fprintf(stderr,
                        "warning: %s: [%s] bind: the source %s lies in %s, which others may write: another user could "
                        "make it first, and such a source is left out of the box; make %s writable by root only, with "
                        "each source made by root and owned by its user\n",
                        e->file, section, src, parent, parent);
}

/* A path a login mounts (bind source, read_only, inaccessible) that does
 * not exist denies every login it applies to, unless it is written with a
 * leading '-'.  Fixed paths are checked here, for every section; templates
 * are collected to be checked for each user NSS lists (warn_for_users). */
static size_t warn_missing_paths(const struct policy *p, struct template_use *t)
{
        size_t n_t = 0;

        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];
                        bool templated = false;
                        char **w = NULL;
                        size_t n = 0;

                        if ((e->key != K_BIND && e->key != K_READ_ONLY && e->key != K_INACCESSIBLE) ||
                            split_words(e->value, &w, &n) < 0)
                                continue;
                        for (size_t k = 0; k < n; k++) {
                                struct stat st;
                                char *colon = strchr(w[k], ':');

                                if (e->key == K_BIND && colon)
                                        *colon = '\0';
                                if (e->key == K_BIND)
                                        warn_writable_parent(e, p->sections[i].name, w[k] + (w[k][0] == '-'));
                                if (w[k][0] == '-')
                                        continue;
                                if (has_template(w[k]))
                                        templated = true;
                                else if (lstat(w[k], &st) < 0)
                                        fprintf(stderr,
                                                "warning: %s: [%s] %s: %s%s does not exist; logins it applies to "
                                                "will be denied (write -%s to make it optional)\n",
                                                e->file, p->sections[i].name, key_name(e->key),
                                                e->key == K_BIND ? "source " : "", w[k], w[k]);
                        }
                        if (templated && n_t < MAX_TEMPLATES)
                                t[n_t++] = (struct template_use){ &p->sections[i], e, false };
                        strv_free(w);
                }
        return n_t;
}

static bool in_group(const struct ident *id, const char *group)
{
        struct group *g = getgrnam(group);

        if (!g)
                return false;
        if (g->gr_gid == id->gid)
                return true;
        for (char **m = g->gr_mem; *m; m++)
                if (strcmp(*m, id->name) == 0)
                        return true;
        return false;
}

#define MAX_USER_WARNINGS 40

static void warn_missing(const char *user, const char *what, const struct spec_path *sp, unsigned *warned)
{
        struct stat st;

        if (!sp->optional && lstat(sp->path, &st) < 0 && (*warned)++ < MAX_USER_WARNINGS)
                fprintf(stderr, "warning: for %s, %s %s does not exist: %s's logins will be denied\n", user, what,
                        sp->path, user);
}

/* The templates this user's values came from have been checked. */
static void mark_templates(const struct resolved *r, struct template_use *t, size_t n_t)
{
        for (size_t i = 0; i < n_t; i++) {
                enum key_id k = t[i].entry->key;

                if (r->value[k] == t[i].entry->value)
                        t[i].checked = true;
        }
}

/* What is valid but probably wrong for someone NSS lists (uid 1000 and up,
 * the accounts people log in with): a home outside /home with hide_homes;
 * no_new_privs for an admin who needs sudo or su; a path from a template
 * that does not exist for them.  Then the templates nobody listed gets,
 * which could not be checked. */
static void warn_for_users(const struct policy *p, struct template_use *t, size_t n_t)
{
        static const char *const admin_groups[] = { "sudo", "wheel", "admin" };
        unsigned scanned = 0, warned = 0;
        struct passwd *pw;

        setpwent();
        while ((pw = getpwent()) && scanned++ < MAX_USERS_SCANNED) {
                struct ident id = {};
                struct box_spec spec = {};
                struct resolved r;
                char *why = NULL;
                const char *idwhy;

                if (pw->pw_uid < 1000 || pw->pw_uid == 65534 || !pw->pw_dir)
                        continue;
                if (ident_lookup(pw->pw_name, &id, &idwhy) < 0)
                        continue;
                policy_resolve(p, &id, &r);
                if (policy_is_exempt(p, &id) || !policy_wants_box(&r)) {
                        ident_done(&id);
                        continue;
                }
                mark_templates(&r, t, n_t);
                if (parse_bool(r.value[K_HIDE_HOMES]) == 1 &&
                    strncmp(id.home, HOMES_ROOT, strlen(HOMES_ROOT)) != 0 && warned++ < MAX_USER_WARNINGS)
                        fprintf(stderr, "warning: user %s has the home %s outside /home, where hide_homes hides "
                                        "the homes: it stays visible as it is\n",
                                id.name, id.home);
                for (size_t g = 0; g < ARRAY_SIZE(admin_groups); g++)
                        if (parse_bool(r.value[K_NO_NEW_PRIVS]) == 1 && in_group(&id, admin_groups[g]) &&
                            warned++ < MAX_USER_WARNINGS)
                                fprintf(stderr,
                                        "warning: user %s is in group %s, but no_new_privs = yes applies to them "
                                        "(%s [%s]): sudo and su fail in their sessions; exempt them, or set "
                                        "no_new_privs = no for them\n",
                                        id.name, admin_groups[g], r.file[K_NO_NEW_PRIVS], r.section[K_NO_NEW_PRIVS]);
                if (policy_build_spec(&r, &id, &spec, &why) == 0) {
                        for (size_t i = 0; i < spec.n_binds && has_template(r.value[K_BIND]); i++) {
                                struct spec_path sp = { spec.binds[i].src, spec.binds[i].optional };

                                warn_missing(id.name, "the bind source", &sp, &warned);
                        }
                        for (size_t i = 0; i < spec.n_read_only && has_template(r.value[K_READ_ONLY]); i++)
                                warn_missing(id.name, "the read_only path", &spec.read_only[i], &warned);
                        for (size_t i = 0; i < spec.n_inaccessible && has_template(r.value[K_INACCESSIBLE]); i++)
                                warn_missing(id.name, "the inaccessible path", &spec.inaccessible[i], &warned);
                } else if (warned++ < MAX_USER_WARNINGS)
                        fprintf(stderr, "warning: for %s the policy cannot be applied: %s\n", id.name,
                                why ? why : "invalid");
                free(why);
                box_spec_done(&spec);
                ident_done(&id);
        }
        endpwent();
        if (warned > MAX_USER_WARNINGS)
                fprintf(stderr, "warning: ... and %u more of these\n", warned - MAX_USER_WARNINGS);
        for (size_t i = 0; i < n_t; i++)
                if (!t[i].checked)
                        fprintf(stderr,
                                "warning: %s: [%s] %s: %s could not be checked: it is a template, and no user NSS "
                                "lists (uid 1000 and up) gets it\n",
                                t[i].entry->file, t[i].section->name, key_name(t[i].entry->key), t[i].entry->value);
}

/* no_new_privs = yes is valid, and breaks what admins use every day. */
static void warn_no_new_privs(const struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];

                        if (e->key == K_NO_NEW_PRIVS && parse_bool(e->value) == 1)
                                fprintf(stderr,
                                        "warning: %s: [%s] no_new_privs = yes: in the sessions it applies to, sudo, "
                                        "su (whose password check runs unix_chkpwd), ping and every other setuid or "
                                        "file-capability program fail\n",
                                        e->file, p->sections[i].name);
                }
}

/* A limit this host cannot enforce denies every login it applies to. */
static void warn_limits(const struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];
                        int id = (int)e->key - K_TASKS_MAX;
                        char missing[64];
                        _cleanup_free_ char *why = NULL;
                        uint64_t v;

                        if (id < 0 || id >= _L_MAX || limit_parse(id, e->value, &v, &why) < 0 || v == LIMIT_UNSET ||
                            limits_host_support(1u << id, missing, sizeof(missing)) == 0)
                                continue;
                        fprintf(stderr, "warning: %s: [%s] %s = %s: this host lacks %s, so every login under it is denied\n",
                                e->file, p->sections[i].name, key_name(e->key), e->value, missing);
                }
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

/* Boxes with a network of their own and no dns, where the host's resolver
 * is one they cannot reach. */
static void warn_dns(const struct policy *p)
{
        bool own_net = false, dns = false;

        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];

                        if (e->key == K_NETWORK && strcmp(e->value, "none") != 0)
                                own_net = true;
                        if (e->key == K_DNS && e->value[0])
                                dns = true;
                }
        if (own_net && !dns && host_resolver_on_loopback())
                fprintf(stderr, "warning: boxes get a network of their own but no dns, and /etc/resolv.conf names a "
                                "loopback resolver they cannot reach; set dns = ADDR\n");
}

/* Missing paths: the plain ones now, those from a template for each user
 * NSS lists. */
static void warn_paths(const struct policy *p)
{
        struct template_use templates[MAX_TEMPLATES];
        size_t n = warn_missing_paths(p, templates);

        warn_for_users(p, templates, n);
}

int cmd_check(int argc, char **argv)
{
        struct policy p = {};
        bool bad = false;
        int oi, r;
        const char *config = parse_config_opt(argc, argv, &oi, &bad);

        if (bad || oi != argc)
                return usage_of("check", stderr, EXIT_USAGE);
        r = policy_load(config, &p);
        if (r < 0)
                r = print_errors(&p, r, config);
        else {
                warn_dns(&p);
                warn_unknown_names(&p);
                warn_unknown_exempt(&p);
                warn_no_new_privs(&p);
                warn_limits(&p);
                warn_paths(&p);
                printf("%s: valid (%zu file%s read)\n", config, p.n_files, p.n_files == 1 ? "" : "s");
                /* The module's own test for the user manager: while no
                 * login has it, the policy boxes nobody. */
                if (!pam_stack_has_module("/etc/pam.d", "systemd-user"))
                        printf("note: no service in /etc/pam.d has pam_nsbox.so in its session stack, so no login is "
                               "boxed yet; enable it with pam-auth-update --enable nsbox\n");
                r = EXIT_OK;
        }
        policy_done(&p);
        return r;
}

int cmd_explain(int argc, char **argv)
{
        struct policy p = {};
        struct ident id = {};
        struct resolved res;
        struct box_spec spec = {};
        _cleanup_free_ char *why = NULL;
        const char *idwhy = NULL;
        bool bad = false;
        int oi, r;
        const char *config = parse_config_opt(argc, argv, &oi, &bad);

        if (bad || oi != argc - 1)
                return usage_of("explain", stderr, EXIT_USAGE);
        r = policy_load(config, &p);
        if (r < 0) {
                r = print_errors(&p, r, config);
                goto out;
        }
        r = ident_lookup(argv[oi], &id, &idwhy);
        if (r < 0) {
                fprintf(stderr, "nsbox explain: user %s: %s\n", argv[oi],
                        r == -ENOENT ? "no such user" : idwhy ? idwhy : strerror(-r));
                r = EXIT_INVALID;
                goto out;
        }
        policy_resolve(&p, &id, &res);
        printf("# user %s (uid %u, group %s, home %s)\n", id.name, (unsigned)id.uid, id.group, id.home);
        if (policy_is_exempt(&p, &id))
                printf("# exempt: this user is never boxed\n");
        else if (!policy_wants_box(&res))
                printf("# box = no: this user is not boxed\n");
        for (int k = 0; k < _K_MAX; k++) {
                printf("%-19s = %-30s # ", key_name(k), res.value[k]);
                if (res.file[k])
                        printf("%s [%s]\n", res.file[k], res.section[k]);
                else
                        printf("default\n");
        }
        r = policy_build_spec(&res, &id, &spec, &why);
        if (r < 0) {
                fprintf(stderr, "nsbox explain: for %s the policy cannot be applied: %s\n", id.name,
                        why ? why : strerror(-r));
                r = EXIT_INVALID;
                goto out;
        }
        for (size_t i = 0; i < spec.n_read_only; i++)
                printf("# read_only    -> %s%s\n", spec.read_only[i].path, spec.read_only[i].optional ? " (optional)" : "");
        for (size_t i = 0; i < spec.n_inaccessible; i++)
                printf("# inaccessible -> %s%s\n", spec.inaccessible[i].path,
                       spec.inaccessible[i].optional ? " (optional)" : "");
        for (size_t i = 0; i < spec.n_tmp_keep; i++)
                printf("# tmp_keep     -> %s%s\n", spec.tmp_keep[i].path, spec.tmp_keep[i].optional ? " (optional)" : "");
        for (size_t i = 0; i < spec.n_binds; i++)
                printf("# bind         -> %s on %s%s%s\n", spec.binds[i].src, spec.binds[i].dst,
                       spec.binds[i].ro ? " read-only" : "", spec.binds[i].optional ? " (optional)" : "");
        if (spec.hostname)
                printf("# hostname     -> %s\n", spec.hostname);
        if (spec.namespaces & NS_USER)
                printf("# user ns      -> box 0 = uid %u%s\n", (unsigned)id.uid,
                       spec.subuid_count ? ", box 1.. = subordinate ids" : ", no subordinate ids");
        r = EXIT_OK;
out:
        box_spec_done(&spec);
        ident_done(&id);
        policy_done(&p);
        return r;
}
