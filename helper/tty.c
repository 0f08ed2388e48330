/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A line on a login's terminal, from the helper: the kernel says only
 * which cgroup lost a process to the OOM killer, and a user who sees
 * "Killed" learns there that the box's memory limit was reached. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tty.h"
#include "util.h"

const char *tty_name(const char *tty)
{
        if (!tty)
                return NULL;
        if (strncmp(tty, "/dev/", 5) == 0)
                tty += 5;
        if (strncmp(tty, "pts/", 4) != 0 && strncmp(tty, "tty", 3) != 0)
                return NULL;
        if (tty[strspn(tty, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/")] != '\0' ||
            strstr(tty, "//") || tty[strlen(tty) - 1] == '/')
                return NULL;
        return tty;
}

int tty_tell(const char *tty, uid_t uid, const char *line)
{
        /* Not RESOLVE_NO_XDEV: /dev/pts is a mount of its own. */
        struct open_how how = {
                .flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        const char *name = tty_name(tty);
        _cleanup_close_ int dev = -1, fd = -1;
        struct stat st;
        char buf[512];
        int n;

        if (!name)
                return -ENOTTY;
        dev = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dev < 0)
                return negative_errno();
        fd = (int)syscall(SYS_openat2, dev, name, &how, sizeof(how));
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* The login's own terminal still: a device its user owns. */
        if (!S_ISCHR(st.st_mode) || st.st_uid != uid || !isatty(fd))
                return -EPERM;
        n = snprintf(buf, sizeof(buf), "\r\n%s\r\n", line);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        /* Never waits: a stopped terminal loses the line. */
        return write(fd, buf, (size_t)n) < 0 ? negative_errno() : 0;
}

#define UNIX98_PTY_SLAVE_MAJOR 136

int tty_of_pid(pid_t pid, char *buf, size_t size)
{
        char path[64], line[1024], *p;
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long nr;
        unsigned maj, min;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f || !fgets(line, sizeof(line), f))
                return -ESRCH;
        /* After the command's name, which may hold anything: state, ppid,
         * pgrp, session, tty_nr. */
        p = strrchr(line, ')');
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %llu", &nr) != 1)
                return -EIO;
        if (nr == 0)
                return -ENOTTY;
        maj = major((dev_t)nr);
        min = minor((dev_t)nr);
        if (maj == UNIX98_PTY_SLAVE_MAJOR) {
                snprintf(buf, size, "pts/%u", min);
                return 0;
        }
        /* Others (the console's tty1, a serial ttyS0) by what sysfs says. */
        snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", maj, min);
        fclose(f);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "DEVNAME=", 8) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(buf, size, "%s", line + 8);
                        return tty_name(buf) ? 0 : -ENOTTY;
                }
        return -ENOTTY;
}

/* The children of a process's main thread, as procfs lists them. */
static int children_of(pid_t pid, pid_t *ret, size_t max)
{
        char path[64];
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;
        int c;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (n < max && fscanf(f, "%d", &c) == 1)
                ret[n++] = c;
        return (int)n;
}

int tty_of_descendants(pid_t pid, unsigned depth, char *buf, size_t size)
{
        pid_t level[64], next[64];
        size_t n = 1;

        level[0] = pid;
        for (unsigned d = 0; d <= depth && n > 0; d++) {
                size_t m = 0;

                for (size_t i = 0; i < n; i++)
                        if (tty_of_pid(level[i], buf, size) == 0)
                                return 0;
                for (size_t i = 0; i < n && m < ARRAY_SIZE(next); i++) {
                        int k = children_of(level[i], next + m, ARRAY_SIZE(next) - m);

                        if (k > 0)
                                m += (size_t)k;
                }
                memcpy(level, next, m * sizeof(pid_t));
                n = m;
        }
        return -ENOTTY;
}
