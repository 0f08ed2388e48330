/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox-user-manager: systemd --user, in its user's box.
 *
 *   nsbox-user-manager /usr/lib/systemd/systemd --user
 *
 * user@.service runs it in place of the user manager (the drop-in
 * conf/systemd/user@.service.d/nsbox.conf), as the user, with three ambient
 * capabilities: CAP_SYS_ADMIN and CAP_SYS_CHROOT to join the box, CAP_SETPCAP
 * to apply the box's bounding set.  The PAM session of the systemd-user
 * stack (pam_nsbox.so user_manager) has asked the helper for the user's box
 * as a login does, without joining it: systemd's own code between PAM and
 * exec needs the host's /proc.  Here the box is joined.  The helper hands
 * the box's namespaces (mount, pid, uts, ipc, net: never its user
 * namespace) to the process that opened that session, and to no other.
 * Then every capability goes, and the manager is started as a
 * child: this process cannot enter the box's PID namespace (its own never
 * changes), its children do, and there the manager has the box's /proc.
 * The parent stays small, forwards signals and exits as the manager does.
 *
 * Without a box for this user manager it simply executes the manager, with
 * no capability left. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>

#include "caps.h"
#include "client.h"
#include "proto.h"
#include "spec.h"
#include "util.h"

#define REPLY_TIMEOUT_SEC 30

/* The box of the session PAM opened for us: 1 with *ret and its namespace
 * fds filled, 0 when there is none (the user is not boxed, or no helper
 * runs), or -errno. */
static int ask_helper(struct manager_reply *ret, int fds[N_SESSION_NS], size_t *ret_n)
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        struct error_reply e = {};
        size_t n = 0, want = 0;
        int r;

        if (!m)
                return -ENOMEM;
        msg_init(m, MSG_MANAGER);
        r = helper_call_fds(NSBOX_USER_SOCKET, REPLY_TIMEOUT_SEC, m, m, fds, N_SESSION_NS, &n);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return 0;
        if (r < 0)
                return r;
        if (msg_type(m) == MSG_ERROR) {
                r = proto_parse_error(m, &e);
                if (r == 0 && e.error == ENOENT)
                        r = 0;
                else if (r == 0) {
                        syslog(LOG_ERR, "event=manager-failed step=%s object=%s: %s", e.step, e.object,
                               strerror(e.error));
                        r = -e.error;
                }
        } else {
                r = proto_parse_manager(m, ret);
                for (size_t i = 0; r == 0 && i < N_SESSION_NS; i++)
                        want += (ret->namespaces & session_ns_files[i].ns) != 0;
                if (r == 0)
                        r = n == want && (ret->namespaces & NS_MOUNT) ? 1 : -EBADMSG;
        }
        if (r <= 0)
                while (n > 0)
                        close(fds[--n]);
        *ret_n = n;
        return r;
}

/* Join each of the box's namespaces, the fds in session_ns_files' order;
 * setns() checks that each fd is the namespace it is meant to be. */
static int join_box(const struct manager_reply *mr, int fds[N_SESSION_NS], size_t n)
{
        size_t k = 0;
        int r = 0;

        for (size_t i = 0; i < N_SESSION_NS; i++) {
                if (!(mr->namespaces & session_ns_files[i].ns))
                        continue;
                if (r == 0 && (k >= n || setns(fds[k], session_ns_files[i].clone_flag) < 0))
                        r = k >= n ? -EBADMSG : negative_errno();
                if (k < n)
                        closep(&fds[k]);
                k++;
        }
        /* Joining a mount namespace moves us to its root. */
        if (r == 0 && chdir("/") < 0)
                r = negative_errno();
        return r;
}

/* The box's bounding set (capability_bounding), then no capability at
 * all: what runs from here on is the user's. */
static int drop_capabilities(const struct manager_reply *mr)
{
        cap_t none;
        int r = 0;

        if (mr && mr->cap_bounding) {
                r = caps_bound(mr->cap_keep);
                if (r < 0)
                        return r;
        }
        if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
                return negative_errno();
        none = cap_init();
        if (!none || cap_set_proc(none) < 0)
                r = negative_errno();
        cap_free(none);
        if (r == 0 && mr && mr->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = negative_errno();
        return r;
}

/* Wait for the manager, passing it every signal we get, and end as it did. */
static void supervise(pid_t child, const sigset_t *mask) _noreturn_;
static void supervise(pid_t child, const sigset_t *mask)
{
        for (;;) {
                siginfo_t si;
                int status, sig = sigwaitinfo(mask, &si);

                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void)kill(child, sig);
                        continue;
                }
                if (waitpid(child, &status, WNOHANG) != child)
                        continue;
                if (WIFEXITED(status))
                        _exit(WEXITSTATUS(status));
                /* Die of the same signal, so that systemd sees what the
                 * manager died of. */
                sig = WTERMSIG(status);
                {
                        sigset_t one;

                        sigemptyset(&one);
                        sigaddset(&one, sig);
                        signal(sig, SIG_DFL);
                        sigprocmask(SIG_UNBLOCK, &one, NULL);
                }
                raise(sig);
                /* Should the signal not end us after all. */
                /* cppcheck-suppress unreachableCode */
                _exit(128 + sig);
        }
}

int main(int argc, char **argv)
{
        struct manager_reply mr = {};
        int fds[N_SESSION_NS];
        size_t n_fds = 0;
        sigset_t all, old;
        pid_t child;
        int r;

        if (argc < 2 || argv[1][0] != '/') {
                fprintf(stderr, "usage: nsbox-user-manager /path/to/systemd --user (run by user@.service)\n");
                return 2;
        }
        /* Nobody of the user's may read or trace us while we hold capabilities. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        openlog("nsbox-user-manager", LOG_PID, LOG_AUTHPRIV);
        r = ask_helper(&mr, fds, &n_fds);
        if (r < 0) {
                syslog(LOG_ERR, "event=manager-failed uid=%u step=helper: %s; the user manager does not start "
                                "outside its box",
                       (unsigned)getuid(), strerror(-r));
                return 1;
        }
        if (r == 0) {
                /* Not boxed: the manager as systemd would have run it. */
                r = drop_capabilities(NULL);
                if (r < 0) {
                        syslog(LOG_ERR, "event=manager-failed uid=%u step=capabilities: %s", (unsigned)getuid(),
                               strerror(-r));
                        return 1;
                }
                execv(argv[1], argv + 1);
                syslog(LOG_ERR, "event=manager-failed uid=%u step=exec object=%s: %m", (unsigned)getuid(), argv[1]);
                return 127;
        }
        /* The box's namespaces but its user namespace: sessions stay in
         * the initial one, where setuid programs keep working. */
        r = join_box(&mr, fds, n_fds);
        if (r < 0) {
                syslog(LOG_ERR, "event=manager-failed box=%s uid=%u step=join: %s", mr.id, (unsigned)getuid(),
                       strerror(-r));
                return 1;
        }
        r = drop_capabilities(&mr);
        if (r < 0) {
                syslog(LOG_ERR, "event=manager-failed box=%s uid=%u step=capabilities: %s", mr.id,
                       (unsigned)getuid(), strerror(-r));
                return 1;
        }
        if (!(mr.namespaces & NS_PID)) {
                execv(argv[1], argv + 1);
                syslog(LOG_ERR, "event=manager-failed box=%s step=exec object=%s: %m", mr.id, argv[1]);
                return 127;
        }
        /* Signals are taken as they come, from before the child exists. */
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        sigprocmask(SIG_BLOCK, &all, &old);
        child = fork();
        if (child < 0) {
                syslog(LOG_ERR, "event=manager-failed box=%s step=fork: %m", mr.id);
                return 1;
        }
        if (child == 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                execv(argv[1], argv + 1);
                syslog(LOG_ERR, "event=manager-failed box=%s step=exec object=%s: %m", mr.id, argv[1]);
                _exit(127);
        }
        supervise(child, &all);
}
