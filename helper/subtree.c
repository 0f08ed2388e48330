/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On a host with cgroup v2 that runs no systemd, a box with limits gets a
 * cgroup the helper makes and owns: /sys/fs/cgroup/nsbox/box-ID.  Nothing
 * else manages the tree there, so the helper writes it itself: it enables
 * the controllers the limits need on the root and on nsbox/, makes the
 * box's cgroup, writes its limits, and moves the box's init and each of
 * its logins in (their children follow).  The box's usage and OOM kills
 * are read there as on systemd hosts.
 *
 * A cgroup goes when it is empty: at the box's end, or, when a login
 * process still sits in it then, as soon as cgroup.events says it is not
 * populated.  A helper that died leaves empty cgroups at worst, which the
 * next one removes when it starts; nsbox/ itself goes, and the controllers
 * it enabled on the root are disabled again, when the helper exits. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "cpus.h"
#include "daemon.h"
#include "subtree.h"
#include "usage.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SUBTREE "nsbox"
#define CPU_PERIOD_USEC 100000ULL

/* The controllers the helper enabled on the root itself, to disable again. */
static unsigned root_enabled;

enum { C_PIDS, C_MEMORY, C_CPU, C_IO, C_CPUSET, _C_MAX };
static const char *const controller_names[_C_MAX] = { "pids", "memory", "cpu", "io", "cpuset" };

static int write_file(int dir, const char *name, const char *value)
{
        _cleanup_close_ int fd = cgroup_openat(dir, name, O_WRONLY);

        if (fd < 0)
                return fd;
        return write_all(fd, value, strlen(value));
}

/* Which controllers of mask a cgroup enables for its children. */
static unsigned enabled(int dir)
{
        _cleanup_close_ int fd = cgroup_openat(dir, "cgroup.subtree_control", O_RDONLY);
        char buf[256];
        unsigned m = 0;

        if (fd < 0 || read_short(fd, buf, sizeof(buf)) < 0)
                return 0;
        for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
                for (int c = 0; c < _C_MAX; c++)
                        if (strcmp(w, controller_names[c]) == 0)
                                m |= 1u << c;
        return m;
}

/* Enables the controllers in mask for a cgroup's children; returns those
 * it had to enable, or -errno naming the first it could not in *ret_which. */
static int enable(int dir, unsigned mask, const char **ret_which)
{
        unsigned have = enabled(dir), done = 0;

        for (int c = 0; c < _C_MAX; c++) {
                char v[16];
                int r;

                if (!(mask & (1u << c)) || (have & (1u << c)))
                        continue;
                snprintf(v, sizeof(v), "+%s", controller_names[c]);
                r = write_file(dir, "cgroup.subtree_control", v);
                if (r < 0) {
                        *ret_which = controller_names[c];
                        return r;
                }
                done |= 1u << c;
        }
        return (int)done;
}

static unsigned controllers_of(const struct box_limits *l, bool pinned)
{
        unsigned m = pinned ? 1u << C_CPUSET : 0;

        for (int i = 0; i < _L_MAX; i++) {
                if (l->v[i] == LIMIT_UNSET)
                        continue;
                for (int c = 0; c < _C_MAX; c++)
                        if (strcmp(limit_defs[i].controller, controller_names[c]) == 0)
                                m |= 1u << c;
        }
        return m;
}

/* The subtree, with the controllers in mask on for the boxes below it. */
static int open_subtree(unsigned mask, struct step_error *err)
{
        _cleanup_close_ int root = cgroup_root_open(), sub = -1;
        const char *which = NULL;
        int r;

        if (root < 0)
                return step_fail(err, "limits", "cgroup v2 (" CGROUP_ROOT " is not cgroup2)", root);
        r = enable(root, mask, &which);
        if (r >= 0) {
                root_enabled |= (unsigned)r;
                if (mkdirat(root, SUBTREE, 0755) < 0 && errno != EEXIST)
                        r = negative_errno();
        }
        if (r >= 0) {
                sub = cgroup_openat(root, SUBTREE, O_PATH | O_DIRECTORY);
                r = sub;
        }
        if (r >= 0)
                r = enable(sub, mask, &which);
        if (r < 0)
                return step_failf(err, "limits", r, "%s%s%s", CGROUP_ROOT "/" SUBTREE, which ? ": the controller " : "",
                                  which ?: "");
        return TAKE_FD(sub);
}

/* The limits as the kernel's files take them. */
static int write_limits(int dir, const struct box_limits *l, const cpu_set_t *cpus, struct step_error *err)
{
        char v[64];
        int r = 0;

        for (int i = 0; r >= 0 && i < _L_MAX; i++) {
                uint64_t x = l->v[i];

                if (x == LIMIT_UNSET)
                        continue;
                if (i == L_CPU_MAX)     /* µs per second, as a quota per period */
                        snprintf(v, sizeof(v), "%" PRIu64 " %llu", (uint64_t)(x * CPU_PERIOD_USEC / CPU_USEC_PER_SEC),
                                 CPU_PERIOD_USEC);
                else if (i == L_IO_WEIGHT)
                        snprintf(v, sizeof(v), "default %" PRIu64, x);
                else
                        snprintf(v, sizeof(v), "%" PRIu64, x);
                r = write_file(dir, limit_defs[i].file, v);
                if (r < 0)
                        return step_fail(err, "limits", limit_defs[i].file, r);
        }
        if (cpus) {
                r = write_file(dir, "cpuset.cpus", cpus_format(cpus, v, sizeof(v)));
                if (r < 0)
                        return step_fail(err, "limits", "cpuset.cpus", r);
        }
        return 0;
}

int subtree_box_create(const char *box_id, const struct box_limits *l, const cpu_set_t *cpus, pid_t init,
                       struct subtree_box *ret, struct step_error *err)
{
        _cleanup_close_ int sub = -1, dir = -1;
        char name[32], pid[16];
        int r;

        sub = open_subtree(controllers_of(l, cpus != NULL), err);
        if (sub < 0)
                return sub;
        snprintf(name, sizeof(name), "box-%s", box_id);
        if (mkdirat(sub, name, 0755) < 0)
                return step_failf(err, "limits", negative_errno(), "%s/%s/%s", CGROUP_ROOT, SUBTREE, name);
        dir = cgroup_openat(sub, name, O_PATH | O_DIRECTORY);
        r = dir < 0 ? step_failf(err, "limits", dir, "%s/%s/%s", CGROUP_ROOT, SUBTREE, name) : 0;
        if (r >= 0)
                r = write_limits(dir, l, cpus, err);
        snprintf(pid, sizeof(pid), "%d", (int)init);
        if (r >= 0 && (r = write_file(dir, "cgroup.procs", pid)) < 0)
                r = step_failf(err, "limits", r, "%s/%s/%s/cgroup.procs", CGROUP_ROOT, SUBTREE, name);
        if (r < 0) {
                (void)unlinkat(sub, name, AT_REMOVEDIR);
                return r;
        }
        snprintf(ret->path, sizeof(ret->path), "/%s/%s", SUBTREE, name);
        ret->dir = TAKE_FD(dir);
        return 0;
}

int subtree_attach(const struct subtree_box *b, pid_t pid)
{
        char v[16];

        snprintf(v, sizeof(v), "%d", (int)pid);
        return write_file(b->dir, "cgroup.procs", v);
}

/* A box's cgroup that a login process still held at the box's end: it
 * goes as soon as cgroup.events says it is empty. */
struct drain {
        struct watch events;
        struct subtree_box box;
        struct drain *next;
};
static struct drain *drains;

static int remove_now(struct subtree_box *b)
{
        _cleanup_close_ int root = cgroup_root_open(), sub = -1;
        const char *name = strrchr(b->path, '/');

        if (root < 0 || !name || (sub = cgroup_openat(root, SUBTREE, O_PATH | O_DIRECTORY)) < 0)
                return -ENOENT;
        if (unlinkat(sub, name + 1, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return negative_errno();
        closep(&b->dir);
        return 0;
}

static void drain_free(struct drain *d)
{
        for (struct drain **p = &drains; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        break;
                }
        loop_del(&d->events);
        closep(&d->events.fd);
        closep(&d->box.dir);
        free(d);
}

static void on_drain(struct watch *w, uint32_t events)
{
        struct drain *d = container_of(w, struct drain, events);
        char buf[256];

        (void)events;
        if (pread(w->fd, buf, sizeof(buf) - 1, 0) < 0 || remove_now(&d->box) != -EBUSY)
                drain_free(d);
}

void subtree_box_remove(struct subtree_box *b)
{
        struct drain *d;

        if (b->dir < 0 || remove_now(b) != -EBUSY)
                return;
        d = calloc(1, sizeof(*d));
        if (!d)
                return;
        d->box = *b;
        b->dir = -1;
        d->events = (struct watch){ .fd = cgroup_openat(d->box.dir, "cgroup.events", O_RDONLY), .cb = on_drain };
        d->next = drains;
        drains = d;
        if (d->events.fd < 0 || loop_add(&d->events, EPOLLPRI) < 0)
                drain_free(d);  /* left for the next helper's sweep */
}

int subtree_box_open(const char *box_id, struct subtree_box *ret)
{
        _cleanup_close_ int root = cgroup_root_open(), sub = -1;
        char name[32];

        snprintf(name, sizeof(name), "box-%s", box_id);
        if (root < 0 || (sub = cgroup_openat(root, SUBTREE, O_PATH | O_DIRECTORY)) < 0)
                return -ENOENT;
        ret->dir = cgroup_openat(sub, name, O_PATH | O_DIRECTORY);
        if (ret->dir < 0)
                return ret->dir;
        snprintf(ret->path, sizeof(ret->path), "/%s/%s", SUBTREE, name);
        return 0;
}

/* What a helper that died left: empty cgroups of boxes; populated ones
 * (a login that still runs) stay, and are counted as they were.  Those of
 * the boxes taken over stay too. */
void subtree_sweep(bool (*keep)(const char *box_id))
{
        _cleanup_close_ int root = cgroup_root_open(), sub = -1;
        DIR *d;
        struct dirent *de;

        if (root < 0 || (sub = cgroup_openat(root, SUBTREE, O_RDONLY | O_DIRECTORY)) < 0)
                return;
        d = fdopendir(dup(sub));
        while (d && (de = readdir(d)))
                if (strncmp(de->d_name, "box-", 4) == 0 && !keep(de->d_name + 4) &&
                    unlinkat(sub, de->d_name, AT_REMOVEDIR) < 0)
                        syslog(LOG_WARNING, "event=cgroup-left cgroup=%s/%s/%s: %m", CGROUP_ROOT, SUBTREE, de->d_name);
        if (d)
                closedir(d);
}

void subtree_done(void)
{
        _cleanup_close_ int root = cgroup_root_open();

        if (root < 0)
                return;
        /* Only when no box is left below it. */
        if (unlinkat(root, SUBTREE, AT_REMOVEDIR) < 0)
                return;
        for (int c = 0; c < _C_MAX; c++) {
                char v[16];

                if (!(root_enabled & (1u << c)))
                        continue;
                snprintf(v, sizeof(v), "-%s", controller_names[c]);
                (void)write_file(root, "cgroup.subtree_control", v);
        }
        root_enabled = 0;
}
