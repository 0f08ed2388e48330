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

/* /sys/fs/cgroup when it is cgroup v2, else -errno. */
static int cgroup_root(void)
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

/* One file of one cgroup, read whole (they are short); -errno when the
 * cgroup or the file is not there. */
static int read_cgroup_file(int dir, const char *name, char *buf, size_t size)
{
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));

        return fd < 0 ? negative_errno() : read_short(fd, buf, size);
}

static void add(uint64_t *sum, uint64_t v)
{
        *sum = *sum == USAGE_UNKNOWN ? v : *sum + v;
}

void cgroup_usage_add(const char *path, struct box_usage *u)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int dir = -1, root = -1;
        unsigned long long v;
        char buf[1024];
        const char *p;

        /* The root cgroup is the whole machine, never one box's. */
        if (path[0] != '/' || !path[1] || (root = cgroup_root()) < 0)
                return;
        dir = (int)syscall(SYS_openat2, root, path + 1, &how, sizeof(how));
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
        if (read_cgroup_file(dir, "memory.events", buf, sizeof(buf)) == 0 && (p = strstr(buf, "oom_kill ")) &&
            sscanf(p + 9, "%llu", &v) == 1)
                add(&u->oom_kills, v);
}
