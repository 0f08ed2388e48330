/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox-init: the box's PID 1.
 *
 * The helper forks into the box's new namespaces, builds the view there as
 * root, and executes this small program, still as root and still in the
 * initial user namespace, so that the process stays owned by it: neither the
 * session nor box root may trace it or read its fds.  A fresh image also
 * means an idle box costs only this program's few pages, not a copy of the
 * helper's.
 *
 * Here it drops every privilege (joining the box's user namespace first when
 * there is one), says "ready" to the helper, and reaps orphans.  It holds no
 * fd but its signalfd and its link to the helper.
 *
 * Lifetime is the kernel's business: when this process exits, the kernel
 * kills everything else in the PID namespace, and the namespaces go with
 * their last process.  It exits when the helper asks (SIGTERM: processes get
 * TERM, then whatever is left is killed by our exit) and when the helper
 * dies (PDEATHSIG, or EOF on the link).
 *
 * Usage (by the helper only): nsbox-init UID GID, with the link on fd 3 and,
 * for a box with a user namespace, that namespace on fd 4. */
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proto.h"
#include "util.h"

#define SYNC_FD 3
#define USERNS_FD 4
#define STOP_GRACE_USEC (1000 * 1000ULL)

#ifdef NSBOX_SANITIZE
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
        return "log_path=/run/world/out/asan-init:detect_leaks=0:abort_on_error=1";
}
#endif

static _Noreturn void die(const char *step, const char *object, int error)
{
        (void)proto_send_error(SYNC_FD, error, step, object);
        _exit(1);
}

static void drop_bounding_set(void)
{
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (cap_drop_bound(c) < 0 && errno != EINVAL)
                        die("drop-bounding-set", "init", errno);
}

/* Become the user, with no capability anywhere.  With a user namespace the
 * init becomes its root (the user's uid on the host) first. */
static void drop_privileges(uid_t uid, gid_t gid, bool userns)
{
        char object[32];
        cap_t none;

        snprintf(object, sizeof(object), "uid %u", (unsigned)uid);
        if (setgroups(0, NULL) < 0)
                die("setgroups", object, errno);
        /* Emptying the bounding set needs CAP_SETPCAP: without a user
         * namespace that is now, while we are still root; with one, after
         * joining it (joining gives a full set there, and there only). */
        if (!userns)
                drop_bounding_set();
        else {
                if (setns(USERNS_FD, CLONE_NEWUSER) < 0)
                        die("join-userns", object, errno);
                close(USERNS_FD);
                uid = 0;
                gid = 0;
        }
        if (setresgid(gid, gid, gid) < 0)
                die("setresgid", object, errno);
        if (setresuid(uid, uid, uid) < 0)
                die("setresuid", object, errno);
        if (userns)
                drop_bounding_set();
        none = cap_init();
        if (!none || cap_set_proc(none) < 0)
                die("clear-capabilities", object, errno);
        cap_free(none);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                die("prctl", object, errno);
        /* Had the helper died before PDEATHSIG was set, the link reads EOF
         * in the loop. */
}

static void reap(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* TERM everything in the box, then wait until it is empty or the grace time
 * is over.  Whatever is left dies with us.  Only a box with its own PID
 * namespace has an "everything": elsewhere kill(-1) would reach every
 * process of the user on the host, so a box without one just ends here, and
 * its mount namespace with the last process in it. */
static _Noreturn void stop_box(void)
{
        unsigned long long deadline = now_usec() + STOP_GRACE_USEC;

        if (getpid() != 1)
                _exit(0);
        (void)kill(-1, SIGTERM);
        (void)kill(-1, SIGCONT);
        while (now_usec() < deadline) {
                reap();
                /* kill(-1, 0) fails with ESRCH when nobody else is left, and
                 * with EPERM when only processes we may not signal are. */
                if (kill(-1, 0) < 0)
                        break;
                poll(NULL, 0, 10);
        }
        _exit(0);
}

static int ready(unsigned long long drop_usec, bool userns)
{
        struct step_time st = { .usec = drop_usec };
        struct msg *m = malloc(sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        snprintf(st.step, sizeof(st.step), "drop-privileges");
        snprintf(st.object, sizeof(st.object), "%s", userns ? "userns" : "uid");
        msg_init(m, MSG_OK);
        r = proto_put_timing(m, &st);
        if (r >= 0)
                r = msg_send(SYNC_FD, m, -1);
        free(m);
        /* Give the message buffer's pages back: this process lives as long
         * as the box, and idles. */
        malloc_trim(0);
        return r;
}

int main(int argc, char **argv)
{
        unsigned long long t = now_usec();
        unsigned long uid, gid;
        sigset_t mask;
        bool userns;
        int sfd;

        if (argc != 3 || fcntl(SYNC_FD, F_GETFD) < 0 || parse_uint(argv[1], UINT32_MAX - 1, &uid) < 0 ||
            parse_uint(argv[2], UINT32_MAX - 1, &gid) < 0) {
                fprintf(stderr, "nsbox-init is started by nsbox-helper only.\n");
                return 2;
        }
        userns = fcntl(USERNS_FD, F_GETFD) >= 0;
        (void)fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC);
        if (userns)
                (void)fcntl(USERNS_FD, F_SETFD, FD_CLOEXEC);
        close_range(userns ? USERNS_FD + 1 : SYNC_FD + 1, ~0U, 0);

        drop_privileges((uid_t)uid, (gid_t)gid, userns);
        t = now_usec() - t;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* As PID 1 we only ever see signals we block and read: the default
         * action does not apply to a namespace's init. */
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                die("signalfd", "init", errno);
        if (ready(t, userns) < 0)
                _exit(1);

        for (;;) {
                struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = SYNC_FD, .events = POLLIN } };
                struct signalfd_siginfo si;
                char c;

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(1);
                }
                if (pfd[1].revents) {
                        /* The helper is gone (or spoke out of turn): end the box. */
                        if (read(SYNC_FD, &c, 1) <= 0)
                                _exit(0);
                }
                while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                        if (si.ssi_signo == SIGCHLD)
                                reap();
                        else if (si.ssi_signo != SIGHUP)
                                stop_box();
                }
        }
}
