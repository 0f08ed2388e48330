/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The module's own parts: pam_nsbox.c (the PAM hooks and the policy),
 * join.c (the login process into its box and back) and ask.c (asking the
 * helper, starting it where no systemd does). */
#pragma once

#include <security/pam_modules.h>
#include <stdbool.h>

#include "proto.h"

/* What pam_sm_close_session needs to undo the join. */
struct session_state {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        char id[NSBOX_ID_LEN + 1];
        bool joined;            /* false for a user manager's session */
        int saved_mnt, saved_uts, saved_ipc, saved_pid, saved_net, saved_cgroup;
        int saved_cwd;
};

/* join.c */
struct session_state *session_state_new(const struct box_reply *br);
void session_state_free(struct session_state *st);
/* Save the namespaces and the working directory of the process, then join
 * the box of pidfd: step names what failed. */
int session_join(struct session_state *st, int pidfd, unsigned namespaces, const char **ret_step);
int session_leave(struct session_state *st);
/* no_new_privs and the bounding set of the box's spec, on the login process. */
int session_privileges(const struct box_spec *s);

/* ask.c: one request to the helper for a box, starting the helper when
 * none runs and systemd does not start it.  On failure, *ret_err says
 * which step and object. */
int ask_for_box(const char *helper, const struct msg *req, struct msg *reply, int *ret_fd, struct error_reply *ret_err);
/* The session is over: tell the helper, without waiting for an answer. */
void tell_closed(const uint8_t cookie[NSBOX_COOKIE_LEN]);
