/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is logging in, as NSS says: never from USER/HOME in the environment. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define IDENT_NAME_MAX 64
#define IDENT_HOME_MAX 1024

struct ident {
        char *name;
        uid_t uid;
        gid_t gid;
        char *group;            /* primary group name */
        char *home;             /* normalised, validated */
        char **groups;          /* names of the groups the user is in (see below) */
        size_t n_groups;
};

/* Look up a user through NSS and validate every value we later splice into
 * paths or messages.  Returns -ENOENT for an unknown user, -EINVAL (with
 * *ret_why set to a static reason) for a hostile or unusable identity. */
int ident_lookup(const char *name, struct ident *ret, const char **ret_why);

/* The same in two steps, for a login: the user alone (passwd), then only
 * the groups a policy names.  ident_load_groups() fills id->groups with
 * those of names the user is in (or, when one of them cannot be found as
 * spelled, with every group of the user) and, with primary, id->group. */
int ident_lookup_user(const char *name, struct ident *ret, const char **ret_why);
int ident_load_groups(struct ident *id, char *const *names, size_t n, bool primary, const char **ret_why);
void ident_done(struct ident *id);

/* A user or group name safe to use in paths, section names and logs. */
bool ident_name_valid(const char *s);

/* An absolute path without ".", "..", empty components, control characters,
 * white space, ':' or ','.  Used for homes and for expanded policy paths. */
bool path_is_clean(const char *p);
