/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The capability bounding set, as the module, nsbox-init and
 * nsbox-user-manager lower it. */
#pragma once

#include <stdint.h>

/* Drop every capability not in keep (a bit per capability) from the
 * bounding set, and from the inheritable and ambient sets, which the
 * bounding set does not mask at exec.  The permitted and effective sets
 * are left as they are.  0 or -errno. */
int caps_bound(uint64_t keep);
