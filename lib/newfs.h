/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fresh filesystem instance, detached (fsopen, fsmount): the box's views
 * (nsbox-init) and the helper's own procfs per box (net.c). */
#pragma once

/* What a new filesystem is made with.  Every tmpfs has a size and an inode
 * limit: the user's own (/tmp, /var/tmp, /dev/shm) from the policy, the
 * box's small ones (its store, the hidden homes' root) a fixed few. */
struct fs_opts {
        const char *mode;
        const char *size;
        const char *inodes;
};

#define SMALL_TMPFS(m) (&(const struct fs_opts){ .mode = (m), .size = "1m", .inodes = "1k" })
#define NO_OPTS (&(const struct fs_opts){})

/* A mount fd of a new instance of type, with options o and the mount
 * attributes attrs; 0 or -errno. */
int new_fs(const char *type, const struct fs_opts *o, unsigned attrs, int *ret);
