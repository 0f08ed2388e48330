/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/subuid and /etc/subgid: a user's subordinate id range. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define SUBUID_FILE "/etc/subuid"
#define SUBGID_FILE "/etc/subgid"

/* The first range of PATH for the user (by name or by numeric id).  No
 * file or no entry gives count 0.  The file must be owned by root and not
 * writable by others; malformed lines are skipped. */
int subid_lookup(const char *path, const char *name, uint32_t id, uint32_t *ret_start, uint32_t *ret_count);
/* Whose range of PATH holds id: 1 with the name (or numeric id) as the
 * file gives it, 0 when none does. */
int subid_owner(const char *path, uint32_t id, char *ret_name, size_t size);
