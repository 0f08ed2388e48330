/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Is pam_nsbox in a login's session stack?  Asked by the module for the
 * user manager (which is boxed only while logins are) and by `nsbox
 * check` (which says when no login would be boxed). */
#pragma once

#include <stdbool.h>

/* Does some service file in dir (/etc/pam.d) but skip put pam_nsbox.so in
 * its session stack?  Includes are not followed: the enabling line is in
 * common-session or in the service's own file. */
bool pam_stack_has_module(const char *dir, const char *skip);
