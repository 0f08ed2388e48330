/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox-helper: the privileged half of pam_nsbox.
 *
 * On a host that runs systemd, nsbox-helper.service starts it when a login
 * first connects to one of its sockets (socket activation), so that it
 * lives in a unit of its own, never in a user's session.  Elsewhere the
 * module starts it on demand (`nsbox-helper --daemon`, with a readiness
 * pipe on fd 3).  One instance runs at a time, guarded by a flock.  It listens
 * on a root-only SOCK_SEQPACKET socket, builds boxes, and tracks each session
 * by a pidfd of its login process.
 *
 * The boxes do not depend on it: each box's PID 1 holds its sessions too,
 * and ends the box by itself with its last login when no helper runs.  A
 * helper that starts takes over the boxes one before it left (adopt.c), be
 * it killed, crashed or stopped for an upgrade; TERM makes it finish what
 * is starting or stopping and exit, leaving the running boxes to the next
 * one.  It exits by itself after a while without boxes. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>

#include "adopt.h"
#include "daemon.h"
#include "server.h"
#include "spawn.h"
#include "subtree.h"
#include "net.h"
#include "paths.h"
#include "prepared.h"
#include "util.h"

#define IDLE_EXIT_MS (30 * 1000)

#ifdef NSBOX_SANITIZE
/* Sanitizer builds are for the test world only.  The module starts us
 * with an empty environment and stdio on /dev/null, so reports go where
 * the test world collects them.  Leak checking needs a process it may
 * trace, which a privileged helper is not. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void)
{
        return "log_path=/run/world/out/asan-helper:detect_leaks=0:abort_on_error=1";
}
const char *__ubsan_default_options(void)
{
        return "log_path=/run/world/out/ubsan-helper:print_stacktrace=1:halt_on_error=1";
}
#endif

static bool shutting_down;

static void on_signal(struct watch *w, uint32_t events)
{
        struct signalfd_siginfo si;

        (void)events;
        while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        syslog(LOG_INFO, "event=helper-stop signal=%u boxes=%u: the running boxes stay for the next helper",
                               si.ssi_signo, box_count());
                        shutting_down = true;
                        server_stop();
                }
                /* SIGCHLD: inits are reaped through their pidfds. */
        }
}

static int listen_at(int dir, const char *name, const char *path, mode_t mode, int *ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int s = -1;

        if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
                return negative_errno();
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0)
                return negative_errno();
        strcpy(sa.sun_path, path);
        /* umask 077 makes the socket 0600 as it is bound; the user socket is
         * opened up after, and every request on it is checked. */
        if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || fchmodat(dir, name, mode, 0) < 0 ||
            listen(s, 128) < 0)
                return negative_errno();
        *ret = TAKE_FD(s);
        return 0;
}

/* Make /run/nsbox, take the single-instance lock, listen (unless systemd
 * listens for us: then *ret_listen and *ret_user are set already).
 * Returns 1 when another helper already holds the lock. */
static int setup_sockets(bool activated, int *ret_listen, int *ret_user, int *ret_lock)
{
        _cleanup_close_ int dir = -1, lock = -1, s = -1, u = -1;
        struct stat st;
        int r;

        r = open_root_dir(NSBOX_RUNDIR, 0755, 022, &dir, &st);
        if (r == -EPERM)
                syslog(LOG_ERR, "%s is not owned by root or is writable by others; refusing to use it", NSBOX_RUNDIR);
        if (r < 0)
                return r;
        /* Others need to reach user.sock inside it. */
        if ((st.st_mode & 0777) != 0755 && fchmod(dir, 0755) < 0)
                return negative_errno();
        lock = openat(dir, "helper.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return negative_errno();
        if (flock(lock, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : negative_errno();
        *ret_lock = TAKE_FD(lock);
        if (activated)
                return 0;
        r = listen_at(dir, "helper.sock", NSBOX_SOCKET, 0600, &s);
        if (r >= 0)
                r = listen_at(dir, "user.sock", NSBOX_USER_SOCKET, 0666, &u);
        if (r < 0)
                return r;
        *ret_listen = TAKE_FD(s);
        *ret_user = TAKE_FD(u);
        return 0;
}

/* The sockets systemd listens on for us (nsbox-helper.socket and
 * nsbox-user.socket), told apart by their paths.  Returns how many fds
 * systemd passed, 0 when it passed none. */
static int take_activated_sockets(int *ret_listen, int *ret_user)
{
        int n = sd_listen_fds(0);

        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                int *slot = sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NSBOX_SOCKET, 0) > 0        ? ret_listen
                            : sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NSBOX_USER_SOCKET, 0) > 0 ? ret_user
                                                                                                  : NULL;

                if (!slot || *slot >= 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                        close(fd);
                        continue;
                }
                *slot = fd;
        }
        return n > 0 ? n : 0;
}

static void sanitize_process(void)
{
        struct rlimit nofile = { 65536, 65536 };
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        /* Whatever the login process left us: empty environment, default
         * signal dispositions, nothing blocked, a known umask and cwd. */
        clearenv();
        setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        umask(077);
        if (chdir("/") < 0)
                _exit(1);
        setsid();
        /* pam_limits may have run before us in the login's stack. */
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0) {
                getrlimit(RLIMIT_NOFILE, &nofile);
                nofile.rlim_cur = nofile.rlim_max;
                setrlimit(RLIMIT_NOFILE, &nofile);
        }
        /* Never dumpable while we hold privilege: no ptrace, no core. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_NAME, "nsbox-helper", 0, 0, 0);
}

/* nsbox-init lives beside the helper's own binary, held to the same
 * trust: root-owned all the way, writable by root only. */
static int open_init_exe(int *ret_fd)
{
        char self[PATH_MAX];
        _cleanup_free_ char *path = NULL, *why = NULL;
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;
        int r;

        if (n <= 0)
                return negative_errno();
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash)
                return -ENOENT;
        *slash = '\0';
        if (xasprintf(&path, "%s/nsbox-init", self) < 0)
                return -ENOMEM;
        r = open_trusted(path, O_PATH | O_CLOEXEC, ret_fd, &why);
        if (r < 0)
                syslog(LOG_ERR, "cannot use %s: %s", path, why ? why : strerror(-r));
        return r;
}

static void signal_ready(void)
{
        struct stat st;

        if (fstat(3, &st) == 0 && S_ISFIFO(st.st_mode)) {
                (void)write_all(3, "R", 1);
                close(3);
        }
}

/* Signals arrive on a signalfd in the loop; none has a handler. */
static int watch_signals(struct watch *sw)
{
        static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE };
        sigset_t mask;

        sigemptyset(&mask);
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                sigaddset(&mask, sigs[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        *sw = (struct watch){ .fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK), .cb = on_signal };
        return sw->fd < 0 ? negative_errno() : loop_add(sw, EPOLLIN);
}

/* The sooner of two epoll timeouts, where -1 is none. */
static int sooner_ms(int a, int b)
{
        return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* Until the helper has nothing left to do: no box, no connection and no
 * box made ahead for IDLE_EXIT_MS, or, after SIGTERM, no box starting or
 * stopping. */
static void serve(void)
{
        for (;;) {
                int wait_ms = server_expire(), n;
                bool idle, prepare;

                box_take_turns(shutting_down);
                wait_ms = sooner_ms(sooner_ms(wait_ms, box_turns_next_ms()), prepared_next_ms());
                /* Boxes made ahead keep it too, until their linger is over. */
                idle = box_count() == 0 && server_connections() == 0 && !prepared_lingering();
                if (shutting_down && box_busy_count() == 0)
                        return;
                /* Boxes are made ahead only while nothing waits: not while
                 * a box starts (its login waits for it), and one at a
                 * time, each time the loop finds nothing to do. */
                prepare = !shutting_down && prepared_wanted() && box_busy_count() == 0;
                n = loop_dispatch(idle ? IDLE_EXIT_MS : prepare ? 0 : wait_ms);
                if (n == 0 && prepare) {
                        prepared_make_one();
                        continue;
                }
                if (n < 0) {
                        syslog(LOG_ERR, "epoll_wait: %s", strerror(-n));
                        return;
                }
                if (n == 0 && idle)
                        return;
        }
}

/* nsbox-init, the fds a box's init is started with, the sockets and the
 * single-instance lock: 0, 1 when another helper runs, or -errno (logged
 * here).  Whoever started us hears of it either way. */
static int start(int activated, int *root_fd, int *user_fd, int *lock)
{
        int init_exe = -1, r;

        if (activated && *root_fd < 0) {
                syslog(LOG_ERR, "systemd passed no socket at %s", NSBOX_SOCKET);
                return -EBADF;
        }
        r = open_init_exe(&init_exe);
        if (r >= 0 && (r = spawn_prepare(init_exe)) < 0)
                syslog(LOG_ERR, "cannot reserve the fds a box's init is started with: %s", strerror(-r));
        if (r >= 0 && (r = setup_sockets(activated, root_fd, user_fd, lock)) < 0)
                syslog(LOG_ERR, "cannot listen on %s: %s", NSBOX_SOCKET, strerror(-r));
        if (r != 0)
                signal_ready();
        return r;
}

int main(int argc, char **argv)
{
        struct watch sw;
        int root_fd = -1, user_fd = -1, lock = -1, activated, r;
        unsigned long long t;
        unsigned adopted;

        if (argc != 2 || strcmp(argv[1], "--daemon") != 0) {
                fprintf(stderr, "nsbox-helper is started by pam_nsbox.so; it takes --daemon.\n");
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "nsbox-helper: must run as root\n");
                return 1;
        }
        /* Started by systemd through our sockets, or by the module with a
         * readiness pipe on fd 3.  Everything else is someone else's. */
        activated = take_activated_sockets(&root_fd, &user_fd);
        sanitize_process();
        close_range(activated ? SD_LISTEN_FDS_START + (unsigned)activated : 4, ~0U, 0);
        openlog("nsbox-helper", LOG_PID, LOG_AUTHPRIV);
        nft_reserve();
        r = start(activated, &root_fd, &user_fd, &lock);
        if (r != 0)
                return r < 0 ? 1 : 0;
        if (loop_init() < 0 || server_start(root_fd, user_fd) < 0 || watch_signals(&sw) < 0) {
                syslog(LOG_ERR, "cannot set up the event loop: %m");
                return 1;
        }
        r = units_init();
        if (r < 0) {
                syslog(LOG_ERR, "cannot watch systemd's bus: %s", strerror(-r));
                return 1;
        }
        r = prepared_watch_mounts();
        if (r < 0)
                syslog(LOG_WARNING, "event=prepare-failed step=watch object=/proc/self/mountinfo: %s; no box is made "
                       "ahead of logins", strerror(-r));
        r = adopt_open();
        if (r < 0)
                syslog(LOG_ERR, "event=adopt-failed: cannot use %s/boxes: %s; no box is taken over", NSBOX_RUNDIR,
                       strerror(-r));
        /* Listening already: a login that started us waits in the socket's
         * queue while the boxes are taken over (at most ADOPT_TIMEOUT_MS). */
        signal_ready();
        t = now_usec();
        adopted = box_adopt_all();
        net_sweep(box_owns_host_end);
        host_recover(adopted > 0);
        if (!units_enabled())
                subtree_sweep(box_known);
        syslog(LOG_INFO, "event=helper-start version=%s adopted=%u usec=%llu", NSBOX_VERSION, adopted,
               now_usec() - t);
        serve();
        prepared_drop_all();
        nft_exit();
        if (box_count() == 0) {
                adopt_close();
                host_restore();
                if (!units_enabled())
                        subtree_done();
        }
        /* Unlink while still holding the lock, so a successor never removes
         * a live socket and we never remove a successor's.  Sockets systemd
         * made stay: it listens on them for the next helper. */
        if (!activated) {
                unlink(NSBOX_SOCKET);
                unlink(NSBOX_USER_SOCKET);
        }
        close(lock);
        return 0;
}
