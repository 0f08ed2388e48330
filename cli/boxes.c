/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox list, show, enter, stop: the live boxes, through the helper. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <poll.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "policy.h"
#include "util.h"

#define STOP_WAIT_MS 10000

struct box_list {
        struct box_info *v;
        size_t n;
};

static int collect(const struct box_info *bi, void *userdata)
{
        struct box_list *l = userdata;
        struct box_info *n = realloc(l->v, (l->n + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        n[l->n++] = *bi;
        l->v = n;
        return 0;
}

/* Every live box; none when no helper runs. */
static int fetch_boxes(struct box_list *ret)
{
        struct msg *m = malloc(sizeof(*m));
        struct box_list l = {};
        int r;

        if (!m)
                return -ENOMEM;
        msg_init(m, MSG_LIST);
        r = helper_request(m, m, NULL);
        if (r == -ENOENT || r == -ECONNREFUSED)
                r = 0;
        else if (r == 0)
                r = proto_parse_list(m, collect, &l);
        free(m);
        if (r < 0) {
                free(l.v);
                return r;
        }
        *ret = l;
        return 0;
}

static int report(const char *cmd, int r)
{
        if (r == -EACCES || r == -EPERM)
                fprintf(stderr, "nsbox %s: %s: permission denied (run as root)\n", cmd, NSBOX_SOCKET);
        else if (r == -ETIMEDOUT)
                fprintf(stderr, "nsbox %s: the helper did not answer within %d s\n", cmd, CLI_REPLY_TIMEOUT_SEC);
        else
                fprintf(stderr, "nsbox %s: %s\n", cmd, strerror(-r));
        return EXIT_INVALID;
}

int resolve_boxes(const char *cmd, const char *target, struct box_info **ret, size_t *ret_n)
{
        struct box_list l = {}, m = {};
        int r = fetch_boxes(&l);

        if (r < 0)
                return report(cmd, r);
        for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.v[i].id, target) == 0 || strcmp(l.v[i].user, target) == 0)
                        collect(&l.v[i], &m);
        free(l.v);
        if (m.n == 0) {
                fprintf(stderr, "nsbox %s: no box is called or belongs to '%s'\n", cmd, target);
                return EXIT_INVALID;
        }
        *ret = m.v;
        *ret_n = m.n;
        return EXIT_OK;
}

/* One request about one box; m holds the reply.  -ENOENT when the helper
 * answers with an error (the box is gone). */
static int box_request(int type, const char *id, uint32_t flags, struct msg *m, int *ret_fd)
{
        int r;

        msg_init(m, type);
        r = proto_put_box_id(m, id);
        if (r == 0 && flags)
                r = proto_put_flags(m, flags);
        if (r == 0)
                r = helper_request(m, m, ret_fd);
        if (r == 0 && msg_type(m) == MSG_ERROR)
                r = -ENOENT;
        return r;
}

static void ns_text(unsigned ns, char *buf, size_t size)
{
        _cleanup_free_ char *s = NULL;

        snprintf(buf, size, "%s", namespaces_format(ns, &s) == 0 ? s : "?");
}

/* ---- usage ---------------------------------------------------------------- */

/* Bytes for people: "35.2M". */
static const char *bytes_text(uint64_t v, char *buf, size_t size)
{
        static const char units[] = "KMGTP";
        double d = (double)v;
        int u = -1;

        while (d >= 1024 && u < 4) {
                d /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, size, "%" PRIu64, v);
        else
                snprintf(buf, size, "%.1f%c", d, units[u]);
        return buf;
}

/* What the box uses against its limits, a line each for tasks, memory and
 * CPU time: "12 of 40", "35.2M of 256M (memory_high 200M)", "unknown". */
static void print_usage_text(const struct box_usage *u, const struct box_limits *l)
{
        char a[32], b[32];

        if (!usage_known(u)) {
                printf("  usage       unknown: no cgroup v2 accounting for this box here\n");
                return;
        }
        printf("  tasks       ");
        if (u->tasks == USAGE_UNKNOWN)
                printf("unknown");
        else
                printf("%" PRIu64, u->tasks);
        if (l->v[L_TASKS_MAX] != LIMIT_UNSET)
                printf(" of %" PRIu64, l->v[L_TASKS_MAX]);
        printf("\n  memory      %s", u->memory == USAGE_UNKNOWN ? "unknown" : bytes_text(u->memory, a, sizeof(a)));
        if (l->v[L_MEMORY_MAX] != LIMIT_UNSET)
                printf(" of %s", limit_format(L_MEMORY_MAX, l->v[L_MEMORY_MAX], b, sizeof(b)));
        if (l->v[L_MEMORY_HIGH] != LIMIT_UNSET)
                printf(" (memory_high %s)", limit_format(L_MEMORY_HIGH, l->v[L_MEMORY_HIGH], b, sizeof(b)));
        if (u->oom_kills != USAGE_UNKNOWN && u->oom_kills)
                printf(", %" PRIu64 " killed by the OOM killer", u->oom_kills);
        printf("\n  cpu time    ");
        if (u->cpu_usec == USAGE_UNKNOWN)
                printf("unknown");
        else
                printf("%.2f s", (double)u->cpu_usec / 1e6);
        if (l->v[L_CPU_MAX] != LIMIT_UNSET)
                printf(" (cpu_max %s)", limit_format(L_CPU_MAX, l->v[L_CPU_MAX], b, sizeof(b)));
        if (l->v[L_CPU_WEIGHT] != LIMIT_UNSET)
                printf(" (cpu_weight %" PRIu64 ")", l->v[L_CPU_WEIGHT]);
        printf("\n");
}

static void json_u64(const char *key, uint64_t v, bool first)
{
        printf("%s\"%s\": ", first ? "" : ", ", key);
        if (v == USAGE_UNKNOWN)
                printf("null");
        else
                printf("%" PRIu64, v);
}

/* "usage": {...}, "limits": {...}: numbers as the kernel counts them
 * (tasks, bytes, microseconds), null where unknown or unset. */
static void print_usage_json(const struct box_usage *u, const struct box_limits *l)
{
        printf("\"usage\": {");
        json_u64("tasks", u->tasks, true);
        json_u64("memory_bytes", u->memory, false);
        json_u64("cpu_usec", u->cpu_usec, false);
        json_u64("oom_kills", u->oom_kills, false);
        printf("}, \"limits\": {");
        for (int i = 0; i < _L_MAX; i++)
                json_u64(key_name(K_TASKS_MAX + i), l->v[i], i == 0);
        printf("}");
}

/* ---- list ----------------------------------------------------------------- */

static void print_list_json(const struct box_info *bi, bool first)
{
        char ns[64];

        ns_text(bi->namespaces, ns, sizeof(ns));
        printf("%s\n  {\"id\": \"%s\", \"user\": ", first ? "" : ",", bi->id);
        json_str(stdout, bi->user);
        printf(", \"uid\": %u, \"pid\": %u, \"state\": \"%s\", \"sessions\": %u, \"share\": \"%s\", "
               "\"namespaces\": \"%s\", \"created\": %llu, \"addresses\": [",
               bi->uid, bi->pid, box_state_to_string(bi->state), bi->sessions, share_to_string(bi->share), ns,
               (unsigned long long)bi->created);
        for (size_t i = 0, k = 0; i < 2; i++)
                if (bi->addresses[i][0])
                        printf("%s\"%s\"", k++ ? ", " : "", bi->addresses[i]);
        printf("], ");
        print_usage_json(&bi->usage, &bi->limits);
        printf("}");
}

int cmd_list(int argc, char **argv)
{
        struct box_list l = {};
        bool json = false;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else
                        return usage_of("list", stderr, EXIT_USAGE);
        }
        r = fetch_boxes(&l);
        if (r < 0)
                return report("list", r);
        if (json) {
                printf("[");
                for (size_t i = 0; i < l.n; i++)
                        print_list_json(&l.v[i], i == 0);
                printf("%s]\n", l.n ? "\n" : "");
        } else {
                printf("%-8s  %-16s %7s %8s  %-8s %8s  %-7s %7s  %-26s %s\n", "ID", "USER", "UID", "PID", "STATE",
                       "SESSIONS", "SHARE", "AGE", "NAMESPACES", "ADDRESSES");
                for (size_t i = 0; i < l.n; i++) {
                        const struct box_info *bi = &l.v[i];
                        long age = (long)(time(NULL) - (time_t)bi->created);
                        char ns[64];

                        ns_text(bi->namespaces, ns, sizeof(ns));
                        printf("%-8s  %-16s %7u %8u  %-8s %8u  %-7s %6lds  %-26s %s %s\n", bi->id, bi->user, bi->uid,
                               bi->pid, box_state_to_string(bi->state), bi->sessions, share_to_string(bi->share),
                               age < 0 ? 0 : age, ns,
                               bi->addresses[0][0] ? bi->addresses[0] : "-", bi->addresses[1]);
                }
        }
        free(l.v);
        return EXIT_OK;
}

/* ---- show ----------------------------------------------------------------- */

struct kv {
        const char *key;
        char *value;
};

static void add_kv(struct kv *v, size_t *n, const char *key, const char *fmt, ...) _printf_(4, 5);
static void add_kv(struct kv *v, size_t *n, const char *key, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        v[*n].key = key;
        v[(*n)++].value = s;
}

static char *paths_text(const struct spec_path *p, size_t n)
{
        char *s = strdup("");

        for (size_t i = 0; s && i < n; i++) {
                char *t = NULL;
                if (asprintf(&t, "%s%s%s%s", s, i ? " " : "", p[i].optional ? "-" : "", p[i].path) < 0)
                        t = NULL;
                free(s);
                s = t;
        }
        return s;
}

/* The policy as the box was built with it, key by key. */
static size_t spec_kvs(const struct box_spec *s, struct kv *v)
{
        size_t n = 0;
        char ns[64], *t = NULL, *caps;

        ns_text(s->namespaces, ns, sizeof(ns));
        add_kv(v, &n, "namespaces", "%s", ns);
        add_kv(v, &n, "share", "%s", share_to_string(s->share));
        add_kv(v, &n, "linger", "%u", s->linger);
        add_kv(v, &n, "propagation", "%s", propagation_to_string(s->propagation));
        add_kv(v, &n, "private_tmp", "%s", s->private_tmp ? "yes" : "no");
        add_kv(v, &n, "x11", "%s", x11_to_string(s->x11));
        if (s->display >= 0)
                add_kv(v, &n, "display", ":%d", s->display);
        t = paths_text(s->tmp_keep, s->n_tmp_keep);
        add_kv(v, &n, "tmp_keep", "%s", t ? t : "");
        free(t);
        add_kv(v, &n, "hide_homes", "%s", s->hide_homes ? "yes" : "no");
        t = paths_text(s->read_only, s->n_read_only);
        add_kv(v, &n, "read_only", "%s", t ? t : "");
        free(t);
        t = paths_text(s->inaccessible, s->n_inaccessible);
        add_kv(v, &n, "inaccessible", "%s", t ? t : "");
        free(t);
        t = strdup("");
        for (size_t i = 0; t && i < s->n_binds; i++) {
                char *u = NULL;
                if (asprintf(&u, "%s%s%s%s:%s%s", t, i ? " " : "", s->binds[i].optional ? "-" : "", s->binds[i].src,
                             s->binds[i].dst, s->binds[i].ro ? ":ro" : "") < 0)
                        u = NULL;
                free(t);
                t = u;
        }
        add_kv(v, &n, "bind", "%s", t ? t : "");
        free(t);
        add_kv(v, &n, "hostname", "%s", s->hostname ? s->hostname : "");
        add_kv(v, &n, "tmpfs_size", "%s", s->tmpfs_size ? s->tmpfs_size : "");
        add_kv(v, &n, "tmpfs_inodes", "%s", s->tmpfs_inodes ? s->tmpfs_inodes : "");
        add_kv(v, &n, "user_root", "%s", s->user_root ? "yes" : "no");
        add_kv(v, &n, "no_new_privs", "%s", s->no_new_privs ? "yes" : "no");
        caps = strdup(s->cap_bounding ? (s->cap_keep ? "" : "none") : "");
        for (cap_value_t c = 0; caps && c < 64; c++)
                if (s->cap_bounding && (s->cap_keep & (1ULL << c))) {
                        char *name = cap_to_name(c), *u = NULL;
                        if (asprintf(&u, "%s%s%s", caps, caps[0] ? "," : "", name ? name : "?") < 0)
                                u = NULL;
                        cap_free(name);
                        free(caps);
                        caps = u;
                }
        add_kv(v, &n, "capability_bounding", "%s", caps ? caps : "");
        free(caps);
        add_kv(v, &n, "network", "%s", network_to_string(s->network));
        if (s->network == NET_VETH) {
                add_kv(v, &n, "nat", "%s", s->nat ? "yes" : "no");
                add_kv(v, &n, "isolate", "%s", s->isolate ? "yes" : "no");
                add_kv(v, &n, "bridge", "%s", s->bridge ? s->bridge : "");
                add_kv(v, &n, "gateway", "%s%s%s", s->gateway4 ? s->gateway4 : "",
                       s->gateway4 && s->gateway6 ? " " : "", s->gateway6 ? s->gateway6 : "");
                add_kv(v, &n, "pool4", "%s", s->pool4 ? s->pool4 : "");
                add_kv(v, &n, "pool6", "%s", s->pool6 ? s->pool6 : "");
        }
        t = strdup("");
        for (size_t i = 0; t && i < s->n_dns; i++) {
                char *u = NULL;
                if (asprintf(&u, "%s%s%s", t, i ? " " : "", s->dns[i]) < 0)
                        u = NULL;
                free(t);
                t = u;
        }
        add_kv(v, &n, "dns", "%s", t ? t : "");
        free(t);
        return n;
}

struct proc_entry {
        int host_pid, box_pid;
        unsigned uid;
        char comm[64];
};

/* The box's processes: those in its init's PID namespace. */
static size_t box_processes(pid_t init, struct proc_entry *out, size_t max)
{
        char path[64];
        struct stat ns;
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
        if (stat(path, &ns) < 0 || !(d = opendir("/proc")))
                return 0;
        for (struct dirent *de; n < max && (de = readdir(d));) {
                char line[256];
                struct stat st;
                FILE *f;
                int pid = atoi(de->d_name);

                if (pid <= 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
                if (stat(path, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
                        continue;
                out[n] = (struct proc_entry){ .host_pid = pid };
                snprintf(path, sizeof(path), "/proc/%d/status", pid);
                f = fopen(path, "re");
                while (f && fgets(line, sizeof(line), f)) {
                        if (strncmp(line, "Name:", 5) == 0)
                                sscanf(line + 5, " %63s", out[n].comm);
                        else if (strncmp(line, "Uid:", 4) == 0)
                                sscanf(line + 4, " %u", &out[n].uid);
                        else if (strncmp(line, "NSpid:", 6) == 0) {
                                char *last = strrchr(line, '\t');
                                out[n].box_pid = last ? atoi(last + 1) : 0;
                        }
                }
                if (f)
                        fclose(f);
                n++;
        }
        closedir(d);
        return n;
}

static void show_one(const struct show_reply *r, bool json, bool first)
{
        const struct box_info *bi = &r->info;
        struct kv kvs[40];
        struct proc_entry procs[256];
        size_t nk = spec_kvs(&r->spec, kvs), np = box_processes((pid_t)bi->pid, procs, ARRAY_SIZE(procs));
        char path[64], line[4096], created[32];
        time_t ct = (time_t)bi->created;
        FILE *mi;

        strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", localtime(&ct));
        snprintf(path, sizeof(path), "/proc/%u/mountinfo", bi->pid);
        mi = fopen(path, "re");
        if (json) {
                printf("%s{\"id\": \"%s\", \"user\": ", first ? "" : ",\n", bi->id);
                json_str(stdout, bi->user);
                printf(", \"uid\": %u, \"pid\": %u, \"created\": %llu, ", bi->uid, bi->pid,
                       (unsigned long long)bi->created);
                print_usage_json(&bi->usage, &bi->limits);
                printf(", \"policy\": {");
                for (size_t i = 0; i < nk; i++) {
                        printf("%s\"%s\": ", i ? ", " : "", kvs[i].key);
                        json_str(stdout, kvs[i].value);
                }
                printf("}, \"sessions\": [");
                for (size_t i = 0; i < r->n_sessions; i++) {
                        const struct session_entry *se = &r->sessions[i];
                        printf("%s{\"service\": ", i ? ", " : "");
                        json_str(stdout, se->service);
                        printf(", \"tty\": ");
                        json_str(stdout, se->tty);
                        printf(", \"rhost\": ");
                        json_str(stdout, se->rhost);
                        printf(", \"pid\": %u, \"created\": %llu}", se->pid, (unsigned long long)se->created);
                }
                printf("], \"mounts\": [");
                for (bool firstm = true; mi && fgets(line, sizeof(line), mi); firstm = false) {
                        char mp[2048];
                        if (sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1)
                                continue;
                        printf("%s", firstm ? "" : ", ");
                        json_str(stdout, mp);
                }
                printf("], \"processes\": [");
                for (size_t i = 0; i < np; i++) {
                        printf("%s{\"pid\": %d, \"box_pid\": %d, \"uid\": %u, \"comm\": ", i ? ", " : "",
                               procs[i].host_pid, procs[i].box_pid, procs[i].uid);
                        json_str(stdout, procs[i].comm);
                        printf("}");
                }
                printf("]}");
        } else {
                printf("box %s\n  user        %s (uid %u)\n  state       %s\n  init        pid %u on the host\n"
                       "  created     %s\n",
                       bi->id, bi->user, bi->uid, box_state_to_string(bi->state), bi->pid, created);
                printf("  addresses   %s %s\n", bi->addresses[0][0] ? bi->addresses[0] : "-", bi->addresses[1]);
                print_usage_text(&bi->usage, &bi->limits);
                printf("policy\n");
                for (size_t i = 0; i < nk; i++)
                        printf("  %-19s = %s\n", kvs[i].key, kvs[i].value ? kvs[i].value : "");
                printf("sessions (%zu)\n", r->n_sessions);
                for (size_t i = 0; i < r->n_sessions; i++) {
                        const struct session_entry *se = &r->sessions[i];
                        time_t st = (time_t)se->created;
                        char when[16];

                        strftime(when, sizeof(when), "%H:%M:%S", localtime(&st));
                        /* What a login said of itself is shown as text, never
                         * sent to the terminal as it came. */
                        printf("  service=");
                        print_clean(stdout, se->service);
                        printf(" tty=");
                        print_clean(stdout, se->tty);
                        printf(" rhost=");
                        print_clean(stdout, se->rhost);
                        printf(" login-pid=%u since %s\n", se->pid, when);
                }
                printf("mounts (as seen inside)\n");
                while (mi && fgets(line, sizeof(line), mi)) {
                        char mp[2048], opts[512], type[64];
                        const char *dash = strstr(line, " - ");
                        if (!dash || sscanf(line, "%*s %*s %*s %*s %2047s %511s", mp, opts) != 2 ||
                            sscanf(dash + 3, "%63s", type) != 1)
                                continue;
                        printf("  %-30s %-10s %s\n", mp, type, opts);
                }
                printf("processes (%zu)\n  %8s %8s %6s  %s\n", np, "HOST-PID", "BOX-PID", "UID", "COMMAND");
                for (size_t i = 0; i < np; i++) {
                        printf("  %8d %8d %6u  ", procs[i].host_pid, procs[i].box_pid, procs[i].uid);
                        print_clean(stdout, procs[i].comm);
                        printf("\n");
                }
        }
        if (mi)
                fclose(mi);
        for (size_t i = 0; i < nk; i++)
                free(kvs[i].value);
}

int cmd_show(int argc, char **argv)
{
        struct box_info *boxes = NULL;
        const char *target = NULL;
        bool json = false;
        size_t n = 0;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (!target && argv[i][0] != '-')
                        target = argv[i];
                else
                        return usage_of("show", stderr, EXIT_USAGE);
        }
        if (!target)
                return usage_of("show", stderr, EXIT_USAGE);
        r = resolve_boxes("show", target, &boxes, &n);
        if (r != EXIT_OK)
                return r;
        if (json)
                printf("[");
        for (size_t i = 0; i < n; i++) {
                struct msg *m = malloc(sizeof(*m));
                struct show_reply sr = {};

                if (!m)
                        return EXIT_INVALID;
                r = box_request(MSG_SHOW, boxes[i].id, 0, m, NULL);
                if (r == 0)
                        r = proto_parse_show(m, &sr);
                free(m);
                if (r < 0) {
                        fprintf(stderr, "nsbox show: box %s: %s\n", boxes[i].id, strerror(-r));
                        free(boxes);
                        return EXIT_INVALID;
                }
                show_one(&sr, json, i == 0);
                show_reply_done(&sr);
        }
        if (json)
                printf("]\n");
        free(boxes);
        return EXIT_OK;
}

/* ---- enter ---------------------------------------------------------------- */

/* A user's command never gets root's terminal: a process it leaves behind
 * could read what root types next, or push input into root's shell
 * (TIOCSTI).  As su --pty and machinectl shell do, it runs in a session of
 * its own on a new pseudo-terminal, which we relay to root's. */
struct relay {
        int master, slave;
        bool tty[3];            /* which of fds 0, 1, 2 were root's terminal: the pty takes their place */
        bool raw;
        struct termios saved;
};

static int relay_open(struct relay *r)
{
        char *name;

        *r = (struct relay){ .master = -1, .slave = -1 };
        for (int fd = 0; fd < 3; fd++)
                r->tty[fd] = isatty(fd);
        if (!r->tty[0] && !r->tty[1] && !r->tty[2])
                return 0;       /* no terminal of root's to protect: setsid() suffices */
        r->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->master < 0 || grantpt(r->master) < 0 || unlockpt(r->master) < 0 || !(name = ptsname(r->master)))
                return negative_errno();
        r->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->slave < 0)
                return negative_errno();
        if (r->tty[0]) {
                struct winsize ws;
                struct termios raw;

                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        (void)ioctl(r->slave, TIOCSWINSZ, &ws);
                if (tcgetattr(STDIN_FILENO, &r->saved) == 0) {
                        (void)tcsetattr(r->slave, TCSANOW, &r->saved);
                        raw = r->saved;
                        cfmakeraw(&raw);
                        r->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
                }
        }
        return 0;
}

/* In the child: a session of its own, the pty as its terminal, in place
 * of each of its stdio fds that was root's terminal (a pipe or a file stays
 * what it is). */
static int relay_child(struct relay *r)
{
        if (setsid() < 0)
                return -errno;
        if (r->slave < 0)
                return 0;
        if (ioctl(r->slave, TIOCSCTTY, 0) < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                if (r->tty[fd] && dup2(r->slave, fd) < 0)
                        return -errno;
        return 0;
}

static void relay_copy(int from, int to, bool *open)
{
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        *open = false;
                return;
        }
        if (write_all(to, buf, (size_t)n) < 0)
                *open = false;
}

/* Relay until the command exits; what it left running on the pty keeps
 * the pty, not root's terminal.  Returns the wait status. */
static int relay_run(struct relay *r, pid_t pid)
{
        sigset_t mask;
        int sfd, status = 0, out = r->tty[1] ? STDOUT_FILENO : STDERR_FILENO;
        bool in_open = r->tty[0], out_open = true;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        closep(&r->slave);
        for (;;) {
                struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
                                       { .fd = r->master, .events = out_open ? POLLIN : 0 },
                                       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                struct signalfd_siginfo si;

                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
                        if (si.ssi_signo == SIGWINCH) {
                                struct winsize ws;
                                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                        (void)ioctl(r->master, TIOCSWINSZ, &ws);
                        }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
                        relay_copy(r->master, out, &out_open);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
                        relay_copy(STDIN_FILENO, r->master, &in_open);
        }
        /* What the command wrote last, as far as it is there now. */
        fcntl(r->master, F_SETFL, O_NONBLOCK);
        for (char buf[4096]; out_open;) {
                ssize_t n = read(r->master, buf, sizeof(buf));

                if (n <= 0 || write_all(out, buf, (size_t)n) < 0)
                        break;
        }
        if (r->raw)
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &r->saved);
        closep(&r->master);
        closep(&sfd);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return status;
}

int cmd_enter(int argc, char **argv)
{
        struct box_info *boxes = NULL;
        const char *target = NULL, *as = NULL;
        struct relay rl = { .master = -1, .slave = -1 };
        struct passwd *pw;
        char **cmd = NULL;
        size_t n = 0;
        int pidfd = -1, status, r;
        struct msg *m;
        pid_t pid;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        cmd = argv + i + 1;
                        break;
                } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
                        as = argv[++i];
                else if (!target && argv[i][0] != '-')
                        target = argv[i];
                else
                        return usage_of("enter", stderr, EXIT_USAGE);
        }
        if (!target || (cmd && !cmd[0]))
                return usage_of("enter", stderr, EXIT_USAGE);
        if (geteuid() != 0) {
                fprintf(stderr, "nsbox enter: only root may enter a box\n");
                return EXIT_INVALID;
        }
        /* Who to be is looked up in the host's view, before entering. */
        pw = getpwnam(as ? as : "root");
        if (!pw) {
                fprintf(stderr, "nsbox enter: no such user '%s'\n", as ? as : "root");
                return EXIT_INVALID;
        }
        r = resolve_boxes("enter", target, &boxes, &n);
        if (r != EXIT_OK)
                return r;
        if (n > 1) {
                fprintf(stderr, "nsbox enter: %s has %zu boxes; name one:", target, n);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, " %s", boxes[i].id);
                fprintf(stderr, "\n");
                free(boxes);
                return EXIT_INVALID;
        }
        m = malloc(sizeof(*m));
        if (!m)
                return EXIT_INVALID;
        r = box_request(MSG_ENTER, boxes[0].id, 0, m, &pidfd);
        if (r == 0 && (msg_type(m) != MSG_OK || pidfd < 0))
                r = -ENOENT;
        free(m);
        /* The helper hands over the init's pidfd: it names that very box,
         * whatever happened to PIDs meanwhile. */
        if (r < 0 || setns(pidfd, namespaces_clone_flags(boxes[0].namespaces)) < 0) {
                fprintf(stderr, "nsbox enter: box %s: %s\n", boxes[0].id, strerror(r < 0 ? -r : errno));
                free(boxes);
                return EXIT_INVALID;
        }
        close(pidfd);
        setenv("NSBOX_ID", boxes[0].id, 1);
        free(boxes);
        /* The pty is opened in the box, whose /dev/pts is the host's. */
        if (pw->pw_uid != 0) {
                r = relay_open(&rl);
                if (r < 0) {
                        fprintf(stderr, "nsbox enter: cannot open a terminal for %s: %s\n", pw->pw_name, strerror(-r));
                        return EXIT_INVALID;
                }
        }
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        pid = fork();
        if (pid == 0) {
                char *shell_argv[2] = { pw->pw_shell && *pw->pw_shell ? pw->pw_shell : (char *)"/bin/sh", NULL };

                signal(SIGINT, SIG_DFL);
                signal(SIGQUIT, SIG_DFL);
                if (pw->pw_uid != 0 && relay_child(&rl) < 0) {
                        fprintf(stderr, "nsbox enter: cannot give %s a terminal of its own: %m\n", pw->pw_name);
                        _exit(EXIT_INVALID);
                }
                if (rl.master >= 0)
                        close(rl.master);
                if (rl.slave >= 0)
                        close(rl.slave);
                if (chdir("/") < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
                    setuid(pw->pw_uid) < 0) {
                        fprintf(stderr, "nsbox enter: cannot become %s: %m\n", pw->pw_name);
                        _exit(EXIT_INVALID);
                }
                setenv("HOME", pw->pw_dir, 1);
                setenv("USER", pw->pw_name, 1);
                setenv("LOGNAME", pw->pw_name, 1);
                setenv("SHELL", shell_argv[0], 1);
                if (!cmd)
                        cmd = shell_argv;
                execvp(cmd[0], cmd);
                fprintf(stderr, "nsbox enter: %s: %m\n", cmd[0]);
                _exit(127);
        }
        if (pid > 0 && rl.master >= 0)
                status = relay_run(&rl, pid);
        else if (pid < 0 || waitpid(pid, &status, 0) < 0) {
                fprintf(stderr, "nsbox enter: %m\n");
                return EXIT_INVALID;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- stop ----------------------------------------------------------------- */

static bool box_alive(const char *id)
{
        struct box_list l = {};
        bool alive = false;

        if (fetch_boxes(&l) < 0)
                return false;
        for (size_t i = 0; i < l.n; i++)
                alive |= strcmp(l.v[i].id, id) == 0;
        free(l.v);
        return alive;
}

int cmd_stop(int argc, char **argv)
{
        struct box_info *boxes = NULL;
        const char *target = NULL;
        bool force = false;
        size_t n = 0;
        int r, ret = EXIT_OK;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--force") == 0)
                        force = true;
                else if (!target && argv[i][0] != '-')
                        target = argv[i];
                else
                        return usage_of("stop", stderr, EXIT_USAGE);
        }
        if (!target)
                return usage_of("stop", stderr, EXIT_USAGE);
        r = resolve_boxes("stop", target, &boxes, &n);
        if (r != EXIT_OK)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct msg *m = malloc(sizeof(*m));

                if (!m)
                        return EXIT_INVALID;
                r = box_request(MSG_STOP, boxes[i].id, force ? F_FORCE : 0, m, NULL);
                if (r == 0 && msg_type(m) != MSG_OK)
                        r = -ENOENT;
                free(m);
                if (r < 0) {
                        fprintf(stderr, "nsbox stop: box %s: %s\n", boxes[i].id, strerror(-r));
                        ret = EXIT_INVALID;
                }
        }
        /* Wait for the end, so that what follows sees the box gone. */
        for (size_t i = 0; i < n; i++) {
                unsigned long long deadline = now_usec() + STOP_WAIT_MS * 1000ULL;

                while (box_alive(boxes[i].id) && now_usec() < deadline)
                        usleep(20 * 1000);
                if (box_alive(boxes[i].id)) {
                        fprintf(stderr, "nsbox stop: box %s is still there after %d s\n", boxes[i].id,
                                STOP_WAIT_MS / 1000);
                        ret = EXIT_INVALID;
                } else
                        printf("stopped box %s (%s)\n", boxes[i].id, boxes[i].user);
        }
        free(boxes);
        return ret;
}
