/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "util.h"

int helper_connect(const char *path, unsigned timeout_sec, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = timeout_sec };
        struct ucred cred;
        socklen_t len = sizeof(cred);
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int helper_call_fds(const char *path, unsigned timeout_sec, const struct msg *req, struct msg *reply, int *ret_fds,
                    size_t max_fds, size_t *ret_n)
{
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        int r;

        r = helper_connect(path, timeout_sec, &fd);
        if (r == 0)
                r = msg_send(fd, req, -1);
        if (r == 0)
                r = msg_recv_fds(fd, reply, ret_fds, max_fds, &n);
        if (ret_n)
                *ret_n = n;
        /* A receive deadline reads as EAGAIN. */
        return r == -EAGAIN ? -ETIMEDOUT : r;
}

int helper_call(const char *path, unsigned timeout_sec, const struct msg *req, struct msg *reply, int *ret_fd)
{
        size_t n = 0;
        int fd = -1, r;

        r = helper_call_fds(path, timeout_sec, req, reply, &fd, ret_fd ? 1 : 0, &n);
        if (ret_fd)
                *ret_fd = n ? fd : -1;
        return r;
}
