/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "paths.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "util.h"

static int check_owner_mode(int fd, const char *shown, bool is_dir, char **ret_why)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (is_dir && !S_ISDIR(st.st_mode)) {
                xasprintf(ret_why, "%s is not a directory", shown);
                return -ENOTDIR;
        }
        if (!is_dir && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                xasprintf(ret_why, "%s is not a regular file", shown);
                return -EINVAL;
        }
        if (st.st_uid != 0) {
                xasprintf(ret_why, "%s is owned by uid %u, not by root", shown, (unsigned)st.st_uid);
                return -EPERM;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))) {
                xasprintf(ret_why, "%s is writable by group or others (mode %04o)", shown,
                          (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

static int open_component(int dirfd, const char *name, const char *shown, int flags, bool last, int *ret_fd,
                          char **ret_why)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(dirfd, name, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ELOOP || (r == -ENOTDIR && !last))
                        xasprintf(ret_why, "%s is a symbolic link or not a directory", shown);
                else
                        xasprintf(ret_why, "%s: %s", shown, strerror(-r));
                return r;
        }
        r = check_owner_mode(fd, shown, !last, ret_why);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int openat_trusted(int dirfd, const char *dirpath, const char *name, int flags, int *ret_fd, char **ret_why)
{
        _cleanup_free_ char *shown = NULL;

        if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        if (xasprintf(&shown, "%s/%s", strcmp(dirpath, "/") == 0 ? "" : dirpath, name) < 0)
                return -ENOMEM;
        return open_component(dirfd, name, shown, flags, true, ret_fd, ret_why);
}

int open_trusted(const char *path, int flags, int *ret_fd, char **ret_why)
{
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *copy = NULL;
        char *p, *slash;
        int r;

        *ret_why = NULL;
        if (path[0] != '/') {
                xasprintf(ret_why, "%s is not an absolute path", path);
                return -EINVAL;
        }
        if (xstrdup(&copy, path) < 0)
                return -ENOMEM;
        dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return negative_errno();
        r = check_owner_mode(dirfd, "/", true, ret_why);
        if (r < 0)
                return r;
        for (p = copy + 1;; p = slash + 1) {
                int fd;
                bool last;

                slash = strchr(p, '/');
                last = !slash;
                if (slash)
                        *slash = '\0';
                if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
                        xasprintf(ret_why, "%s has an empty, '.' or '..' component", path);
                        return -EINVAL;
                }
                r = open_component(dirfd, p, copy, flags, last, &fd, ret_why);
                if (r < 0)
                        return r;
                closep(&dirfd);
                dirfd = fd;
                if (last)
                        break;
                *slash = '/';
        }
        *ret_fd = TAKE_FD(dirfd);
        return 0;
}
