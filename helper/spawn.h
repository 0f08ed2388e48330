/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's PID 1: nsbox-init, started in the box's new namespaces with its
 * link on fd 3, its user namespace (if any) on fd 4, the helper's end of
 * the link on fd 5 and the helper's pidfd on fd 6.  A box whose net
 * namespace was made ahead (prepared.c) is started in that one instead of
 * a new one.  A prepared box (prepared.c) is started with no user
 * namespace, and gets it with its spec at login. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Once, at start: init_exe is nsbox-init, opened O_PATH. */
int spawn_prepare(int init_exe);
/* The init's pid, its pidfd in *ret_pidfd and the helper's end of its link
 * (a new socket pair, whose other end the init holds) in *ret_link; -1
 * with errno on failure. */
pid_t spawn_init(unsigned namespaces, int userns_fd, int netns_fd, bool prepared, int *ret_pidfd, int *ret_link);
