/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening files that root will trust: the policy and the helper binary. */
#pragma once

/* Open an absolute path component by component without following symlinks.
 * Every directory on the way must be owned by root and not writable by group
 * or others (a root-owned sticky directory such as /tmp is accepted: nobody
 * else can rename root's entries in it).  The file itself must be owned by
 * root and not writable by group or others.  On failure *ret_why names the
 * component and what is wrong with it (caller frees). */
int open_trusted(const char *path, int flags, int *ret_fd, char **ret_why);

/* The same checks on an already open directory, for entries below it. */
int openat_trusted(int dirfd, const char *dirpath, const char *name, int flags, int *ret_fd, char **ret_why);
