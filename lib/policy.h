/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy file: /etc/security/nsbox.conf and the nsbox.d drop-ins beside it. */
#pragma once

#include <stdbool.h>

#include "ident.h"
#include "spec.h"

#define NSBOX_DEFAULT_CONFIG "/etc/security/nsbox.conf"

enum key_id {
        K_EXEMPT_USERS,
        K_EXEMPT_GROUPS,
        K_BOX,
        K_NAMESPACES,
        K_SHARE,
        K_LINGER,
        K_PROPAGATION,
        K_PRIVATE_TMP,
        K_X11,
        K_TMP_KEEP,
        K_HIDE_HOMES,
        K_READ_ONLY,
        K_INACCESSIBLE,
        K_BIND,
        K_HOSTNAME,
        K_USER_ROOT,
        K_NO_NEW_PRIVS,
        K_CAPABILITY_BOUNDING,
        K_NETWORK,
        K_NAT,
        K_BRIDGE,
        K_GATEWAY,
        K_ISOLATE,
        K_DNS,
        K_POOL4,
        K_POOL6,
        K_PREPARED_BOXES,
        K_PREPARED_LINGER,
        K_TMPFS_SIZE,
        K_TMPFS_INODES,
        /* Limits, in limit_defs' order (resources.h). */
        K_TASKS_MAX,
        K_MEMORY_MAX,
        K_MEMORY_HIGH,
        K_MEMORY_SWAP_MAX,
        K_CPU_WEIGHT,
        K_CPU_MAX,
        K_IO_WEIGHT,
        _K_MAX,
};

enum section_kind { SEC_GLOBAL, SEC_DEFAULT, SEC_GROUP, SEC_USER };

struct entry {
        enum key_id key;
        char *value;
        const char *file;       /* points into policy.files */
};

struct section {
        char *name;             /* as iniparser gives it: lowercased */
        enum section_kind kind;
        char *arg;              /* NAME of [group:NAME] and [user:NAME] */
        struct entry *entries;
        size_t n_entries;
};

struct policy {
        struct section *sections;       /* in order of first appearance */
        size_t n_sections;
        char **files;                   /* every file read, in order */
        size_t n_files;
        char **errors;                  /* one message per problem */
        size_t n_errors;
};

/* Read and validate the policy.  Returns 0 when it is valid; -EINVAL when it
 * has errors (then policy->errors holds every message and the rest holds what
 * could be read); another -errno when it could not be read at all. */
int policy_load(const char *path, struct policy *ret);
void policy_done(struct policy *p);

/* Parse, check and merge one already opened, already trusted file (exposed
 * for tests).  Problems are appended to p->errors. */
int policy_load_fd(struct policy *p, int fd, const char *shown);

/* The value of one key for a user, and where it came from. */
struct resolved {
        const char *value[_K_MAX];
        const char *file[_K_MAX];       /* NULL: built-in default */
        const char *section[_K_MAX];
};

bool policy_is_exempt(const struct policy *p, const struct ident *id);

/* The group names the policy matches a user against ([group:NAME] sections,
 * exempt_groups), and whether it uses ${GROUP}: what a login has to ask NSS
 * about beyond the user.  The caller frees *ret with strv_free(). */
int policy_group_names(const struct policy *p, char ***ret, size_t *ret_n, bool *ret_primary);
void policy_resolve(const struct policy *p, const struct ident *id, struct resolved *ret);

/* Turn the resolved values into a box specification.  *ret_why describes a
 * failure (caller frees).  Does not decide exemption or box = no. */
int policy_build_spec(const struct resolved *r, const struct ident *id, struct box_spec *ret, char **ret_why);
bool policy_wants_box(const struct resolved *r);

const char *key_name(enum key_id k);
bool key_is_global(enum key_id k);

/* capability_bounding: "" (leave alone), "none", or capability names
 * separated by commas or spaces, as libcap spells them. */
int parse_caps(const char *v, bool *ret_set, uint64_t *ret_keep, char **ret_why);

/* ${USER} ${UID} ${HOME} ${GROUP}.  Unknown variables are an error. */
int expand(const char *tmpl, const struct ident *id, char **ret, char **ret_why);
