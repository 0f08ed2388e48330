/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "transport.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include "util.h"

size_t msg_len(const struct msg *m)
{
        const struct nlmsghdr *h = (const struct nlmsghdr *)m->buf;

        return h->nlmsg_len;
}

int msg_check_frame(const struct msg *m, size_t received)
{
        if (received < NLMSG_HDRLEN || received > sizeof(m->buf) || msg_len(m) != received)
                return -EBADMSG;
        return 0;
}

int msg_send_fds(int sock, const struct msg *m, const int *fds, size_t n_fds)
{
        struct iovec iov = { .iov_base = (void *)m->buf, .iov_len = msg_len(m) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * NSBOX_MAX_FDS)];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > NSBOX_MAX_FDS || iov.iov_len < NLMSG_HDRLEN || iov.iov_len > sizeof(m->buf))
                return -E2BIG;
        if (n_fds > 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                ssize_t k = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (k >= 0)
                        return (size_t)k == iov.iov_len ? 0 : -EMSGSIZE;
                if (errno != EINTR)
                        return negative_errno();
        }
}

int msg_send(int sock, const struct msg *m, int fd)
{
        return msg_send_fds(sock, m, &fd, fd >= 0 ? 1 : 0);
}

/* The fds of a received message: up to max kept in fds, the rest closed
 * and counted in *ret_extra. */
static size_t take_fds(struct msghdr *mh, int *fds, size_t max, size_t *ret_extra)
{
        size_t n_fds = 0;

        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int x;

                        memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n_fds < max && n_fds < NSBOX_MAX_FDS)
                                fds[n_fds++] = x;
                        else {
                                close(x);
                                (*ret_extra)++;
                        }
                }
        }
        return n_fds;
}

int msg_recv_fds(int sock, struct msg *m, int *ret_fds, size_t max_fds, size_t *ret_n)
{
        struct iovec iov = { .iov_base = m->buf, .iov_len = sizeof(m->buf) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * (NSBOX_MAX_FDS + 1))];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        int fds[NSBOX_MAX_FDS];
        size_t n_fds, extra = 0;
        ssize_t k;
        int r;

        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        /* A peer that closed with messages of ours unread leaves a reset
         * pending, which the kernel reports once, before the messages the
         * peer sent (an init's reason for failing, sent as it exits).
         * Those are read still; the reset is said when none is left. */
        if (k < 0 && errno == ECONNRESET) {
                mh.msg_controllen = sizeof(control.buf);
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
                if (k < 0 && errno == EAGAIN)
                        errno = ECONNRESET;
        }
        if (k < 0)
                return negative_errno();
        n_fds = take_fds(&mh, fds, max_fds, &extra);
        r = k == 0 ? -ECONNRESET : msg_check_frame(m, (size_t)k);
        if (r == 0 && ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra > 0))
                r = -EBADMSG;
        if (r < 0) {
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]);
                return r;
        }
        if (n_fds)
                memcpy(ret_fds, fds, sizeof(int) * n_fds);
        *ret_n = n_fds;
        return 0;
}

int msg_recv(int sock, struct msg *m, int *ret_fd)
{
        size_t n = 0;
        int fd = -1, r = msg_recv_fds(sock, m, &fd, ret_fd ? 1 : 0, &n);

        if (r == 0 && ret_fd)
                *ret_fd = n ? fd : -1;
        return r;
}
