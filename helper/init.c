/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The box's PID 1.  Forked by the helper straight into new mount, pid, uts
 * and ipc namespaces, it builds the view while it is still root, then drops
 * every privilege and stays as the box's reaper.  It holds no fd but its
 * signalfd and its link to the helper.
 *
 * Lifetime is the kernel's business: when this process exits, the kernel
 * kills everything else in the PID namespace, and the mount, uts and ipc
 * namespaces go with their last process.  It exits when the helper asks
 * (SIGTERM: processes get TERM, then whatever is left is killed by our exit)
 * and when the helper dies (PDEATHSIG, or EOF on the link). */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "helper.h"
#include "util.h"

#define STOP_GRACE_USEC (1000 * 1000ULL)
#define MAX_TIMINGS 64

static struct step_time timings[MAX_TIMINGS];
static size_t n_timings;

void timing_add(const char *step, const char *object, unsigned long long usec)
{
        if (n_timings >= MAX_TIMINGS)
                return;
        snprintf(timings[n_timings].step, sizeof(timings[n_timings].step), "%s", step);
        snprintf(timings[n_timings].object, sizeof(timings[n_timings].object), "%s", object);
        timings[n_timings++].usec = usec;
}

static _Noreturn void report_and_die(int sync_fd, const struct step_error *e)
{
        struct error_reply er = { .error = e->error > 0 ? e->error : EIO };
        struct msg *m = malloc(sizeof(*m));

        snprintf(er.step, sizeof(er.step), "%s", e->step ? e->step : "setup");
        snprintf(er.object, sizeof(er.object), "%s", e->object);
        if (m) {
                msg_init(m, MSG_ERROR);
                if (proto_put_error(m, &er) == 0)
                        (void)msg_send(sync_fd, m, -1);
        }
        _exit(1);
}

static int drop_bounding_set(struct step_error *err)
{
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (cap_drop_bound(c) < 0 && errno != EINVAL) {
                        err->step = "drop-bounding-set";
                        return negative_errno();
                }
        return 0;
}

/* Become the user, with no capability anywhere.  With a user namespace the
 * init becomes its root (the user's uid on the host) first. */
static int drop_privileges(const struct box_spec *s, int userns_fd, struct step_error *err)
{
        uid_t uid = s->uid;
        gid_t gid = s->gid;
        cap_t none;
        int r = 0;

        if (setgroups(0, NULL) < 0) {
                err->step = "setgroups";
                return negative_errno();
        }
        /* Emptying the bounding set needs CAP_SETPCAP: without a user
         * namespace that is now, while we are still root; with one, it is
         * after joining it (joining gives a full set there). */
        if (userns_fd < 0) {
                r = drop_bounding_set(err);
                if (r < 0)
                        return r;
        }
        if (userns_fd >= 0) {
                /* Joining resets our capabilities and bounding set to full,
                 * inside that namespace only; they are dropped below. */
                if (setns(userns_fd, CLONE_NEWUSER) < 0) {
                        err->step = "join-userns";
                        return negative_errno();
                }
                close(userns_fd);
                uid = 0;
                gid = 0;
        }
        if (setresgid(gid, gid, gid) < 0)
                err->step = "setresgid", r = negative_errno();
        else if (setresuid(uid, uid, uid) < 0)
                err->step = "setresuid", r = negative_errno();
        if (r < 0)
                return r;
        /* Empty the bounding set so nothing run from here can ever gain a
         * capability back, then the sets themselves. */
        if (userns_fd >= 0) {
                r = drop_bounding_set(err);
                if (r < 0)
                        return r;
        }
        none = cap_init();
        if (!none || cap_set_proc(none) < 0) {
                err->step = "clear-capabilities";
                r = negative_errno();
        }
        cap_free(none);
        if (r < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
                err->step = "prctl";
                return negative_errno();
        }
        return 0;
}

static void reap(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* TERM everything in the box, then wait until it is empty or the grace time
 * is over.  Whatever is left dies with us. */
static _Noreturn void stop_box(void)
{
        unsigned long long deadline = now_usec() + STOP_GRACE_USEC;

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

_Noreturn void box_init_run(const struct box_spec *s, int sync_fd, int userns_fd)
{
        struct step_error err = {};
        struct msg *ok;
        sigset_t mask;
        int sfd, r;

        /* Keep only the link to the helper and the user namespace, at known
         * numbers (moved high first so the two dups cannot collide). */
        sync_fd = fcntl(sync_fd, F_DUPFD_CLOEXEC, 64);
        if (userns_fd >= 0)
                userns_fd = fcntl(userns_fd, F_DUPFD_CLOEXEC, 64);
        if (sync_fd < 0 || dup3(sync_fd, 3, O_CLOEXEC) < 0)
                _exit(1);
        sync_fd = 3;
        if (userns_fd >= 0) {
                if (dup3(userns_fd, 4, O_CLOEXEC) < 0)
                        _exit(1);
                userns_fd = 4;
        }
        close_range(userns_fd >= 0 ? 5 : 4, ~0U, 0);
        prctl(PR_SET_NAME, "nsbox-init", 0, 0, 0);
        umask(0022);

        unsigned long long t = now_usec();

        r = views_apply(s, &err);
        if (r < 0)
                report_and_die(sync_fd, &err);
        t = now_usec();
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
                err = (struct step_error){ .step = "hostname", .error = errno };
                snprintf(err.object, sizeof(err.object), "%s", s->hostname);
                report_and_die(sync_fd, &err);
        }
        if (setsid() < 0 || chdir("/") < 0) {
                err = (struct step_error){ .step = "setsid", .error = errno };
                report_and_die(sync_fd, &err);
        }
        if (s->debug && s->hostname)
                timing_add("hostname", s->hostname, now_usec() - t);
        t = now_usec();
        r = drop_privileges(s, userns_fd, &err);
        if (r < 0) {
                err.error = -r;
                snprintf(err.object, sizeof(err.object), "uid %u", (unsigned)s->uid);
                report_and_die(sync_fd, &err);
        }
        if (s->debug)
                timing_add("drop-privileges", userns_fd >= 0 ? "userns" : "uid", now_usec() - t);

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* As PID 1 we only ever see signals we block and read: the default
         * action does not apply to a namespace's init. */
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                err = (struct step_error){ .step = "signalfd", .error = errno };
                report_and_die(sync_fd, &err);
        }

        ok = malloc(sizeof(*ok));
        if (!ok)
                _exit(1);
        msg_init(ok, MSG_OK);
        for (size_t i = 0; i < n_timings; i++)
                if (proto_put_timing(ok, &timings[i]) < 0)
                        break;
        if (msg_send(sync_fd, ok, -1) < 0)
                _exit(1);
        free(ok);

        for (;;) {
                struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = sync_fd, .events = POLLIN } };
                struct signalfd_siginfo si;
                char c;

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(1);
                }
                if (pfd[1].revents) {
                        /* The helper is gone (or spoke out of turn): end the box. */
                        if (read(sync_fd, &c, 1) <= 0)
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
