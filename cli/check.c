/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox check, nsbox explain: the policy as the module reads it. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "cli.h"
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

/* A bind whose source is a fixed path (no expansion) that does not exist
 * will deny every login it applies to. */
static void warn_missing_bind_sources(const struct policy *p)
{
        for (size_t i = 0; i < p->n_sections; i++)
                for (size_t j = 0; j < p->sections[i].n_entries; j++) {
                        const struct entry *e = &p->sections[i].entries[j];
                        char **w = NULL;
                        size_t n = 0;

                        if (e->key != K_BIND || split_words(e->value, &w, &n) < 0)
                                continue;
                        for (size_t k = 0; k < n; k++) {
                                struct stat st;
                                char *colon = strchr(w[k], ':');

                                if (w[k][0] == '-' || !colon || strchr(w[k], '$'))
                                        continue;
                                *colon = '\0';
                                if (lstat(w[k], &st) < 0)
                                        fprintf(stderr,
                                                "warning: %s: [%s] bind: source %s does not exist; logins it applies to "
                                                "will be denied (write -%s to make it optional)\n",
                                                e->file, p->sections[i].name, w[k], w[k]);
                        }
                        strv_free(w);
                }
}

/* hide_homes hides all of /home; a user whose home is elsewhere keeps it
 * visible but loses every other home, which is rarely what was meant. */
static void warn_homes_outside(const struct policy *p)
{
        unsigned scanned = 0, warned = 0;
        struct passwd *pw;

        setpwent();
        while ((pw = getpwent()) && scanned++ < MAX_USERS_SCANNED) {
                struct ident id = {};
                struct resolved r;
                const char *why;

                if (pw->pw_uid < 1000 || pw->pw_uid == 65534 || !pw->pw_dir)
                        continue;
                if (strncmp(pw->pw_dir, HOMES_ROOT, strlen(HOMES_ROOT)) == 0)
                        continue;
                if (ident_lookup(pw->pw_name, &id, &why) < 0)
                        continue;
                policy_resolve(p, &id, &r);
                if (!policy_is_exempt(p, &id) && policy_wants_box(&r) && parse_bool(r.value[K_HIDE_HOMES]) == 1 &&
                    warned++ < 20)
                        fprintf(stderr, "warning: user %s has the home %s outside /home, where hide_homes hides "
                                        "the homes: it stays visible as it is\n",
                                id.name, id.home);
                ident_done(&id);
        }
        endpwent();
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
                char **warnings = NULL;
                size_t n = 0;

                if (policy_warnings(&p, &warnings, &n) == 0)
                        for (size_t i = 0; i < n; i++)
                                fprintf(stderr, "%s\n", warnings[i]);
                strv_free(warnings);
                warn_unknown_names(&p);
                warn_missing_bind_sources(&p);
                warn_homes_outside(&p);
                printf("%s: valid (%zu file%s read)\n", config, p.n_files, p.n_files == 1 ? "" : "s");
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
