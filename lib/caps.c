/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "caps.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include "util.h"

int caps_bound(uint64_t keep)
{
        cap_t caps = cap_get_proc();
        int r = 0;

        if (!caps)
                return negative_errno();
        for (cap_value_t c = 0; c <= CAP_LAST_CAP && r == 0; c++) {
                if (keep & (1ULL << c))
                        continue;
                /* EINVAL: a capability this kernel does not have. */
                if (cap_drop_bound(c) < 0 && errno != EINVAL)
                        r = negative_errno();
                else if (cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_CLEAR) < 0)
                        r = negative_errno();
                else if (keep && CAP_AMBIENT_SUPPORTED() && cap_set_ambient(c, CAP_CLEAR) < 0 && errno != EINVAL)
                        r = negative_errno();
        }
        /* Keeping none, the ambient set goes whole, in one call (libcap's
         * cap_reset_ambient() asks about each capability first); EINVAL: a
         * kernel without ambient capabilities. */
        if (r == 0 && !keep && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                r = negative_errno();
        if (r == 0 && cap_set_proc(caps) < 0)
                r = negative_errno();
        cap_free(caps);
        return r;
}
