/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_nsbox: put every login into a box.
 *
 * The module stays small: it reads the policy, asks the helper for a box,
 * joins the box's namespaces with setns() on the pidfd of the box's init,
 * and sets the environment.  Everything that forks, mounts or keeps state
 * lives in nsbox-helper.  The process that calls us (sshd's monitor, login's
 * or su's parent) stays in the initial user namespace and keeps host root;
 * only its mount, pid-for-children, uts and ipc namespaces change, so every
 * process it forks afterwards lands in the box.  pam_sm_close_session puts
 * the process back.
 *
 * No exit(), no signal handler, no thread; the one child we ever make (to
 * start the helper) is reaped before we return and never raises SIGCHLD in
 * the application. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <syslog.h>

#include "paths.h"
#include "policy.h"
#include "proto.h"
#include "util.h"

#ifndef NSBOX_HELPER_PATH
#define NSBOX_HELPER_PATH "/usr/libexec/nsbox/nsbox-helper"
#endif

/* Built with -fvisibility=hidden; the version script lists the same two. */
#define NSBOX_EXPORT __attribute__((visibility("default")))

#define DATA_NAME "pam_nsbox_session"
#define HELPER_START_TIMEOUT_MS 5000
#define HELPER_REPLY_TIMEOUT_SEC 30

struct args {
        const char *config;
        const char *helper;
        bool debug;
        bool user_manager;      /* in the systemd-user stack: see user_manager_applies() */
};

/* What pam_sm_close_session needs to undo the join. */
struct session_state {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        char id[NSBOX_ID_LEN + 1];
        bool joined;            /* false for a user manager's session */
        int saved_mnt, saved_uts, saved_ipc, saved_pid, saved_net, saved_cgroup;
        int saved_cwd;
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

/* ---- talking to the helper --------------------------------------------- */

/* As sd_booted(): the host runs systemd. */
static bool systemd_booted(void)
{
        struct stat st;

        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Start the helper detached: a raw clone3 with no exit signal (so the
 * application's SIGCHLD handling never sees it) makes an intermediate child,
 * which starts the helper in a new session and exits at once.  We reap the
 * intermediate child through its pidfd and wait for the helper to say it
 * listens (or that another helper already does) on a pipe. */
static int spawn_helper(const char *path, char **ret_why)
{
        static char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        static char *const argv[] = { (char *)"nsbox-helper", (char *)"--daemon", NULL };
        _cleanup_close_ int exe = -1, pidfd = -1;
        _cleanup_free_ char *why = NULL;
        struct clone_args ca = { .flags = CLONE_PIDFD, .exit_signal = 0 };
        int ready[2], r;
        pid_t pid;

        r = open_trusted(path, O_PATH, &exe, &why);
        if (r < 0) {
                *ret_why = TAKE_PTR(why);
                return r;
        }
        if (pipe2(ready, O_CLOEXEC) < 0)
                return negative_errno();
        ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid == 0) {
                /* Only system calls from here on: this is a copy of the
                 * application, possibly a multithreaded one. */
                struct clone_args ga = { .exit_signal = SIGCHLD };

                syscall(SYS_setsid);
                if (syscall(SYS_clone3, &ga, sizeof(ga)) == 0) {
                        /* Move what we keep above the low numbers first, so
                         * that the dup2s below cannot clobber it. */
                        int e = fcntl(exe, F_DUPFD_CLOEXEC, 10);
                        int rd = fcntl(ready[1], F_DUPFD, 10);
                        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                        if (e < 0 || rd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
                            dup2(null, 2) < 0 || dup2(rd, 3) < 0)
                                syscall(SYS_exit_group, 127);
                        exe = e;
                        close_range(4, ~0U, CLOSE_RANGE_CLOEXEC);
                        syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
                        syscall(SYS_exit_group, 127);
                }
                syscall(SYS_exit_group, 0);
        }
        close(ready[1]);
        if (pid < 0) {
                r = negative_errno();
                close(ready[0]);
                return r;
        }
        (void)waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){}, WEXITED | __WALL);
        /* 'R' when it listens; EOF alone when another helper holds the lock. */
        struct pollfd p = { .fd = ready[0], .events = POLLIN };
        r = poll(&p, 1, HELPER_START_TIMEOUT_MS);
        close(ready[0]);
        return r > 0 ? 0 : -ETIMEDOUT;
}

static int connect_helper(int *ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = HELPER_REPLY_TIMEOUT_SEC };
        struct ucred cred;
        socklen_t len = sizeof(cred);
        _cleanup_close_ int fd = -1;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        strcpy(sa.sun_path, NSBOX_SOCKET);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        /* Only root may answer for the helper. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
                return -EPERM;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        *ret = TAKE_FD(fd);
        return 0;
}

/* One request, one reply.  Starts the helper when nobody listens; *ret_why
 * then says what was wrong with it, if that is why it failed. */
static int ask_helper(const char *helper, const struct msg *req, struct msg *reply, int *ret_fd, char **ret_why)
{
        for (int attempt = 0;; attempt++) {
                _cleanup_close_ int fd = -1;
                int r = connect_helper(&fd);

                if (r == 0)
                        r = msg_send(fd, req, -1);
                if (r == 0)
                        r = msg_recv(fd, reply, ret_fd);
                if (r == 0)
                        return 0;
                /* Not running (no socket, stale socket), or it went away
                 * while idle: start one and try again. */
                if (!helper || attempt >= 40 ||
                    (r != -ENOENT && r != -ECONNREFUSED && r != -ECONNRESET && r != -EPIPE))
                        return r;
                /* Where systemd runs, it starts the helper, in a unit of its
                 * own, when we connect; one we started would live in this
                 * login's session and die with it. */
                if (systemd_booted()) {
                        if (r == -ENOENT || r == -ECONNREFUSED) {
                                *ret_why = strdup(NSBOX_SOCKET " has no listener: is nsbox-helper.socket enabled "
                                                  "(systemctl enable --now nsbox-helper.socket nsbox-user.socket)?");
                                return r;
                        }
                        poll(NULL, 0, 25);
                        continue;
                }
                if (attempt == 0 || attempt % 10 == 0) {
                        r = spawn_helper(helper, ret_why);
                        if (r < 0)
                                return r;
                } else
                        poll(NULL, 0, 25);
        }
}

/* ---- joining ------------------------------------------------------------- */

static void state_free(struct session_state *st)
{
        closep(&st->saved_mnt);
        closep(&st->saved_uts);
        closep(&st->saved_ipc);
        closep(&st->saved_pid);
        closep(&st->saved_net);
        closep(&st->saved_cgroup);
        closep(&st->saved_cwd);
        free(st);
}

static void cleanup_state(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        state_free(data);
}

static int save_namespaces(struct session_state *st)
{
        st->saved_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        st->saved_uts = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
        st->saved_ipc = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
        st->saved_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        st->saved_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        st->saved_cgroup = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
        st->saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (st->saved_mnt < 0 || st->saved_uts < 0 || st->saved_ipc < 0 || st->saved_pid < 0 || st->saved_net < 0 ||
            st->saved_cgroup < 0)
                return -errno ?: -EIO;
        return 0;
}

static int restore_namespaces(struct session_state *st)
{
        int r = 0;

        if (setns(st->saved_mnt, CLONE_NEWNS) < 0)
                r = negative_errno();
        if (setns(st->saved_uts, CLONE_NEWUTS) < 0 && r == 0)
                r = negative_errno();
        if (setns(st->saved_ipc, CLONE_NEWIPC) < 0 && r == 0)
                r = negative_errno();
        if (setns(st->saved_pid, CLONE_NEWPID) < 0 && r == 0)
                r = negative_errno();
        if (setns(st->saved_net, CLONE_NEWNET) < 0 && r == 0)
                r = negative_errno();
        if (setns(st->saved_cgroup, CLONE_NEWCGROUP) < 0 && r == 0)
                r = negative_errno();
        if (st->saved_cwd >= 0 && fchdir(st->saved_cwd) < 0 && r == 0)
                r = negative_errno();
        return r;
}

/* The login's own cgroup v2 directory, to know it again in the box; -1
 * when there is none to know. */
static int own_cgroup(void)
{
        char line[512];
        FILE *f = fopen("/proc/self/cgroup", "re");
        int fd = -1;

        while (f && fd < 0 && fgets(line, sizeof(line), f))
                if (strncmp(line, "0::/", 4) == 0 && line[4] != '\n') {
                        line[strcspn(line, "\n")] = '\0';
                        fd = openat(AT_FDCWD, "/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (fd >= 0) {
                                int dir = openat(fd, line + 4, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                                close(fd);
                                fd = dir;
                        }
                }
        if (f)
                fclose(f);
        return fd;
}

/* Does the box show that very cgroup at /sys/fs/cgroup (the helper's view
 * for a box of one login)? */
static bool box_shows(int cgroup)
{
        struct stat a, b;

        return cgroup >= 0 && fstat(cgroup, &a) == 0 && stat("/sys/fs/cgroup", &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

static int join_box(int pidfd, unsigned ns)
{
        _cleanup_close_ int cgroup = own_cgroup();
        _cleanup_free_ char *cwd = getcwd(NULL, 0);

        /* A thread that shares its filesystem context cannot change mount
         * namespace; unsharing it affects only this thread. */
        if (unshare(CLONE_FS) < 0)
                return negative_errno();
        if (setns(pidfd, namespaces_clone_flags(ns)) < 0)
                return negative_errno();
        /* Where the box shows the login's own cgroup at /sys/fs/cgroup, the
         * login roots a cgroup namespace there, so that /proc/self/cgroup
         * agrees with it; owned by the initial user namespace, as the login
         * process that makes it is. */
        if (box_shows(cgroup) && unshare(CLONE_NEWCGROUP) < 0)
                return negative_errno();
        /* Joining a mount namespace moves us to its root: go back to where
         * the application was, if that place exists in the box. */
        if ((!cwd || chdir(cwd) < 0) && chdir("/") < 0)
                return negative_errno();
        return 0;
}

/* no_new_privs and the bounding set are set on the login process itself, so
 * that everything it starts for the session inherits them.  Neither takes
 * anything from the process's own capabilities: sshd's monitor and login's
 * parent keep working.  A capability dropped from the bounding set is also
 * lowered in the inheritable and ambient sets, which the bounding set does
 * not mask at exec. */
static int apply_privileges(const struct box_spec *s)
{
        if (s->cap_bounding) {
                cap_t caps = cap_get_proc();
                int r = 0;

                if (!caps)
                        return negative_errno();
                for (cap_value_t c = 0; c <= CAP_LAST_CAP && r == 0; c++) {
                        if (s->cap_keep & (1ULL << c))
                                continue;
                        if (cap_drop_bound(c) < 0 && errno != EINVAL)
                                r = negative_errno();
                        else if (cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_CLEAR) < 0)
                                r = negative_errno();
                        else if (CAP_AMBIENT_SUPPORTED() && cap_set_ambient(c, CAP_CLEAR) < 0 && errno != EINVAL)
                                r = negative_errno();
                }
                if (r == 0 && cap_set_proc(caps) < 0)
                        r = negative_errno();
                cap_free(caps);
                if (r < 0)
                        return r;
        }
        if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}

/* The session is over: tell the helper, without waiting for its answer.
 * Nothing here depends on it, and the helper would learn it anyway when the
 * login process exits (it holds a pidfd of it); the message is in its
 * socket's queue before we return. */
static void send_close(const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        struct msg *req = malloc(sizeof(*req));
        _cleanup_close_ int fd = -1;

        if (req) {
                msg_init(req, MSG_CLOSE);
                if (proto_put_cookie(req, cookie) == 0 && connect_helper(&fd) == 0)
                        (void)msg_send(fd, req, -1);
        }
        free(req);
}

/* ---- the session hooks --------------------------------------------------- */

/* The login's local X display number: PAM_XDISPLAY, or a display
 * manager's PAM_TTY of the form ":N" (also ":N.S"); -1 for none.  A remote
 * display (host:N) has no socket here. */
static int x_display(pam_handle_t *pamh)
{
        const void *v = NULL;
        const char *d = NULL;
        unsigned long n;
        char num[16];

        if (pam_get_item(pamh, PAM_XDISPLAY, &v) == PAM_SUCCESS && v && *(const char *)v)
                d = v;
        else if (pam_get_item(pamh, PAM_TTY, &v) == PAM_SUCCESS && v && *(const char *)v == ':')
                d = v;
        if (!d || d[0] != ':')
                return -1;
        snprintf(num, sizeof(num), "%.*s", (int)strcspn(d + 1, "."), d + 1);
        if (parse_uint(num, 65535, &n) < 0)
                return -1;
        return (int)n;
}

static const char *item(pam_handle_t *pamh, int type)
{
        const void *v = NULL;

        return pam_get_item(pamh, type, &v) == PAM_SUCCESS && v && *(const char *)v ? v : "-";
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
                   log_value(user, u, sizeof(u)), uidbuf, log_value(item(pamh, PAM_SERVICE), svc, sizeof(svc)),
                   log_value(item(pamh, PAM_TTY), tty, sizeof(tty)), log_value(item(pamh, PAM_RHOST), rhost, sizeof(rhost)),
                   (int)getpid(), buf);
        return PAM_SESSION_ERR;
}

static void debug_step(pam_handle_t *pamh, const struct args *a, const char *user, const char *box, const char *step,
                       unsigned long long since)
{
        if (a->debug)
                pam_syslog(pamh, LOG_DEBUG, "event=step user=%s box=%s step=%s usec=%llu", user, box, step,
                           now_usec() - since);
}

static int request_box(pam_handle_t *pamh, const struct args *a, const struct box_spec *spec, struct box_reply *ret,
                       int *ret_pidfd, struct error_reply *ret_err)
{
        _cleanup_free_ char *why = NULL;
        struct session_info si = {};
        const void *item;
        struct msg *req = NULL, *reply = NULL;
        int r, fd = -1;

        if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
                si.service = (char *)item;
        if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS)
                si.tty = (char *)item;
        if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
                si.rhost = (char *)item;
        si.user_manager = a->user_manager;
        req = malloc(sizeof(*req));
        reply = malloc(sizeof(*reply));
        if (!req || !reply) {
                r = -ENOMEM;
                goto out;
        }
        msg_init(req, MSG_OPEN);
        r = proto_put_open(req, spec, &si);
        if (r < 0)
                goto out;
        r = ask_helper(a->helper, req, reply, &fd, &why);
        if (r < 0) {
                snprintf(ret_err->step, sizeof(ret_err->step), why ? "start-helper" : "helper");
                snprintf(ret_err->object, sizeof(ret_err->object), "%s", why ? why : NSBOX_SOCKET);
                ret_err->error = -r;
                goto out;
        }
        if (msg_type(reply) == MSG_ERROR) {
                r = proto_parse_error(reply, ret_err);
                if (r == 0)
                        r = -ret_err->error;
                goto out;
        }
        r = proto_parse_box(reply, ret);
        if (r == 0 && fd < 0)
                r = -EBADMSG;
        if (r < 0) {
                snprintf(ret_err->step, sizeof(ret_err->step), "helper-reply");
                ret_err->error = -r;
                goto out;
        }
        *ret_pidfd = TAKE_FD(fd);
out:
        closep(&fd);
        free(req);
        free(reply);
        return r;
}

/* A join that cannot be completed: back to the original namespaces, and
 * the session's claim on the box given up. */
static void undo_join(struct session_state *st, const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        if (st->joined)
                (void)restore_namespaces(st);
        state_free(st);
        send_close(cookie);
}

static int open_box(pam_handle_t *pamh, const struct args *a, const struct ident *id, const struct box_spec *spec)
{
        struct box_reply br = {};
        struct error_reply er = {};
        struct session_state *st;
        _cleanup_close_ int pidfd = -1;
        char env[64];
        unsigned long long t = now_usec();
        int r;

        r = request_box(pamh, a, spec, &br, &pidfd, &er);
        if (r < 0)
                return deny(pamh, id->name, id->uid, "step=%s object=%s: %s", er.step[0] ? er.step : "request",
                            er.object[0] ? er.object : "box", strerror(er.error ? er.error : -r));
        debug_step(pamh, a, id->name, br.id, "request", t);
        st = calloc(1, sizeof(*st));
        if (!st) {
                send_close(br.cookie);
                return deny(pamh, id->name, id->uid, "box=%s step=join: %s", br.id, strerror(ENOMEM));
        }
        memcpy(st->cookie, br.cookie, sizeof(st->cookie));
        memcpy(st->id, br.id, sizeof(st->id));
        st->saved_cwd = st->saved_mnt = st->saved_uts = st->saved_ipc = st->saved_pid = st->saved_net =
                st->saved_cgroup = -1;
        /* The user manager's session only holds the box: nsbox-user-manager
         * joins it after exec (user_manager_applies()). */
        if (a->user_manager)
                goto done;
        st->joined = true;
        t = now_usec();
        r = save_namespaces(st);
        if (r == 0)
                r = join_box(pidfd, br.namespaces);
        if (r < 0) {
                undo_join(st, br.cookie);
                return deny(pamh, id->name, id->uid, "box=%s step=join object=init: %s", br.id, strerror(-r));
        }
        debug_step(pamh, a, id->name, br.id, "join", t);
        t = now_usec();
        r = apply_privileges(spec);
        if (r < 0) {
                undo_join(st, br.cookie);
                return deny(pamh, id->name, id->uid, "box=%s step=privileges object=%s: %s", br.id,
                            spec->no_new_privs ? "no_new_privs/capability_bounding" : "capability_bounding",
                            strerror(-r));
        }
        if (spec->no_new_privs || spec->cap_bounding)
                debug_step(pamh, a, id->name, br.id, "privileges", t);
done:
        if (pam_set_data(pamh, DATA_NAME, st, cleanup_state) != PAM_SUCCESS) {
                undo_join(st, br.cookie);
                return deny(pamh, id->name, id->uid, "box=%s step=pam_set_data: failed", br.id);
        }
        snprintf(env, sizeof(env), "NSBOX_ID=%s", br.id);
        r = pam_putenv(pamh, env);
        snprintf(env, sizeof(env), "NSBOX_SHARE=%s", share_to_string(br.share));
        if (r == PAM_SUCCESS)
                r = pam_putenv(pamh, env);
        if (r != PAM_SUCCESS) {
                /* The data cleanup will close our fds; put the process back now. */
                if (st->joined)
                        (void)restore_namespaces(st);
                send_close(br.cookie);
                pam_set_data(pamh, DATA_NAME, NULL, NULL);
                return deny(pamh, id->name, id->uid, "box=%s step=pam_putenv: %s", br.id, pam_strerror(pamh, r));
        }
        return PAM_SUCCESS;
}

/* ---- the user manager ----------------------------------------------------- */

/* Does this line of a PAM service file put pam_nsbox in its session stack? */
static bool session_line_has_module(const char *line)
{
        const char *p = line + strspn(line, " \t"), *end, *hit;

        if (*p == '-')
                p++;
        if (strncmp(p, "session", 7) != 0 || (p[7] != ' ' && p[7] != '\t'))
                return false;
        end = p + strcspn(p, "#\n");
        for (hit = strstr(p, "pam_nsbox.so"); hit && hit < end; hit = strstr(hit + 1, "pam_nsbox.so")) {
                char before = hit[-1], after = hit[12];

                if ((before == ' ' || before == '\t' || before == '/' || before == ']') &&
                    (after == ' ' || after == '\t' || after == '\n' || after == '\0' || after == '#'))
                        return true;
        }
        return false;
}

/* The user manager is boxed as the user's logins are: only while pam_nsbox
 * is in the session stack of some login service.  The package puts the
 * module into the systemd-user stack, because the manager must be boxed
 * from its start, but enabling boxes for logins is the admin's step
 * (pam-auth-update --enable nsbox, or a line in a service's file); until
 * then the user manager is left alone too.  Includes are not followed: the
 * enabling line is in common-session or in the service's own file. */
static bool enabled_for_logins(void)
{
        DIR *d = opendir("/etc/pam.d");
        struct dirent *e;
        bool found = false;

        if (!d)
                return false;
        while (!found && (e = readdir(d))) {
                _cleanup_fclose_ FILE *f = NULL;
                char line[1024];
                int fd;

                if (e->d_name[0] == '.' || strcmp(e->d_name, "systemd-user") == 0)
                        continue;
                fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        continue;
                f = fdopen(fd, "re");
                if (!f) {
                        close(fd);
                        continue;
                }
                while (!found && fgets(line, sizeof(line), f))
                        found = session_line_has_module(line);
        }
        closedir(d);
        return found;
}

/* pam_nsbox.so user_manager, in the systemd-user stack: the session of
 * systemd --user (user@UID.service) is opened in the process that systemd
 * then executes the manager in.  Its box is asked for as for a login, but
 * not joined here: systemd's own code between PAM and exec needs the
 * host's /proc, where this process is.  nsbox-user-manager, which
 * user@.service runs in place of the manager (conf/systemd/), joins the
 * box and starts the manager inside its PID namespace.  Returns 1 when
 * the module should go on, 0 when it has nothing to do. */
static int user_manager_applies(pam_handle_t *pamh, const struct args *a, const char *user)
{
        const char *service = item(pamh, PAM_SERVICE);

        if (strcmp(service, "systemd-user") != 0) {
                pam_syslog(pamh, LOG_WARNING, "the argument user_manager is for the systemd-user stack, not %s: ignored",
                           service);
                return 0;
        }
        if (!enabled_for_logins()) {
                if (a->debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=not-boxed user=%s reason=not-enabled-for-logins", user);
                return 0;
        }
        return 1;
}

NSBOX_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        struct args a;
        struct ident id = {};
        struct policy pol = {};
        struct resolved res;
        struct box_spec spec = {};
        _cleanup_free_ char *why = NULL;
        const char *user = NULL, *idwhy = NULL;
        const void *existing = NULL;
        unsigned long long t;
        int r, ret;

        (void)flags;
        parse_args(pamh, argc, argv, &a);
        if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
                return deny(pamh, "-", (uid_t)-1, "step=identity: no user name");
        if (pam_get_data(pamh, DATA_NAME, &existing) == PAM_SUCCESS && existing)
                return PAM_SUCCESS;     /* already boxed by this handle */
        if (a.user_manager && user_manager_applies(pamh, &a, user) == 0)
                return PAM_SUCCESS;

        t = now_usec();
        r = ident_lookup_user(user, &id, &idwhy);
        if (r < 0)
                return deny(pamh, ident_name_valid(user) ? user : "(invalid)", (uid_t)-1, "step=identity: %s",
                            idwhy ? idwhy : strerror(-r));
        debug_step(pamh, &a, id.name, "-", "identity", t);

        t = now_usec();
        r = policy_load(a.config, &pol);
        {
                /* Only the groups the policy names are asked about, also
                 * for the exemptions of a policy that is invalid. */
                char **names = NULL;
                size_t n = 0;
                bool primary = false;
                int g = policy_group_names(&pol, &names, &n, &primary);

                if (g >= 0)
                        g = ident_load_groups(&id, names, n, primary, &idwhy);
                strv_free(names);
                /* Root is never locked out by a group lookup. */
                if (g < 0 && id.uid != 0) {
                        ret = deny(pamh, id.name, id.uid, "step=identity: %s", idwhy ? idwhy : strerror(-g));
                        goto out;
                }
        }
        if (r < 0) {
                /* Fail closed, except for root and users the readable part of
                 * the policy names exempt: they must always be able to log in
                 * and repair it. */
                if (id.uid == 0 || policy_is_exempt(&pol, &id)) {
                        pam_syslog(pamh, LOG_WARNING,
                                   "event=exempt-despite-invalid-policy user=%s uid=%u service=%s pid=%d policy %s: %s",
                                   id.name, (unsigned)id.uid, item(pamh, PAM_SERVICE), (int)getpid(), a.config,
                                   pol.n_errors ? pol.errors[0] : strerror(-r));
                        ret = PAM_SUCCESS;
                } else
                        ret = deny(pamh, id.name, id.uid, "step=policy object=%s: invalid: %s", a.config,
                                   pol.n_errors ? pol.errors[0] : strerror(-r));
                goto out;
        }
        debug_step(pamh, &a, id.name, "-", "policy", t);
        if (policy_is_exempt(&pol, &id)) {
                if (a.debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=exempt user=%s", id.name);
                ret = PAM_SUCCESS;
                goto out;
        }
        policy_resolve(&pol, &id, &res);
        if (!policy_wants_box(&res)) {
                if (a.debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=not-boxed user=%s reason=box-no", id.name);
                ret = PAM_SUCCESS;
                goto out;
        }
        r = policy_build_spec(&res, &id, &spec, &why);
        if (r < 0) {
                ret = deny(pamh, id.name, id.uid, "step=policy object=%s: %s", a.config, why ? why : strerror(-r));
                goto out;
        }
        spec.debug = a.debug;
        spec.display = x_display(pamh);
        ret = open_box(pamh, &a, &id, &spec);
out:
        box_spec_done(&spec);
        policy_done(&pol);
        ident_done(&id);
        return ret;
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
        r = st->joined ? restore_namespaces(st) : 0;
        if (r < 0)
                pam_syslog(pamh, LOG_ERR, "event=leave-failed box=%s service=%s pid=%d step=leave: %s", st->id,
                           item(pamh, PAM_SERVICE), (int)getpid(), strerror(-r));
        /* systemd closes a user manager's session from a process that has
         * become the user: it cannot reach the helper, which learns of the
         * end when the manager exits. */
        if (geteuid() == 0)
                send_close(st->cookie);
        pam_set_data(pamh, DATA_NAME, NULL, NULL);
        return r < 0 ? PAM_SESSION_ERR : PAM_SUCCESS;
}
