/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a box uses of what its limits bound, read from cgroup v2. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* /sys/fs/cgroup, open (O_PATH), when it is cgroup v2; else -errno. */
int cgroup_root_open(void);

/* The cgroup v2 path of a process ("/user.slice/.../session-3.scope"), as
 * its "0::" line of /proc/PID/cgroup gives it.  -ENOENT on a host with no
 * cgroup v2 hierarchy. */
int cgroup_of_pid(pid_t pid, char *buf, size_t size);

/* Adds one cgroup's tasks, memory and CPU time to *u: each counter that
 * cgroup has (a controller may be off there) is added, one it lacks leaves
 * *u as it was.  The path is relative to /sys/fs/cgroup, resolved without
 * following anything. */
void cgroup_usage_add(const char *path, struct box_usage *u);

/* memory.events of a cgroup, open for reading: the kernel marks it changed
 * (EPOLLPRI) at each memory event, until it is read again.  -errno where
 * the cgroup or its memory controller is not there. */
int cgroup_events_open(const char *path);
/* The oom_kill count of an open memory.events, read from its start: the
 * processes of that cgroup and below that an OOM killer ended.  -ENODEV
 * once the cgroup is gone. */
int cgroup_events_oom_kills(int fd, uint64_t *ret);

/* Is cgroup a equal to b or below it? */
bool cgroup_within(const char *a, const char *b);
/* The user's slice, as systemd names the unit ("user-1000.slice") and as
 * its cgroup is found ("/user.slice/user-1000.slice"). */
void user_slice_unit(uid_t uid, char *buf, size_t size);
void user_slice_path(uid_t uid, char *buf, size_t size);
/* Is the cgroup one of the user's own, below their slice (a session's
 * scope, their manager's service)? */
bool cgroup_is_users(const char *path, uid_t uid);
/* The unit of a cgroup directly below the user's slice ("session-3.scope",
 * "user@1000.service"), pointing into path; NULL for any other cgroup. */
const char *cgroup_users_unit(const char *path, uid_t uid);
/* Is the unit one of logind's session scopes ("session-N.scope")? */
bool unit_is_session_scope(const char *unit);
/* openat2() below dir, following nothing (no symbolic or magic link, no
 * other mount): how every cgroupfs path is opened. */
int cgroup_openat(int dir, const char *path, int flags);
/* Up to max of the processes in a cgroup (cgroup.procs); their number, or
 * -errno. */
int cgroup_pids(const char *path, pid_t *pids, size_t max);
