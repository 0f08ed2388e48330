/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a box uses of what its limits bound, read from cgroup v2. */
#pragma once

#include <sys/types.h>

#include "proto.h"

/* The cgroup v2 path of a process ("/user.slice/.../session-3.scope"), as
 * its "0::" line of /proc/PID/cgroup gives it.  -ENOENT on a host with no
 * cgroup v2 hierarchy. */
int cgroup_of_pid(pid_t pid, char *buf, size_t size);

/* Adds one cgroup's tasks, memory and CPU time to *u: each counter that
 * cgroup has (a controller may be off there) is added, one it lacks leaves
 * *u as it was.  The path is relative to /sys/fs/cgroup, resolved without
 * following anything. */
void cgroup_usage_add(const char *path, struct box_usage *u);
