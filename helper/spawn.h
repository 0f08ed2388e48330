/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's PID 1: nsbox-init, started in the box's new namespaces with its
 * link on fd 3 and its user namespace (if any) on fd 4. */
#pragma once

#include <sys/types.h>

/* Once, at start: init_exe is nsbox-init, opened O_PATH. */
int spawn_prepare(int init_exe);
/* The init's pid, its pidfd in *ret_pidfd; -1 with errno on failure. */
pid_t spawn_init(unsigned namespaces, int sync_fd, int userns_fd, int *ret_pidfd);
