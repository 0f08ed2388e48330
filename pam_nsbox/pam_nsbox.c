/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_nsbox: put every login into a box.
 *
 * The module stays small: it reads the policy, asks the helper for a box
 * (ask.c), joins the box's namespaces (join.c), and sets the environment.
 * Everything that forks, mounts or keeps state lives in nsbox-helper.
 * pam_sm_close_session puts the process back.
 *
 * No exit(), no signal handler, no thread; the one child we ever make (to
 * start the helper) is reaped before we return and never raises SIGCHLD in
 * the application. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include "module.h"
#include "pamconf.h"
#include "policy.h"
#include "util.h"

#ifndef NSBOX_HELPER_PATH
#define NSBOX_HELPER_PATH "/usr/libexec/nsbox/nsbox-helper"
#endif

/* Built with -fvisibility=hidden; the version script lists the same two. */
#define NSBOX_EXPORT __attribute__((visibility("default")))

#define DATA_NAME "pam_nsbox_session"

struct args {
        const char *config;
        const char *helper;
        bool debug;
        bool user_manager;      /* in the systemd-user stack: see user_manager_boxed() */
};

static void parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
        *a = (struct args){ .config = NSBOX_DEFAULT_CONFIG, .helper = NSBOX_HELPER_PATH };
        for (int i = 0; i < argc; i++) {
                if (strncmp(argv[i], "config=", 7) == 0)
                        a->config = argv[i] + 7;
                else if (strncmp(argv[i], "helper=", 7) == 0)
                        a->helper = argv[i] + 7;
                else if (strcmp(argv[i], "debug") == 0)
                        a->debug = true;
                else if (strcmp(argv[i], "user_manager") == 0)
                        a->user_manager = true;
                else
                        pam_syslog(pamh, LOG_WARNING, "unknown module argument '%s' ignored", argv[i]);
        }
}

/* A PAM item as a string: NULL when unset or empty. */
static const char *item_or_null(pam_handle_t *pamh, int type)
{
        const void *v = NULL;

        return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v && *(const char *)v ? v : NULL;
}

/* The same for a log line: "-" when unset. */
static const char *item_or_dash(pam_handle_t *pamh, int type)
{
        const char *v = item_or_null(pamh, type);

        return v ? v : "-";
}

/* The login's local X display number: PAM_XDISPLAY, or a display
 * manager's PAM_TTY of the form ":N" (also ":N.S"); -1 for none.  A remote
 * display (host:N) has no socket here. */
static int x_display(pam_handle_t *pamh)
{
        const char *d = item_or_null(pamh, PAM_XDISPLAY) ?: item_or_null(pamh, PAM_TTY);
        unsigned long n;
        char num[16];

        if (!d || d[0] != ':')
                return -1;
        snprintf(num, sizeof(num), "%.*s", (int)strcspn(d + 1, "."), d + 1);
        if (parse_uint(num, 65535, &n) < 0)
                return -1;
        return (int)n;
}

/* The one record of a denied session: who, from where, and why. */
static int deny(pam_handle_t *pamh, const char *user, uid_t uid, const char *fmt, ...) _printf_(4, 5);
static int deny(pam_handle_t *pamh, const char *user, uid_t uid, const char *fmt, ...)
{
        char buf[1024], uidbuf[16] = "-", u[64], svc[64], tty[64], rhost[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (uid != (uid_t)-1)
                snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
        pam_syslog(pamh, LOG_ERR, "event=denied user=%s uid=%s service=%s tty=%s rhost=%s pid=%d %s",
                   log_value(user, u, sizeof(u)), uidbuf, log_value(item_or_dash(pamh, PAM_SERVICE), svc, sizeof(svc)),
                   log_value(item_or_dash(pamh, PAM_TTY), tty, sizeof(tty)),
                   log_value(item_or_dash(pamh, PAM_RHOST), rhost, sizeof(rhost)), (int)getpid(), buf);
        return PAM_SESSION_ERR;
}

static void debug_step(pam_handle_t *pamh, const struct args *a, const char *user, const char *box, const char *step,
                       unsigned long long since)
{
        if (a->debug)
                pam_syslog(pamh, LOG_DEBUG, "event=step user=%s box=%s step=%s usec=%llu", user, box, step,
                           now_usec() - since);
}

/* ---- the policy ------------------------------------------------------------ */

/* Load the policy and the user's groups that it names (also for the
 * exemptions of a policy that is invalid).  PAM_SUCCESS with *ret_r the
 * load's result, or a denial. */
static int load_policy(pam_handle_t *pamh, const struct args *a, struct ident *id, struct policy *pol, int *ret_r)
{
        _cleanup_(strv_freep) char **names = NULL;
        const char *why = NULL;
        bool primary = false;
        size_t n = 0;
        int g;

        *ret_r = policy_load(a->config, pol);
        g = policy_group_names(pol, &names, &n, &primary);
        if (g >= 0)
                g = ident_load_groups(id, names, n, primary, &why);
        /* Root is never locked out by a group lookup. */
        if (g < 0 && id->uid != 0)
                return deny(pamh, id->name, id->uid, "step=identity: %s", why ?: strerror(-g));
        return PAM_SUCCESS;
}

/* A policy that cannot be read fails closed, except for root and the users
 * its readable part exempts: they must always be able to log in and
 * repair it. */
static int invalid_policy(pam_handle_t *pamh, const struct args *a, const struct ident *id, const struct policy *pol,
                          int r)
{
        const char *why = pol->n_errors ? pol->errors[0] : strerror(-r);

        if (id->uid != 0 && !policy_is_exempt(pol, id))
                return deny(pamh, id->name, id->uid, "step=policy object=%s: invalid: %s", a->config, why);
        pam_syslog(pamh, LOG_WARNING, "event=exempt-despite-invalid-policy user=%s uid=%u service=%s pid=%d policy %s: %s",
                   id->name, (unsigned)id->uid, item_or_dash(pamh, PAM_SERVICE), (int)getpid(), a->config, why);
        return PAM_SUCCESS;
}

/* What the policy says for the user: PAM_SUCCESS with *ret_boxed, and the
 * box's spec when boxed; or a denial. */
static int decide(pam_handle_t *pamh, const struct args *a, const struct ident *id, const struct policy *pol,
                  struct box_spec *ret_spec, bool *ret_boxed)
{
        _cleanup_free_ char *why = NULL;
        struct resolved res;
        int r;

        *ret_boxed = false;
        if (policy_is_exempt(pol, id)) {
                if (a->debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=exempt user=%s", id->name);
                return PAM_SUCCESS;
        }
        policy_resolve(pol, id, &res);
        if (!policy_wants_box(&res)) {
                if (a->debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=not-boxed user=%s reason=box-no", id->name);
                return PAM_SUCCESS;
        }
        r = policy_build_spec(&res, id, ret_spec, &why);
        if (r < 0)
                return deny(pamh, id->name, id->uid, "step=policy object=%s: %s", a->config, why ?: strerror(-r));
        ret_spec->debug = a->debug;
        ret_spec->display = x_display(pamh);
        *ret_boxed = true;
        return PAM_SUCCESS;
}

/* ---- the box --------------------------------------------------------------- */

static int request_box(pam_handle_t *pamh, const struct args *a, const struct box_spec *spec, struct box_reply *ret,
                       int *ret_pidfd, struct error_reply *ret_err)
{
        struct session_info si = { .service = (char *)item_or_null(pamh, PAM_SERVICE),
                                   .tty = (char *)item_or_null(pamh, PAM_TTY),
                                   .rhost = (char *)item_or_null(pamh, PAM_RHOST),
                                   .user_manager = a->user_manager };
        _cleanup_free_ struct msg *req = malloc(sizeof(*req)), *reply = malloc(sizeof(*reply));
        _cleanup_close_ int fd = -1;
        int r;

        if (!req || !reply)
                return -ENOMEM;
        msg_init(req, MSG_OPEN);
        r = proto_put_open(req, spec, &si);
        if (r == 0)
                r = ask_for_box(a->helper, req, reply, &fd, ret_err);
        if (r < 0)
                return r;
        r = proto_parse_box(reply, ret);
        if (r == 0 && fd < 0)
                r = -EBADMSG;
        if (r < 0)
                return error_reply_set(ret_err, -r, "helper-reply", "box");
        *ret_pidfd = TAKE_FD(fd);
        return 0;
}

/* A session that cannot be completed: back to the original namespaces,
 * and the session's claim on the box given up. */
static void undo_session(struct session_state *st)
{
        if (st->joined)
                (void)session_leave(st);
        tell_closed(st->cookie);
        session_state_free(st);
}

/* Into the box, unless this is a user manager's session: that one only
 * holds the box, and nsbox-user-manager joins it after exec. */
static int enter_box(pam_handle_t *pamh, const struct args *a, const struct ident *id, const struct box_spec *spec,
                     struct session_state *st, int pidfd, unsigned namespaces)
{
        const char *step;
        unsigned long long t = now_usec();
        int r;

        if (a->user_manager)
                return 0;
        r = session_join(st, pidfd, namespaces, &step);
        if (r < 0)
                return deny(pamh, id->name, id->uid, "box=%s step=%s object=init: %s", st->id, step, strerror(-r));
        debug_step(pamh, a, id->name, st->id, "join", t);
        t = now_usec();
        r = session_privileges(spec);
        if (r < 0)
                return deny(pamh, id->name, id->uid, "box=%s step=privileges object=%s: %s", st->id,
                            spec->no_new_privs ? "no_new_privs/capability_bounding" : "capability_bounding",
                            strerror(-r));
        if (spec->no_new_privs || spec->cap_bounding)
                debug_step(pamh, a, id->name, st->id, "privileges", t);
        return 0;
}

static int set_environment(pam_handle_t *pamh, const struct box_reply *br)
{
        char env[64];
        int r;

        snprintf(env, sizeof(env), "NSBOX_ID=%s", br->id);
        r = pam_putenv(pamh, env);
        snprintf(env, sizeof(env), "NSBOX_SHARE=%s", share_to_string(br->share));
        return r == PAM_SUCCESS ? pam_putenv(pamh, env) : r;
}

static void cleanup_state(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        session_state_free(data);
}

static int open_box(pam_handle_t *pamh, const struct args *a, const struct ident *id, const struct box_spec *spec)
{
        struct box_reply br = {};
        struct error_reply er = {};
        struct session_state *st;
        _cleanup_close_ int pidfd = -1;
        unsigned long long t = now_usec();
        int r;

        r = request_box(pamh, a, spec, &br, &pidfd, &er);
        if (r < 0)
                return deny(pamh, id->name, id->uid, "step=%s object=%s: %s", er.step[0] ? er.step : "request",
                            er.object[0] ? er.object : "box", strerror(er.error ?: -r));
        debug_step(pamh, a, id->name, br.id, "request", t);
        st = session_state_new(&br);
        if (!st) {
                tell_closed(br.cookie);
                return deny(pamh, id->name, id->uid, "box=%s step=join: %s", br.id, strerror(ENOMEM));
        }
        r = enter_box(pamh, a, id, spec, st, pidfd, br.namespaces);
        if (r != 0) {
                undo_session(st);
                return r;
        }
        if (pam_set_data(pamh, DATA_NAME, st, cleanup_state) != PAM_SUCCESS) {
                undo_session(st);
                return deny(pamh, id->name, id->uid, "box=%s step=pam_set_data: failed", br.id);
        }
        r = set_environment(pamh, &br);
        if (r != PAM_SUCCESS) {
                /* The data's cleanup frees the state; put the process back now. */
                if (st->joined)
                        (void)session_leave(st);
                tell_closed(br.cookie);
                pam_set_data(pamh, DATA_NAME, NULL, NULL);
                return deny(pamh, id->name, id->uid, "box=%s step=pam_putenv: %s", br.id, pam_strerror(pamh, r));
        }
        return PAM_SUCCESS;
}

/* ---- the user manager ------------------------------------------------------- */

/* pam_nsbox.so user_manager, in the systemd-user stack: the session of
 * systemd --user (user@UID.service) is opened in the process that systemd
 * then executes the manager in.  Its box is asked for as for a login, but
 * not joined here: systemd's own code between PAM and exec needs the
 * host's /proc, where this process is.  nsbox-user-manager, which
 * user@.service runs in place of the manager (conf/systemd/), joins the
 * box and starts the manager inside its PID namespace. */

/* The user manager is boxed as the user's logins are: only while pam_nsbox
 * is in the session stack of some login service.  The package puts the
 * module into the systemd-user stack, because the manager must be boxed
 * from its start, but enabling boxes for logins is the admin's step
 * (pam-auth-update --enable nsbox, or a line in a service's file); until
 * then the user manager is left alone too. */
static bool user_manager_boxed(pam_handle_t *pamh, const char *user, bool debug)
{
        const char *service = item_or_dash(pamh, PAM_SERVICE);

        if (strcmp(service, "systemd-user") != 0) {
                pam_syslog(pamh, LOG_WARNING, "the argument user_manager is for the systemd-user stack, not %s: ignored",
                           service);
                return false;
        }
        if (!pam_stack_has_module("/etc/pam.d", "systemd-user")) {
                if (debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=not-boxed user=%s reason=not-enabled-for-logins", user);
                return false;
        }
        return true;
}

/* ---- the session hooks ----------------------------------------------------- */

static int open_session(pam_handle_t *pamh, const struct args *a, const char *user)
{
        struct ident id = {};
        struct policy pol = {};
        struct box_spec spec = {};
        const char *why = NULL;
        unsigned long long t = now_usec();
        bool boxed = false;
        int r, ret;

        r = ident_lookup_user(user, &id, &why);
        if (r < 0)
                return deny(pamh, ident_name_valid(user) ? user : "(invalid)", (uid_t)-1, "step=identity: %s",
                            why ?: strerror(-r));
        debug_step(pamh, a, id.name, "-", "identity", t);
        t = now_usec();
        ret = load_policy(pamh, a, &id, &pol, &r);
        if (ret == PAM_SUCCESS && r < 0)
                ret = invalid_policy(pamh, a, &id, &pol, r);
        else if (ret == PAM_SUCCESS) {
                debug_step(pamh, a, id.name, "-", "policy", t);
                ret = decide(pamh, a, &id, &pol, &spec, &boxed);
        }
        if (ret == PAM_SUCCESS && boxed)
                ret = open_box(pamh, a, &id, &spec);
        box_spec_done(&spec);
        policy_done(&pol);
        ident_done(&id);
        return ret;
}

NSBOX_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        const char *user = NULL;
        const void *existing = NULL;
        struct args a;

        (void)flags;
        parse_args(pamh, argc, argv, &a);
        if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
                return deny(pamh, "-", (uid_t)-1, "step=identity: no user name");
        if (pam_get_data(pamh, DATA_NAME, &existing) == PAM_SUCCESS && existing)
                return PAM_SUCCESS;     /* already boxed by this handle */
        if (a.user_manager && !user_manager_boxed(pamh, user, a.debug))
                return PAM_SUCCESS;
        return open_session(pamh, &a, user);
}

NSBOX_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        struct session_state *st = NULL;
        const void *data = NULL;
        struct args a;
        int r;

        (void)flags;
        parse_args(pamh, argc, argv, &a);
        if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS || !data)
                return PAM_SUCCESS;
        st = (struct session_state *)data;
        r = st->joined ? session_leave(st) : 0;
        if (r < 0)
                pam_syslog(pamh, LOG_ERR, "event=leave-failed box=%s service=%s pid=%d step=leave: %s", st->id,
                           item_or_dash(pamh, PAM_SERVICE), (int)getpid(), strerror(-r));
        /* systemd closes a user manager's session from a process that has
         * become the user: it cannot reach the helper, which learns of the
         * end when the manager exits. */
        if (geteuid() == 0)
                tell_closed(st->cookie);
        pam_set_data(pamh, DATA_NAME, NULL, NULL);
        return r < 0 ? PAM_SESSION_ERR : PAM_SUCCESS;
}
