/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asking the helper for a box.  Where systemd runs, it starts the helper
 * (socket activation) in a unit of its own; elsewhere the module starts it,
 * detached, when nobody listens. */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "client.h"
#include "module.h"
#include "paths.h"
#include "util.h"

#define HELPER_START_TIMEOUT_MS 5000
#define HELPER_REPLY_TIMEOUT_SEC 30

/* As sd_booted(): the host runs systemd. */
static bool systemd_booted(void)
{
        struct stat st;

        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* The helper's grandchild side: only system calls, since this is a copy of
 * the application, possibly a multithreaded one. */
static void exec_helper(int exe, int ready) _noreturn_;
static void exec_helper(int exe, int ready)
{
        static char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        static char *const argv[] = { (char *)"nsbox-helper", (char *)"--daemon", NULL };
        struct clone_args ga = { .exit_signal = SIGCHLD };

        syscall(SYS_setsid);
        if (syscall(SYS_clone3, &ga, sizeof(ga)) == 0) {
                /* Move what we keep above the low numbers first, so that
                 * the dup2s below cannot clobber it. */
                int e = fcntl(exe, F_DUPFD_CLOEXEC, 10);
                int rd = fcntl(ready, F_DUPFD, 10);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (e < 0 || rd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    dup2(rd, 3) < 0)
                        syscall(SYS_exit_group, 127);
                close_range(4, ~0U, CLOSE_RANGE_CLOEXEC);
                syscall(SYS_execveat, e, "", argv, envp, AT_EMPTY_PATH);
                syscall(SYS_exit_group, 127);
        }
        syscall(SYS_exit_group, 0);
        __builtin_unreachable();
}

/* Start the helper detached: a raw clone3 with no exit signal (so the
 * application's SIGCHLD handling never sees it) makes an intermediate child,
 * which starts the helper in a new session and exits at once.  We reap the
 * intermediate child through its pidfd and wait for the helper to say it
 * listens (or that another helper already does) on a pipe. */
static int spawn_helper(const char *path, char **ret_why)
{
        _cleanup_close_ int exe = -1, pidfd = -1, rd = -1;
        struct clone_args ca = { .flags = CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd };
        struct pollfd p;
        int ready[2], r;
        pid_t pid;

        r = open_trusted(path, O_PATH, &exe, ret_why);
        if (r < 0)
                return r;
        if (pipe2(ready, O_CLOEXEC) < 0)
                return negative_errno();
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid == 0)
                exec_helper(exe, ready[1]);
        r = pid < 0 ? negative_errno() : 0;
        close(ready[1]);
        rd = ready[0];
        if (r < 0)
                return r;
        (void)waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){}, WEXITED | __WALL);
        /* 'R' when it listens; EOF alone when another helper holds the lock. */
        p = (struct pollfd){ .fd = rd, .events = POLLIN };
        return poll(&p, 1, HELPER_START_TIMEOUT_MS) > 0 ? 0 : -ETIMEDOUT;
}

/* One request, one reply.  Starts the helper when nobody listens; *ret_why
 * then says what was wrong with it, if that is why it failed. */
static int call_starting(const char *helper, const struct msg *req, struct msg *reply, int *ret_fd, char **ret_why)
{
        for (int attempt = 0;; attempt++) {
                int r = helper_call(NSBOX_SOCKET, HELPER_REPLY_TIMEOUT_SEC, req, reply, ret_fd);

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
                if (systemd_booted() && (r == -ENOENT || r == -ECONNREFUSED)) {
                        *ret_why = strdup(NSBOX_SOCKET " has no listener: is nsbox-helper.socket enabled "
                                                       "(systemctl enable --now nsbox-helper.socket nsbox-user.socket)?");
                        return r;
                }
                if (!systemd_booted() && attempt % 10 == 0) {
                        r = spawn_helper(helper, ret_why);
                        if (r < 0)
                                return r;
                } else
                        poll(NULL, 0, 25);
        }
}

int ask_for_box(const char *helper, const struct msg *req, struct msg *reply, int *ret_fd, struct error_reply *ret_err)
{
        _cleanup_free_ char *why = NULL;
        _cleanup_close_ int fd = -1;
        int r = call_starting(helper, req, reply, &fd, &why);

        if (r < 0) {
                return error_reply_set(ret_err, -r, why ? "start-helper" : "helper", why ? why : NSBOX_SOCKET);
        }
        if (msg_type(reply) == MSG_ERROR) {
                r = proto_parse_error(reply, ret_err);
                return r < 0 ? error_reply_set(ret_err, -r, "helper-reply", "error") : -ret_err->error;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Nothing here depends on the answer, and the helper would learn of the
 * end anyway when the login process exits (it holds a pidfd of it); the
 * message is in its socket's queue before we return. */
void tell_closed(const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        _cleanup_free_ struct msg *req = malloc(sizeof(*req));
        _cleanup_close_ int fd = -1;

        if (!req)
                return;
        msg_init(req, MSG_CLOSE);
        if (proto_put_cookie(req, cookie) == 0 && helper_connect(NSBOX_SOCKET, HELPER_REPLY_TIMEOUT_SEC, &fd) == 0)
                (void)msg_send(fd, req, -1);
}
