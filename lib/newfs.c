/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "newfs.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "util.h"

int new_fs(const char *type, const struct fs_opts *o, unsigned attrs, int *ret)
{
        _cleanup_close_ int fs = -1;
        int m;

        fs = fsopen(type, FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        if ((o->mode && fsconfig(fs, FSCONFIG_SET_STRING, "mode", o->mode, 0) < 0) ||
            (o->size && fsconfig(fs, FSCONFIG_SET_STRING, "size", o->size, 0) < 0) ||
            (o->inodes && fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", o->inodes, 0) < 0))
                return negative_errno();
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (m < 0)
                return negative_errno();
        *ret = m;
        return 0;
}
