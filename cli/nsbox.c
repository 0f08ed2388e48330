/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox: the admin's view of pam_nsbox.
 *
 *   nsbox check [-c FILE]            validate the policy as the module reads it
 *   nsbox explain [-c FILE] USER     the policy resolved for USER, key by key
 *   nsbox list [--json]              the live boxes
 *   nsbox root [-- CMD...]           CMD as root of your own box's user namespace
 *
 * Exit codes: 0 ok, 1 invalid or not found, 2 usage. */
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "policy.h"
#include "proto.h"
#include "util.h"

static int usage(FILE *f, int code)
{
        fputs("Usage: nsbox check [-c FILE]\n"
              "       nsbox explain [-c FILE] USER\n"
              "       nsbox list [--json]\n"
              "       nsbox root [-- CMD...]\n"
              "\n"
              "  check    validate the policy (default " NSBOX_DEFAULT_CONFIG ") and its nsbox.d drop-ins\n"
              "  explain  print every key as it applies to USER, and where its value comes from\n"
              "  list     list the live boxes\n"
              "  root     run CMD (default your shell) as root in your box's user namespace,\n"
              "           in a mount namespace of its own (needs user_root = yes)\n",
              f);
        return code;
}

static const char *parse_config_opt(int argc, char **argv, int *ret_optind, bool *ret_usage)
{
        static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                               { "help", no_argument, NULL, 'h' },
                                               {} };
        const char *config = NSBOX_DEFAULT_CONFIG;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
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
        return 1;
}

static int cmd_check(int argc, char **argv)
{
        struct policy p = {};
        bool bad = false;
        int oi, r;
        const char *config = parse_config_opt(argc, argv, &oi, &bad);

        if (bad || oi != argc)
                return usage(stderr, 2);
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
                printf("%s: valid (%zu file%s read)\n", config, p.n_files, p.n_files == 1 ? "" : "s");
                r = 0;
        }
        policy_done(&p);
        return r;
}

static int cmd_explain(int argc, char **argv)
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
                return usage(stderr, 2);
        r = policy_load(config, &p);
        if (r < 0) {
                r = print_errors(&p, r, config);
                goto out;
        }
        r = ident_lookup(argv[oi], &id, &idwhy);
        if (r < 0) {
                fprintf(stderr, "nsbox explain: user %s: %s\n", argv[oi],
                        r == -ENOENT ? "no such user" : idwhy ? idwhy : strerror(-r));
                r = 1;
                goto out;
        }
        policy_resolve(&p, &id, &res);
        printf("# user %s (uid %u, group %s, home %s)\n", id.name, (unsigned)id.uid, id.group, id.home);
        if (policy_is_exempt(&p, &id))
                printf("# exempt: this user is never boxed\n");
        else if (!policy_wants_box(&res))
                printf("# box = no: this user is not boxed\n");
        for (int k = 0; k < _K_MAX; k++) {
                printf("%-14s = %-30s # ", key_name(k), res.value[k]);
                if (res.file[k])
                        printf("%s [%s]\n", res.file[k], res.section[k]);
                else
                        printf("default\n");
        }
        r = policy_build_spec(&res, &id, &spec, &why);
        if (r < 0) {
                fprintf(stderr, "nsbox explain: for %s the policy cannot be applied: %s\n", id.name,
                        why ? why : strerror(-r));
                r = 1;
                goto out;
        }
        for (size_t i = 0; i < spec.n_read_only; i++)
                printf("# read_only    -> %s%s\n", spec.read_only[i].path, spec.read_only[i].optional ? " (optional)" : "");
        for (size_t i = 0; i < spec.n_inaccessible; i++)
                printf("# inaccessible -> %s%s\n", spec.inaccessible[i].path,
                       spec.inaccessible[i].optional ? " (optional)" : "");
        for (size_t i = 0; i < spec.n_binds; i++)
                printf("# bind         -> %s on %s%s%s\n", spec.binds[i].src, spec.binds[i].dst,
                       spec.binds[i].ro ? " read-only" : "", spec.binds[i].optional ? " (optional)" : "");
        if (spec.hostname)
                printf("# hostname     -> %s\n", spec.hostname);
        r = 0;
out:
        box_spec_done(&spec);
        ident_done(&id);
        policy_done(&p);
        return r;
}

struct list_out {
        bool json;
        unsigned n;
};

static int print_box(const struct box_info *bi, void *userdata)
{
        struct list_out *o = userdata;
        _cleanup_free_ char *ns = NULL;
        long age = (long)(time(NULL) - (time_t)bi->created);

        if (namespaces_format(bi->namespaces, &ns) < 0)
                return -ENOMEM;
        if (o->json) {
                printf("%s\n  {\"id\": \"%s\", \"user\": \"%s\", \"uid\": %u, \"pid\": %u, \"sessions\": %u, "
                       "\"share\": \"%s\", \"namespaces\": \"%s\", \"created\": %llu, \"addresses\": [",
                       o->n ? "," : "", bi->id, bi->user, bi->uid, bi->pid, bi->sessions, share_to_string(bi->share), ns,
                       (unsigned long long)bi->created);
                for (size_t i = 0, k = 0; i < 2; i++)
                        if (bi->addresses[i][0])
                                printf("%s\"%s\"", k++ ? ", " : "", bi->addresses[i]);
                printf("]}");
        } else
                printf("%-8s  %-16s %7u %8u %8u  %-7s %6lds  %-26s %s %s\n", bi->id, bi->user, bi->uid, bi->pid,
                       bi->sessions, share_to_string(bi->share), age < 0 ? 0 : age, ns,
                       bi->addresses[0][0] ? bi->addresses[0] : "-", bi->addresses[1]);
        o->n++;
        return 0;
}

static int cmd_list(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct list_out o = {};
        _cleanup_close_ int fd = -1;
        struct msg *m = NULL;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        o.json = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return usage(stdout, 0);
                else
                        return usage(stderr, 2);
        }
        m = malloc(sizeof(*m));
        if (!m)
                return 1;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        strcpy(sa.sun_path, NSBOX_SOCKET);
        if (fd < 0) {
                r = 1;
                goto out;
        }
        if (!o.json)
                printf("%-8s  %-16s %7s %8s %8s  %-7s %7s  %-26s %s\n", "ID", "USER", "UID", "PID", "SESSIONS",
                       "SHARE", "AGE", "NAMESPACES", "ADDRESSES");
        else
                printf("[");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                /* No helper listening means no box exists. */
                if (errno == EACCES || errno == EPERM) {
                        fprintf(stderr, "nsbox list: %s: permission denied (run as root)\n", NSBOX_SOCKET);
                        r = 1;
                        goto out;
                }
                r = 0;
                goto done;
        }
        msg_init(m, MSG_LIST);
        r = msg_send(fd, m, -1);
        if (r == 0)
                r = msg_recv(fd, m, NULL);
        if (r == 0)
                r = proto_parse_list(m, print_box, &o);
        if (r < 0) {
                fprintf(stderr, "nsbox list: %s\n", strerror(-r));
                r = 1;
                goto out;
        }
done:
        if (o.json)
                printf("%s]\n", o.n ? "\n" : "");
        r = 0;
out:
        free(m);
        return r;
}

/* Ask the helper, over the socket any user may reach, for our box's user
 * namespace.  The helper checks who we are and where we call from. */
static int fetch_userns(int *ret_fd, struct error_reply *ret_err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct msg *m = malloc(sizeof(*m));
        int r, nsfd = -1;

        if (!m)
                return -ENOMEM;
        strcpy(sa.sun_path, NSBOX_USER_SOCKET);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                snprintf(ret_err->object, sizeof(ret_err->object), "no helper is running; are you in a box?");
                goto out;
        }
        msg_init(m, MSG_ROOT);
        r = msg_send(fd, m, -1);
        if (r == 0)
                r = msg_recv(fd, m, &nsfd);
        if (r == 0 && msg_type(m) == MSG_ERROR) {
                r = proto_parse_error(m, ret_err);
                r = r < 0 ? r : -ret_err->error;
        } else if (r == 0 && (msg_type(m) != MSG_USERNS || proto_parse_empty(m) < 0 || nsfd < 0))
                r = -EBADMSG;
        if (r == 0)
                *ret_fd = TAKE_FD(nsfd);
out:
        closep(&nsfd);
        free(m);
        return r;
}

static int cmd_root(int argc, char **argv)
{
        struct error_reply err = {};
        struct mount_attr priv = { .propagation = MS_PRIVATE };
        _cleanup_close_ int nsfd = -1;
        char *shell_argv[2] = {};
        struct passwd *pw;
        char **cmd;
        int r;

        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return usage(stdout, 0);
        if (argc >= 2 && strcmp(argv[1], "--") != 0)
                return usage(stderr, 2);
        pw = getpwuid(getuid());
        if (!pw) {
                fprintf(stderr, "nsbox root: who are you? (uid %u has no passwd entry)\n", (unsigned)getuid());
                return 1;
        }
        r = fetch_userns(&nsfd, &err);
        if (r < 0) {
                fprintf(stderr, "nsbox root: %s: %s\n", err.object[0] ? err.object : "helper", strerror(-r));
                return 1;
        }
        /* We own the box's user namespace (it was made as us): entering it
         * needs no privilege.  A mount namespace of our own follows, so that
         * what we mount stays here; the box's views come along, locked. */
        if (setns(nsfd, CLONE_NEWUSER) < 0 || unshare(CLONE_NEWNS) < 0 ||
            mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &priv, sizeof(priv)) < 0 || setresgid(0, 0, 0) < 0 ||
            setresuid(0, 0, 0) < 0) {
                fprintf(stderr, "nsbox root: cannot enter the box's user namespace: %m\n");
                return 1;
        }
        if (argc >= 3)
                cmd = argv + 2;
        else {
                shell_argv[0] = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : (char *)"/bin/sh";
                cmd = shell_argv;
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "nsbox root: %s: %m\n", cmd[0]);
        return 127;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage(stderr, 2);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
                return usage(stdout, 0);
        if (strcmp(argv[1], "check") == 0)
                return cmd_check(argc - 1, argv + 1);
        if (strcmp(argv[1], "explain") == 0)
                return cmd_explain(argc - 1, argv + 1);
        if (strcmp(argv[1], "list") == 0)
                return cmd_list(argc - 1, argv + 1);
        if (strcmp(argv[1], "root") == 0)
                return cmd_root(argc - 1, argv + 1);
        fprintf(stderr, "nsbox: unknown command '%s'\n", argv[1]);
        return usage(stderr, 2);
}
