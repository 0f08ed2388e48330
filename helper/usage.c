/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Usage of a box's cgroups: pids.current, memory.current, cpu.stat's
 * usage_usec and memory.events' oom_kill, summed over the cgroups that hold
 * the box's processes.  The files are read, never written: on systemd hosts
 * systemd owns the tree. */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "usage.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

int cgroup_of_pid(pid_t pid, char *buf, size_t size)
{
        char path[64], line[512];
        _cleanup_fclose_ FILE *f = NULL;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "0::/", 4) != 0)
                        continue;
                if (strlen(line + 3) >= size)
                        return -ENAMETOOLONG;
                snprintf(buf, size, "%s", line + 3);
                return 0;
        }
        return -ENOENT;
}

int cgroup_root_open(void)
{
        int fd = open(CGROUP_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sf;

        if (fd < 0)
                return negative_errno();
        if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
                close(fd);
                return -EOPNOTSUPP;
        }
        return fd;
}

int cgroup_openat(int dir, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));

        return fd < 0 ? negative_errno() : fd;
}

/* One file of one cgroup, open for reading. */
static int cgroup_file(int dir, const char *name)
{
        return cgroup_openat(dir, name, O_RDONLY);
}

/* One file of one cgroup, read whole (they are short); -errno when the
 * cgroup or the file is not there. */
static int read_cgroup_file(int dir, const char *name, char *buf, size_t size)
{
        _cleanup_close_ int fd = cgroup_file(dir, name);

        return fd < 0 ? fd : read_short(fd, buf, size);
}

static void add(uint64_t *sum, uint64_t v)
{
        *sum = *sum == USAGE_UNKNOWN ? v : *sum + v;
}

/* A cgroup's directory, below /sys/fs/cgroup, resolved without following
 * anything; never the root cgroup, which is the whole machine's. */
static int cgroup_dir(const char *path)
{
        _cleanup_close_ int root = -1;

        if (path[0] != '/' || !path[1])
                return -EINVAL;
        root = cgroup_root_open();
        if (root < 0)
                return root;
        return cgroup_openat(root, path + 1, O_PATH | O_DIRECTORY);
}

static int oom_kills_of(const char *events, uint64_t *ret)
{
        unsigned long long v;
        const char *p = strstr(events, "oom_kill ");

        if (!p || sscanf(p + 9, "%llu", &v) != 1)
                return -ENODATA;
        *ret = v;
        return 0;
}

void cgroup_usage_add(const char *path, struct box_usage *u)
{
        _cleanup_close_ int dir = cgroup_dir(path);
        unsigned long long v;
        uint64_t kills;
        char buf[1024];
        const char *p;

        if (dir < 0)
                return;
        if (read_cgroup_file(dir, "pids.current", buf, sizeof(buf)) == 0 && sscanf(buf, "%llu", &v) == 1)
                add(&u->tasks, v);
        if (read_cgroup_file(dir, "memory.current", buf, sizeof(buf)) == 0 && sscanf(buf, "%llu", &v) == 1)
                add(&u->memory, v);
        if (read_cgroup_file(dir, "cpu.stat", buf, sizeof(buf)) == 0 && (p = strstr(buf, "usage_usec ")) &&
            sscanf(p + 11, "%llu", &v) == 1)
                add(&u->cpu_usec, v);
        /* Kills by the OOM killer in this cgroup and below. */
        if (read_cgroup_file(dir, "memory.events", buf, sizeof(buf)) == 0 && oom_kills_of(buf, &kills) == 0)
                add(&u->oom_kills, kills);
}

int cgroup_events_open(const char *path)
{
        _cleanup_close_ int dir = cgroup_dir(path);

        return dir < 0 ? dir : cgroup_file(dir, "memory.events");
}

int cgroup_events_oom_kills(int fd, uint64_t *ret)
{
        char buf[1024];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        return oom_kills_of(buf, ret);
}

bool cgroup_within(const char *a, const char *b)
{
        size_t n = strlen(b);

        return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

void user_slice_unit(uid_t uid, char *buf, size_t size)
{
        snprintf(buf, size, "user-%u.slice", (unsigned)uid);
}

void user_slice_path(uid_t uid, char *buf, size_t size)
{
        char unit[32];

        user_slice_unit(uid, unit, sizeof(unit));
        snprintf(buf, size, "/user.slice/%s", unit);
}

bool cgroup_is_users(const char *path, uid_t uid)
{
        char slice[64];

        user_slice_path(uid, slice, sizeof(slice));
        return cgroup_within(path, slice) && strcmp(path, slice) != 0;
}

const char *cgroup_users_unit(const char *path, uid_t uid)
{
        char slice[64];
        size_t n;

        user_slice_path(uid, slice, sizeof(slice));
        n = strlen(slice);
        if (!cgroup_within(path, slice) || path[n] != '/' || !path[n + 1] || strchr(path + n + 1, '/'))
                return NULL;
        return path + n + 1;
}

bool unit_is_session_scope(const char *unit)
{
        size_t n = strlen(unit);

        return strncmp(unit, "session-", 8) == 0 && n >= 15 && strcmp(unit + n - 6, ".scope") == 0;
}

int cgroup_pids(const char *path, pid_t *pids, size_t max)
{
        _cleanup_close_ int dir = cgroup_dir(path), fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;
        int pid;

        if (dir < 0)
                return dir;
        fd = cgroup_file(dir, "cgroup.procs");
        if (fd < 0)
                return fd;
        f = fdopen(fd, "re");
        if (!f)
                return negative_errno();
        fd = -1;
        while (n < max && fscanf(f, "%d", &pid) == 1)
                if (pid > 0)
                        pids[n++] = pid;
        return (int)n;
}
