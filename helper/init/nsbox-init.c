/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox-init: the box's PID 1.
 *
 * The helper starts it straight into the box's new namespaces (a vfork-like
 * child that only executes this program), as root in the initial user
 * namespace, so that the process stays owned by it: neither the session nor
 * box root may trace it or read its fds.  A program of its own also means
 * an idle box costs only its few pages, not a copy of the helper's.
 *
 * It reads the box's spec from its link to the helper, builds the view as
 * root (views.c), sets the host name, drops every privilege (joining the
 * box's user namespace first when there is one), says "ready" with the
 * duration of each step, and reaps orphans.  It holds no fd but its
 * signalfd, its link to the helper (both ends), the helper's pidfd and
 * those of the box's login processes.
 *
 * Lifetime is the kernel's business: when this process exits, the kernel
 * kills everything else in the PID namespace, and the namespaces go with
 * their last process.  It exits when the helper asks (SIGTERM: processes get
 * TERM, then whatever is left is killed by our exit), and, while no helper
 * runs, when the box's last login process has exited and its linger is
 * over (hold.c).  A helper's death alone ends nothing: the next one takes
 * the box over.
 *
 * Usage (by the helper only): nsbox-init [--prepared], with the link on
 * fd 3, for a box with a user namespace that namespace on fd 4 (or with
 * the spec), the helper's end of the link on fd 5 and the helper's pidfd
 * on fd 6.  --prepared: a box made ahead of logins (prepared.c), which
 * waits for a login as "nsbox-prepared", and for as long as the helper
 * lives and keeps it. */
#include <dirent.h>
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

#include "caps.h"
#include "helper.h"
#include "hold.h"
#include "util.h"

#define SYNC_FD 3
#define USERNS_FD 4
#define SPARE_FD 5      /* the helper's end: held for the next helper */
#define HELPER_FD 6
#define STOP_GRACE_USEC (1000 * 1000ULL)
#define SPEC_TIMEOUT_MS (30 * 1000)    /* a live helper sends it at once */
/* A prepared box waits for a login: the helper makes it anew after five
 * minutes, and its death ends the wait at once. */
#define PREPARED_TIMEOUT_MS (10 * 60 * 1000)
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

#ifdef NSBOX_SANITIZE
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
        return "log_path=/run/world/out/asan-init:detect_leaks=0:abort_on_error=1";
}
#endif

static void die(const char *step, const char *object, int error) _noreturn_;
static void die(const char *step, const char *object, int error)
{
        (void)proto_send_error(SYNC_FD, error, step, object);
        _exit(1);
}

static void drop_bounding_set(void)
{
        int r = caps_bound(0);

        if (r < 0)
                die("drop-bounding-set", "init", -r);
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
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                die("prctl", object, errno);
}

static void reap(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* Is /proc the box's own (that of our PID namespace)?  Its /proc/self is
 * then 1. */
static bool own_proc(void)
{
        char self[16] = "";

        return readlink("/proc/self", self, sizeof(self) - 1) > 0 && strcmp(self, "1") == 0;
}

/* Send sig to every process of the box but us; returns how many took it.
 * They are read from the box's own /proc when we have it: kill(-1) would
 * find them by walking every process of the machine, which costs each
 * ending box time in proportion to all the others. */
static int signal_all(int sig, bool from_proc)
{
        struct dirent *e;
        DIR *d;
        int n = 0;

        if (!from_proc || !(d = opendir("/proc")))
                return kill(-1, sig) == 0;
        while ((e = readdir(d))) {
                char *end;
                long pid = strtol(e->d_name, &end, 10);

                if (*end == '\0' && pid > 1 && kill((pid_t)pid, sig) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

/* TERM everything in the box, then wait until it is empty or the grace time
 * is over.  Whatever is left dies with us.  Only a box with its own PID
 * namespace has an "everything": elsewhere kill(-1) would reach every
 * process of the user on the host, so a box without one just ends here, and
 * its mount namespace with the last process in it. */
static void stop_box(void) _noreturn_;
static void stop_box(void)
{
        unsigned long long deadline = now_usec() + STOP_GRACE_USEC;
        bool from_proc;

        if (getpid() != 1)
                _exit(0);
        from_proc = own_proc();
        (void)signal_all(SIGTERM, from_proc);
        (void)signal_all(SIGCONT, from_proc);
        while (now_usec() < deadline) {
                reap();
                /* Nobody left that we may signal. */
                if (signal_all(0, from_proc) == 0)
                        break;
                poll(NULL, 0, 10);
        }
        _exit(0);
}

/* "Ready", with how long each setup step took, to the helper. */
static int tell_ready(void)
{
        struct msg *m = malloc(sizeof(*m));
        int r = 0;

        if (!m)
                return -ENOMEM;
        msg_init(m, MSG_OK);
        for (size_t i = 0; i < n_timings && r >= 0; i++)
                r = proto_put_timing(m, &timings[i]);
        if (r >= 0)
                r = msg_send(SYNC_FD, m, -1);
        free(m);
        /* Give the message buffer's pages back: this process lives as long
         * as the box, and idles. */
        malloc_trim(0);
        return r;
}

/* The spec comes first.  The link never reaches EOF (we hold the helper's
 * end too), so a helper that died before sending it is seen through its
 * pidfd: then nobody will, and this init ends. */
static int wait_spec(bool prepared)
{
        struct pollfd p[2] = { { .fd = SYNC_FD, .events = POLLIN }, { .fd = HELPER_FD, .events = POLLIN } };
        nfds_t n = fcntl(HELPER_FD, F_GETFD) >= 0 ? 2 : 1;
        int r;

        do
                r = poll(p, n, prepared ? PREPARED_TIMEOUT_MS : SPEC_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
                return r < 0 ? -errno : -ETIMEDOUT;
        return (p[0].revents & POLLIN) ? 0 : -ESRCH;
}

/* The spec the helper sends first, and the view it describes.  A prepared
 * box gets its user namespace with it. */
static void build_box(struct box_spec *s, bool prepared)
{
        struct step_error err = {};
        struct msg *m = malloc(sizeof(*m));
        unsigned long long t;
        int r, userns = -1;

        if (!m)
                die("spec", "init", ENOMEM);
        r = wait_spec(prepared);
        if (r == 0)
                r = msg_recv(SYNC_FD, m, &userns);
        if (r == 0)
                r = proto_parse_spec(m, s);
        /* It may have come as fd 4 already: the lowest free. */
        if (r == 0 && userns >= 0 && userns != USERNS_FD) {
                r = dup3(userns, USERNS_FD, O_CLOEXEC) < 0 ? -errno : 0;
                close(userns);
        }
        /* The helper is gone, or spoke nonsense: say which, should it
         * still listen. */
        if (r < 0)
                die("spec", "init", -r);
        if (prepared)
                (void)prctl(PR_SET_NAME, "nsbox-init", 0, 0, 0);
        hold_init(m, s->linger, fcntl(HELPER_FD, F_GETFD) >= 0 ? HELPER_FD : -1);
        free(m);
        umask(0022);
        r = views_apply(s, &err);
        if (r < 0)
                die(err.step, err.object, err.error);
        t = now_usec();
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                die("hostname", s->hostname, errno);
        if (setsid() < 0 || chdir("/") < 0)
                die("setsid", "init", errno);
        if (s->debug && s->hostname)
                timing_add("hostname", s->hostname, now_usec() - t);
}

int main(int argc, char **argv)
{
        struct box_spec spec = {};
        unsigned long long t;
        sigset_t mask;
        bool userns, prepared = argc == 2 && strcmp(argv[1], "--prepared") == 0;
        int sfd;

        if ((argc != 1 && !prepared) || fcntl(SYNC_FD, F_GETFD) < 0) {
                fprintf(stderr, "nsbox-init is started by nsbox-helper only.\n");
                return 2;
        }
        for (int fd = SYNC_FD; fd <= HELPER_FD; fd++)
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        close_range(HELPER_FD + 1, ~0U, 0);
        if (prepared)
                (void)prctl(PR_SET_NAME, "nsbox-prepared", 0, 0, 0);

        build_box(&spec, prepared);
        userns = fcntl(USERNS_FD, F_GETFD) >= 0;
        t = now_usec();
        drop_privileges(spec.uid, spec.gid, userns);
        if (spec.debug)
                timing_add("drop-privileges", userns ? "userns" : "uid", now_usec() - t);
        box_spec_done(&spec);

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
        if (tell_ready() < 0)
                _exit(1);

        for (;;) {
                struct signalfd_siginfo si;
                int what = hold_wait(SYNC_FD, sfd);

                if (what == HOLD_END)
                        stop_box();
                if (what != HOLD_SIGNAL)
                        continue;
                while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                        if (si.ssi_signo == SIGCHLD)
                                reap();
                        else if (si.ssi_signo != SIGHUP)
                                stop_box();
                }
        }
}
