/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One message on a SOCK_SEQPACKET socket, with fds beside it (SCM_RIGHTS):
 * how the module, the helper, nsbox-init and the CLI talk.  A message is a
 * netlink-style header and attributes (proto.c builds and reads them);
 * here it is only framed: what is sent is the header's length, what is
 * received must be exactly that. */
#pragma once

#include <stddef.h>

#define NSBOX_MSG_MAX 65536
/* The most fds one message carries. */
#define NSBOX_MAX_FDS 8

/* A message under construction or received.  Its length is its header's. */
struct msg {
        char buf[NSBOX_MSG_MAX];
};

size_t msg_len(const struct msg *m);
/* Is what arrived (received bytes in m's buffer) one whole message? */
int msg_check_frame(const struct msg *m, size_t received);

/* Receiving rejects truncated messages and more fds than asked for,
 * closing them all; EOF is -ECONNRESET. */
int msg_send_fds(int sock, const struct msg *m, const int *fds, size_t n_fds);
int msg_recv_fds(int sock, struct msg *m, int *ret_fds, size_t max_fds, size_t *ret_n);
/* The same with at most one fd (-1: none). */
int msg_send(int sock, const struct msg *m, int fd);
int msg_recv(int sock, struct msg *m, int *ret_fd);
