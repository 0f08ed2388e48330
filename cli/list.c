/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox list and nsbox show: the live boxes, as a table and text for
 * people, and as JSON (json-c builds it: one box per line, so that a box
 * is also one line for grep). */
#include <dirent.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "policy.h"
#include "util.h"

static void ns_text(unsigned ns, char *buf, size_t size)
{
        _cleanup_free_ char *s = NULL;

        snprintf(buf, size, "%s", namespaces_format(ns, &s) == 0 ? s : "?");
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_objectp(json_object **o)
{
        json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_objectp)

/* A member; false when out of memory (the value is freed then). */
static bool json_add(json_object *o, const char *key, json_object *v)
{
        if (!v && errno == ENOMEM)
                return false;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return false;
        }
        return true;
}

static json_object *json_str(const char *s)
{
        return json_object_new_string(s ?: "");
}

/* A count, or null where unknown or unset. */
static json_object *json_count(uint64_t v)
{
        errno = 0;
        return v == USAGE_UNKNOWN ? NULL : json_object_new_uint64(v);
}

/* Print one element of an array: the first after "[", the others after
 * a comma, each on a line of its own. */
static int json_print_element(json_object *o, bool first)
{
        const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
                          : NULL;

        if (!s)
                return -ENOMEM;
        printf("%s\n  %s", first ? "" : ",", s);
        return 0;
}

/* "usage": {...}, "limits": {...}: numbers as the kernel counts them
 * (tasks, bytes, microseconds), null where unknown or unset. */
static bool json_add_usage(json_object *o, const struct box_usage *u, const struct box_limits *l)
{
        json_object *usage = json_object_new_object(), *limits = json_object_new_object();
        bool ok = usage && limits && json_add(usage, "tasks", json_count(u->tasks)) &&
                  json_add(usage, "memory_bytes", json_count(u->memory)) &&
                  json_add(usage, "cpu_usec", json_count(u->cpu_usec)) &&
                  json_add(usage, "oom_kills", json_count(u->oom_kills));

        for (int i = 0; ok && i < _L_MAX; i++)
                ok = json_add(limits, key_name(K_TASKS_MAX + i), json_count(l->v[i]));
        if (!ok) {
                json_object_put(usage);
                json_object_put(limits);
                return false;
        }
        return json_add(o, "usage", usage) && json_add(o, "limits", limits);
}

/* The fields of a box that list and show share. */
static json_object *json_box(const struct box_info *bi)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *addresses = json_object_new_array();
        char ns[64];
        bool ok;

        ns_text(bi->namespaces, ns, sizeof(ns));
        ok = o && addresses && json_add(o, "id", json_str(bi->id)) && json_add(o, "user", json_str(bi->user)) &&
             json_add(o, "uid", json_object_new_uint64(bi->uid)) && json_add(o, "pid", json_object_new_uint64(bi->pid)) &&
             json_add(o, "state", json_str(box_state_to_string(bi->state))) &&
             json_add(o, "sessions", json_object_new_uint64(bi->sessions)) &&
             json_add(o, "share", json_str(share_to_string(bi->share))) && json_add(o, "namespaces", json_str(ns)) &&
             json_add(o, "created", json_object_new_uint64(bi->created));
        for (size_t i = 0; ok && i < 2; i++)
                if (bi->addresses[i][0]) {
                        json_object *e = json_str(bi->addresses[i]);

                        ok = e && json_object_array_add(addresses, e) == 0;
                        if (!ok)
                                json_object_put(e);
                }
        if (!ok || !json_add(o, "addresses", TAKE_PTR(addresses)) || !json_add_usage(o, &bi->usage, &bi->limits)) {
                json_object_put(addresses);
                return NULL;
        }
        return TAKE_PTR(o);
}

/* ---- list ------------------------------------------------------------------ */

static int list_json(const struct box_list *l)
{
        printf("[");
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_json_ json_object *o = json_box(&l->v[i]);

                if (json_print_element(o, i == 0) < 0)
                        return -ENOMEM;
        }
        printf("%s]\n", l->n ? "\n" : "");
        return 0;
}

static void list_table(const struct box_list *l)
{
        printf("%-8s  %-16s %7s %8s  %-8s %8s  %-7s %7s  %-26s %s\n", "ID", "USER", "UID", "PID", "STATE", "SESSIONS",
               "SHARE", "AGE", "NAMESPACES", "ADDRESSES");
        for (size_t i = 0; i < l->n; i++) {
                const struct box_info *bi = &l->v[i];
                long age = (long)(time(NULL) - (time_t)bi->created);
                char ns[64];

                ns_text(bi->namespaces, ns, sizeof(ns));
                printf("%-8s  %-16s %7u %8u  %-8s %8u  %-7s %6lds  %-26s %s %s\n", bi->id, bi->user, bi->uid, bi->pid,
                       box_state_to_string(bi->state), bi->sessions, share_to_string(bi->share), age < 0 ? 0 : age, ns,
                       bi->addresses[0][0] ? bi->addresses[0] : "-", bi->addresses[1]);
        }
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
        if (json)
                r = list_json(&l);
        else
                list_table(&l);
        free(l.v);
        return r < 0 ? report("list", r) : EXIT_OK;
}

/* ---- show: the policy, key by key ----------------------------------------- */

#define MAX_KVS 40

struct kvs {
        struct {
                const char *key;
                char *value;
                size_t size;
        } v[MAX_KVS];
        size_t n;
        bool failed;            /* out of memory somewhere */
};

static void kvs_done(struct kvs *k)
{
        for (size_t i = 0; i < k->n; i++)
                free(k->v[i].value);
}

/* A value built piece by piece in a memory stream: kv_open(), fprintf()
 * to it, kv_close(). */
static FILE *kv_open(struct kvs *k, const char *key)
{
        FILE *f = k->n < MAX_KVS ? open_memstream(&k->v[k->n].value, &k->v[k->n].size) : NULL;

        if (!f) {
                k->failed = true;
                return NULL;
        }
        k->v[k->n++].key = key;
        return f;
}

static void kv_close(struct kvs *k, FILE *f)
{
        if (f && fclose(f) != 0)
                k->failed = true;
}

static void kv(struct kvs *k, const char *key, const char *fmt, ...) _printf_(3, 4);
static void kv(struct kvs *k, const char *key, const char *fmt, ...)
{
        FILE *f = kv_open(k, key);
        va_list ap;

        if (!f)
                return;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        kv_close(k, f);
}

static void kv_yes(struct kvs *k, const char *key, bool v)
{
        kv(k, key, "%s", v ? "yes" : "no");
}

static void kv_paths(struct kvs *k, const char *key, const struct spec_path *p, size_t n)
{
        FILE *f = kv_open(k, key);

        for (size_t i = 0; f && i < n; i++)
                fprintf(f, "%s%s%s", i ? " " : "", p[i].optional ? "-" : "", p[i].path);
        kv_close(k, f);
}

static void kv_binds(struct kvs *k, const struct spec_bind *b, size_t n)
{
        FILE *f = kv_open(k, "bind");

        for (size_t i = 0; f && i < n; i++)
                fprintf(f, "%s%s%s:%s%s", i ? " " : "", b[i].optional ? "-" : "", b[i].src, b[i].dst,
                        b[i].ro ? ":ro" : "");
        kv_close(k, f);
}

static void kv_words(struct kvs *k, const char *key, char *const *w, size_t n)
{
        FILE *f = kv_open(k, key);

        for (size_t i = 0; f && i < n; i++)
                fprintf(f, "%s%s", i ? " " : "", w[i]);
        kv_close(k, f);
}

/* capability_bounding: the capabilities kept, "none", or "" when off. */
static void kv_caps(struct kvs *k, const struct box_spec *s)
{
        FILE *f = kv_open(k, "capability_bounding");
        bool any = false;

        for (cap_value_t c = 0; f && s->cap_bounding && c < 64; c++)
                if (s->cap_keep & (1ULL << c)) {
                        char *name = cap_to_name(c);

                        fprintf(f, "%s%s", any ? "," : "", name ?: "?");
                        cap_free(name);
                        any = true;
                }
        if (f && s->cap_bounding && !any)
                fprintf(f, "none");
        kv_close(k, f);
}

/* The policy as the box was built with it, key by key. */
static int spec_kvs(const struct box_spec *s, struct kvs *k)
{
        char ns[64];

        ns_text(s->namespaces, ns, sizeof(ns));
        kv(k, "namespaces", "%s", ns);
        kv(k, "share", "%s", share_to_string(s->share));
        kv(k, "linger", "%u", s->linger);
        kv(k, "propagation", "%s", propagation_to_string(s->propagation));
        kv_yes(k, "private_tmp", s->private_tmp);
        kv(k, "x11", "%s", x11_to_string(s->x11));
        if (s->display >= 0)
                kv(k, "display", ":%d", s->display);
        kv_paths(k, "tmp_keep", s->tmp_keep, s->n_tmp_keep);
        kv_yes(k, "hide_homes", s->hide_homes);
        kv_paths(k, "read_only", s->read_only, s->n_read_only);
        kv_paths(k, "inaccessible", s->inaccessible, s->n_inaccessible);
        kv_binds(k, s->binds, s->n_binds);
        kv(k, "hostname", "%s", s->hostname ?: "");
        kv(k, "tmpfs_size", "%s", s->tmpfs_size ?: "");
        kv(k, "tmpfs_inodes", "%s", s->tmpfs_inodes ?: "");
        kv_yes(k, "user_root", s->user_root);
        kv_yes(k, "no_new_privs", s->no_new_privs);
        kv_caps(k, s);
        kv(k, "network", "%s", network_to_string(s->network));
        if (s->network == NET_VETH) {
                kv_yes(k, "nat", s->nat);
                kv_yes(k, "isolate", s->isolate);
                kv(k, "bridge", "%s", s->bridge ?: "");
                kv(k, "gateway", "%s%s%s", s->gateway4 ?: "", s->gateway4 && s->gateway6 ? " " : "", s->gateway6 ?: "");
                kv(k, "pool4", "%s", s->pool4 ?: "");
                kv(k, "pool6", "%s", s->pool6 ?: "");
        }
        kv_words(k, "dns", s->dns, s->n_dns);
        if (k->failed) {
                kvs_done(k);
                return -ENOMEM;
        }
        return 0;
}

/* ---- show: what the kernel says of the box -------------------------------- */

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

/* The mount points the box's init sees, from its mountinfo. */
struct mount_entry {
        char point[2048], type[64], opts[512];
};

static size_t box_mounts(pid_t init, struct mount_entry *out, size_t max)
{
        char path[64], line[4096];
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)init);
        f = fopen(path, "re");
        while (f && n < max && fgets(line, sizeof(line), f)) {
                const char *dash = strstr(line, " - ");

                if (dash && sscanf(line, "%*s %*s %*s %*s %2047s %511s", out[n].point, out[n].opts) == 2 &&
                    sscanf(dash + 3, "%63s", out[n].type) == 1)
                        n++;
        }
        return n;
}

struct box_view {
        const struct show_reply *r;
        struct kvs kvs;
        struct proc_entry procs[256];
        size_t n_procs;
        struct mount_entry mounts[256];
        size_t n_mounts;
};

static int view_of(const struct show_reply *r, struct box_view *v)
{
        v->r = r;
        v->n_procs = box_processes((pid_t)r->info.pid, v->procs, ARRAY_SIZE(v->procs));
        v->n_mounts = box_mounts((pid_t)r->info.pid, v->mounts, ARRAY_SIZE(v->mounts));
        return spec_kvs(&r->spec, &v->kvs);
}

/* ---- show as JSON ----------------------------------------------------------- */

static bool json_add_policy(json_object *o, const struct kvs *k)
{
        json_object *p = json_object_new_object();
        bool ok = p != NULL;

        for (size_t i = 0; ok && i < k->n; i++)
                ok = json_add(p, k->v[i].key, json_str(k->v[i].value));
        if (!ok)
                json_object_put(p);
        return ok && json_add(o, "policy", p);
}

/* key: an array of n elements, the i-th made by element(ctx, i). */
static bool json_add_array(json_object *o, const char *key, size_t n, json_object *(*element)(const void *ctx, size_t i),
                           const void *ctx)
{
        json_object *a = json_object_new_array();
        bool ok = a != NULL;

        for (size_t i = 0; ok && i < n; i++) {
                json_object *e = element(ctx, i);

                ok = e && json_object_array_add(a, e) == 0;
                if (!ok)
                        json_object_put(e);
        }
        if (!ok) {
                json_object_put(a);
                return false;
        }
        return json_add(o, key, a);
}

static json_object *session_json(const void *ctx, size_t i)
{
        const struct session_entry *se = &((const struct show_reply *)ctx)->sessions[i];
        _cleanup_json_ json_object *s = json_object_new_object();

        if (!s || !json_add(s, "service", json_str(se->service)) || !json_add(s, "tty", json_str(se->tty)) ||
            !json_add(s, "rhost", json_str(se->rhost)) || !json_add(s, "pid", json_object_new_uint64(se->pid)) ||
            !json_add(s, "created", json_object_new_uint64(se->created)))
                return NULL;
        return TAKE_PTR(s);
}

static json_object *mount_json(const void *ctx, size_t i)
{
        return json_str(((const struct box_view *)ctx)->mounts[i].point);
}

static json_object *process_json(const void *ctx, size_t i)
{
        const struct proc_entry *p = &((const struct box_view *)ctx)->procs[i];
        _cleanup_json_ json_object *e = json_object_new_object();

        if (!e || !json_add(e, "pid", json_object_new_int(p->host_pid)) ||
            !json_add(e, "box_pid", json_object_new_int(p->box_pid)) ||
            !json_add(e, "uid", json_object_new_uint64(p->uid)) || !json_add(e, "comm", json_str(p->comm)))
                return NULL;
        return TAKE_PTR(e);
}

static json_object *show_json(const struct box_view *v)
{
        _cleanup_json_ json_object *o = json_box(&v->r->info);

        /* "sessions": the list, in place of the count that a list gives. */
        if (!o || !json_add_policy(o, &v->kvs) ||
            !json_add_array(o, "sessions", v->r->n_sessions, session_json, v->r) ||
            !json_add_array(o, "mounts", v->n_mounts, mount_json, v) ||
            !json_add_array(o, "processes", v->n_procs, process_json, v))
                return NULL;
        return TAKE_PTR(o);
}

/* ---- show as text ------------------------------------------------------------ */

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

static void show_text(const struct box_view *v)
{
        const struct box_info *bi = &v->r->info;
        time_t ct = (time_t)bi->created;
        char created[32];

        strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", localtime(&ct));
        printf("box %s\n  user        %s (uid %u)\n  state       %s\n  init        pid %u on the host\n"
               "  created     %s\n",
               bi->id, bi->user, bi->uid, box_state_to_string(bi->state), bi->pid, created);
        printf("  addresses   %s %s\n", bi->addresses[0][0] ? bi->addresses[0] : "-", bi->addresses[1]);
        print_usage_text(&bi->usage, &bi->limits);
        printf("policy\n");
        for (size_t i = 0; i < v->kvs.n; i++)
                printf("  %-19s = %s\n", v->kvs.v[i].key, v->kvs.v[i].value);
        printf("sessions (%zu)\n", v->r->n_sessions);
        for (size_t i = 0; i < v->r->n_sessions; i++) {
                const struct session_entry *se = &v->r->sessions[i];
                time_t st = (time_t)se->created;
                char when[16];

                strftime(when, sizeof(when), "%H:%M:%S", localtime(&st));
                /* What a login said of itself is shown as text, never sent
                 * to the terminal as it came. */
                printf("  service=");
                print_clean(stdout, se->service);
                printf(" tty=");
                print_clean(stdout, se->tty);
                printf(" rhost=");
                print_clean(stdout, se->rhost);
                printf(" login-pid=%u since %s\n", se->pid, when);
        }
        printf("mounts (as seen inside)\n");
        for (size_t i = 0; i < v->n_mounts; i++)
                printf("  %-30s %-10s %s\n", v->mounts[i].point, v->mounts[i].type, v->mounts[i].opts);
        printf("processes (%zu)\n  %8s %8s %6s  %s\n", v->n_procs, "HOST-PID", "BOX-PID", "UID", "COMMAND");
        for (size_t i = 0; i < v->n_procs; i++) {
                printf("  %8d %8d %6u  ", v->procs[i].host_pid, v->procs[i].box_pid, v->procs[i].uid);
                print_clean(stdout, v->procs[i].comm);
                printf("\n");
        }
}

/* ---- show ---------------------------------------------------------------- */

/* The box's show, in as many parts as its sessions take: the box and its
 * spec as the first part says, the sessions of every part. */
static int fetch_show(const char *id, struct msg *m, struct show_reply *ret)
{
        uint32_t before = UINT32_MAX;
        int r;

        for (;;) {
                struct show_reply part = {};
                struct session_entry *v;

                msg_init(m, MSG_SHOW);
                r = proto_put_box_id(m, id);
                if (r == 0 && before != UINT32_MAX)
                        r = proto_put_show_cursor(m, before);
                if (r == 0)
                        r = helper_request(m, m, NULL);
                if (r == 0 && msg_type(m) == MSG_ERROR)
                        r = -ENOENT;
                if (r == 0)
                        r = proto_parse_show(m, before == UINT32_MAX ? ret : &part);
                if (r < 0 || before == UINT32_MAX) {
                        if (r == 0 && ret->next)
                                before = ret->next;
                        else
                                return r;
                        continue;
                }
                /* Each part goes on from an older session than the last. */
                v = part.next < before ? reallocarray(ret->sessions, ret->n_sessions + part.n_sessions, sizeof(*v))
                                       : NULL;
                if (!v) {
                        show_reply_done(&part);
                        return part.next < before ? -ENOMEM : -EBADMSG;
                }
                if (part.n_sessions)
                        memcpy(v + ret->n_sessions, part.sessions, part.n_sessions * sizeof(*v));
                ret->sessions = v;
                ret->n_sessions += part.n_sessions;
                before = part.next;
                show_reply_done(&part);
                if (before == 0)
                        return 0;
        }
}

static int show_one(const char *id, bool json, bool first)
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        _cleanup_free_ struct box_view *v = calloc(1, sizeof(*v));
        struct show_reply sr = {};
        int r = m && v ? fetch_show(id, m, &sr) : -ENOMEM;

        if (r == 0)
                r = view_of(&sr, v);
        if (r == 0 && json) {
                _cleanup_json_ json_object *o = show_json(v);

                r = json_print_element(o, first);
        } else if (r == 0)
                show_text(v);
        if (v && r == 0)
                kvs_done(&v->kvs);
        show_reply_done(&sr);
        return r;
}

int cmd_show(int argc, char **argv)
{
        struct box_info *boxes = NULL;
        const char *target = NULL;
        bool json = false;
        size_t n = 0;
        int r;

        if (!parse_target(argc, argv, "--json", &json, &target))
                return usage_of("show", stderr, EXIT_USAGE);
        r = resolve_boxes("show", target, &boxes, &n);
        if (r != EXIT_OK)
                return r;
        if (json)
                printf("[");
        for (size_t i = 0; r == EXIT_OK && i < n; i++) {
                int e = show_one(boxes[i].id, json, i == 0);

                if (e < 0) {
                        fprintf(stderr, "nsbox show: box %s: %s\n", boxes[i].id, strerror(-e));
                        r = EXIT_INVALID;
                }
        }
        if (json && r == EXIT_OK)
                printf("\n]\n");
        free(boxes);
        return r;
}
