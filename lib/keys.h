/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy's keys (keys.c), as loading (policy.c) and resolution
 * (resolve.c) use them; key_name(), key_is_global(), expand() and
 * parse_caps() are policy.h's. */
#pragma once

#include "policy.h"

/* linger: a week at most. */
#define LINGER_MAX 604800

const char *key_default(enum key_id k);
/* The key called name, or -1. */
int key_lookup(const char *name);
/* Is value good for key k?  0, or -errno with *ret_why saying why. */
int key_check(enum key_id k, const char *value, char **ret_why);
/* A path of the policy with ${VAR} expanded: absolute and clean. */
int expand_path(const char *tmpl, const struct ident *id, char **ret, char **why);
/* bind = SRC:DST[:ro] ...: each one, expanded, into spec (or only checked
 * when spec is NULL, against a sample identity). */
int for_each_bind(const char *v, const struct ident *id, struct box_spec *spec, char **why);
