/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reaching the helper, for the module, the CLI and nsbox-user-manager: a
 * connection to one of its sockets with deadlines both ways, and one
 * request with its reply.  The listener must be root (the helper, or
 * systemd holding its socket): nobody else can answer for it. */
#pragma once

#include <stddef.h>

#include "proto.h"

int helper_connect(const char *path, unsigned timeout_sec, int *ret_fd);

/* Send req on a new connection to path and receive the reply (which may
 * be req's buffer) with up to max_fds fds.  -ENOENT or -ECONNREFUSED: no
 * helper listens; -ETIMEDOUT: it did not answer in time. */
int helper_call_fds(const char *path, unsigned timeout_sec, const struct msg *req, struct msg *reply, int *ret_fds,
                    size_t max_fds, size_t *ret_n);
int helper_call(const char *path, unsigned timeout_sec, const struct msg *req, struct msg *reply, int *ret_fd);
