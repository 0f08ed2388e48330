/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox-helper: the privileged half of pam_nsbox.
 *
 * On a host that runs systemd, nsbox-helper.service starts it when a login
 * first connects to one of its sockets (socket activation), so that it
 * lives in a unit of its own, never in a user's session.  Elsewhere the
 * module starts it on demand (`nsbox-helper --daemon`, with a readiness
 * pipe on fd 3).  One instance runs at a time, guarded by a flock.  It listens
 * on a root-only SOCK_SEQPACKET socket, builds boxes, and tracks each session
 * by a pidfd of its login process.  Every box's PID 1 dies with it
 * (PDEATHSIG), so killing the helper ends every box, and the kernel cleans up
 * what a box held.  It exits by itself after a while without boxes. */
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

#include "daemon.h"
#include "subtree.h"
#include "net.h"
#include "paths.h"
#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define IDLE_EXIT_MS (30 * 1000)
#define MAX_CLIENTS 1024
#define MAX_USER_CLIENTS 64     /* connections on the user socket, all users */
#define MAX_USER_CLIENTS_PER_UID 4     /* per user, their subordinate ids counted in */
/* How long a connection may take to send its one request: the module and
 * the CLI send theirs at once.  A connection that says nothing is closed. */
#define REQUEST_TIMEOUT_MS 5000

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

static int epfd = -1;
static unsigned n_clients;
static struct client *user_clients[MAX_USER_CLIENTS];
/* Connections whose request has yet to come, each with its deadline. */
static struct client *reading[MAX_CLIENTS];
static bool shutting_down;

int loop_add(struct watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
                return negative_errno();
        return 0;
}

int loop_mod(struct watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
                return negative_errno();
        return 0;
}

/* The batch epoll_wait returned, while its events are dispatched: one
 * event's callback may free what a later event of the same batch points
 * to (a CLOSE and the login's exit arrive together), so a watch taken out
 * of the loop is also taken out of the rest of the batch. */
static struct epoll_event *batch;
static int batch_n, batch_i;

void loop_del(struct watch *w)
{
        if (w->fd >= 0)
                epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
        for (int i = batch_i + 1; batch && i < batch_n; i++)
                if (batch[i].data.ptr == w)
                        batch[i].data.ptr = NULL;
}

static void not_reading(struct client *c)
{
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (reading[i] == c)
                        reading[i] = NULL;
}

static void client_free(struct client *c)
{
        for (size_t i = 0; c->user && i < MAX_USER_CLIENTS; i++)
                if (user_clients[i] == c)
                        user_clients[i] = NULL;
        not_reading(c);
        loop_del(&c->w);
        closep(&c->w.fd);
        closep(&c->pidfd);
        free(c);
        n_clients--;
}

void client_drop(struct client *c)
{
        client_free(c);
}

void client_reply(struct client *c, const struct msg *m, int fd)
{
        client_reply_fds(c, m, &fd, fd >= 0 ? 1 : 0);
}

void client_reply_fds(struct client *c, const struct msg *m, const int *fds, size_t n)
{
        int r = msg_send_fds(c->w.fd, m, fds, n);

        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                syslog(LOG_WARNING, "reply to pid %d: %s", (int)c->pid, strerror(-r));
        client_free(c);
}

void client_fail(struct client *c, int error, const char *step, const char *object)
{
        struct error_reply e = { .error = error };
        struct msg *m = malloc(sizeof(*m));

        if (!m) {
                client_free(c);
                return;
        }
        snprintf(e.step, sizeof(e.step), "%s", step);
        snprintf(e.object, sizeof(e.object), "%s", object ? object : "");
        msg_init(m, MSG_ERROR);
        (void)proto_put_error(m, &e);
        client_reply(c, m, -1);
        free(m);
}

/* Is the peer a login from outside every box?  A login started from inside
 * a box (su in a session) is refused: a box is built from the host's view,
 * never from another box's.  The peer must share our PID namespace (a box
 * has its own) and be in no box's mount namespace; its mount namespace may
 * otherwise differ from ours (a service started with a private /tmp, say). */
static bool peer_outside_boxes(const struct client *c)
{
        char path[64];
        struct stat a, b;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->pid);
        if (stat(path, &a) < 0 || stat("/proc/self/ns/pid", &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return false;
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)c->pid);
        if (stat(path, &a) < 0 || box_owns_mntns(a.st_dev, a.st_ino))
                return false;
        /* The pid was read through the pidfd's process: make sure it still is. */
        return pidfd_send_signal(c->pidfd, 0, NULL, 0) == 0;
}

static void client_request(struct client *c, struct msg *m)
{
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct box_spec spec = {};
        struct session_info si = {};
        const char *why = NULL;
        int r;

        /* The user socket takes two requests, from anyone, each checked
         * against its caller; the rest is root's. */
        if (c->user) {
                if ((msg_type(m) != MSG_ROOT && msg_type(m) != MSG_MANAGER) || proto_parse_empty(m) < 0)
                        return client_fail(c, EPERM, "request",
                                           "only nsbox root and the user manager's wrapper are served here");
                if (msg_type(m) == MSG_MANAGER)
                        return box_manager(c);
                return box_root(c, c->uid);
        }
        switch (msg_type(m)) {
        case MSG_OPEN:
                r = proto_parse_open(m, &spec, &si);
                if (r < 0)
                        return client_fail(c, -r, "request", "open");
                r = box_spec_validate(&spec, &why);
                if (r < 0 || shutting_down || !peer_outside_boxes(c)) {
                        client_fail(c, r < 0 ? -r : shutting_down ? ESHUTDOWN : EPERM,
                                    r < 0 ? "request" : shutting_down ? "helper" : "nested-login",
                                    r < 0 ? why : shutting_down ? "shutting down" : "login from inside a box");
                        box_spec_done(&spec);
                        session_info_done(&si);
                        return;
                }
                return box_open(c, &spec, &si);
        case MSG_CLOSE:
                r = proto_parse_cookie(m, cookie);
                if (r < 0)
                        return client_fail(c, -r, "request", "close");
                return box_close_session(c, cookie);
        case MSG_LIST:
                r = proto_parse_empty(m);
                if (r < 0)
                        return client_fail(c, -r, "request", "list");
                return box_list(c);
        case MSG_SHOW:
        case MSG_ENTER:
        case MSG_STOP: {
                char id[NSBOX_ID_LEN + 1];
                uint32_t flags = 0;

                r = proto_parse_box_request(m, msg_type(m), id, &flags);
                if (r < 0)
                        return client_fail(c, -r, "request", "box");
                if (msg_type(m) == MSG_SHOW)
                        return box_show(c, id);
                if (msg_type(m) == MSG_ENTER)
                        return box_enter(c, id);
                return box_stop_request(c, id, flags & F_FORCE);
        }
        default:
                return client_fail(c, EBADMSG, "request", "unknown message type");
        }
}

static void on_client(struct watch *w, uint32_t events)
{
        struct client *c = container_of(w, struct client, w);
        struct msg *m;
        int r;

        if (!(events & EPOLLIN)) {
                client_free(c);
                return;
        }
        m = malloc(sizeof(*m));
        if (!m) {
                client_free(c);
                return;
        }
        r = msg_recv(c->w.fd, m, NULL);
        if (r == -EAGAIN)
                goto out;
        /* One request per connection: stop listening before answering. */
        loop_del(&c->w);
        not_reading(c);
        if (r < 0)
                client_fail(c, -r, "request", "receive");
        else
                client_request(c, m);
out:
        free(m);
}

static int peer_pidfd(int fd, pid_t pid)
{
        socklen_t len = sizeof(int);
        int pidfd = -1;

        /* SO_PEERPIDFD names the very process that connected; pidfd_open on the
         * pid from SO_PEERCRED is the fallback for older kernels. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) {
                fcntl(pidfd, F_SETFD, FD_CLOEXEC);
                return pidfd;
        }
        return pidfd_open(pid, 0);
}

/* A refused connection, logged: at most one line every 10 s, saying how
 * many more were refused meanwhile, so that a flood of them is no flood of
 * the log. */
static void log_refusal(const struct client *c, unsigned mine)
{
        static unsigned long long last;
        static unsigned quiet;
        unsigned long long now = now_usec();

        if (last && now - last < 10 * 1000000ULL) {
                quiet++;
                return;
        }
        syslog(LOG_WARNING, "event=refused step=connect uid=%u owner=%d%s%s: %u connections of theirs already, %s%s",
               (unsigned)c->uid, c->owner == (uid_t)-1 ? -1 : (int)c->owner, c->owner_name[0] ? " owner_name=" : "",
               c->owner_name, mine, mine >= MAX_USER_CLIENTS_PER_UID ? "the most one user may have" : "every slot taken",
               quiet ? "; more refused since the last such line" : "");
        last = now;
        quiet = 0;
}

/* A slot for a connection on the user socket: a few per user, so that one
 * user cannot crowd out the others (logins have their own socket).  A
 * subordinate id counts as the user it is subordinate to: root of one's own
 * box is not another user. */
static bool take_user_slot(struct client *c)
{
        size_t free_slot = MAX_USER_CLIENTS;
        unsigned mine = 0;

        c->owner = box_id_owner(c->uid, c->owner_name, sizeof(c->owner_name));
        for (size_t i = 0; i < MAX_USER_CLIENTS; i++) {
                if (!user_clients[i])
                        free_slot = free_slot < MAX_USER_CLIENTS ? free_slot : i;
                else if (user_clients[i]->owner == c->owner &&
                         strcmp(user_clients[i]->owner_name, c->owner_name) == 0)
                        mine++;
        }
        if (free_slot == MAX_USER_CLIENTS || mine >= MAX_USER_CLIENTS_PER_UID) {
                log_refusal(c, mine);
                return false;
        }
        user_clients[free_slot] = c;
        return true;
}

/* Note a connection as waiting for its request, until its deadline. */
static bool take_reading_slot(struct client *c)
{
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (!reading[i]) {
                        reading[i] = c;
                        c->deadline = now_usec() + REQUEST_TIMEOUT_MS * 1000ULL;
                        return true;
                }
        return false;
}

/* Close the connections past their deadline; returns the milliseconds to
 * the next deadline, or -1 when none is pending. */
static int expire_clients(void)
{
        unsigned long long now = now_usec(), next = 0;

        for (size_t i = 0; i < MAX_CLIENTS; i++) {
                struct client *c = reading[i];

                if (!c)
                        continue;
                if (c->deadline <= now) {
                        client_free(c);
                        continue;
                }
                if (!next || c->deadline < next)
                        next = c->deadline;
        }
        return next ? ms_until(next) : -1;
}

static void accept_clients(int lfd, bool user)
{
        for (;;) {
                struct ucred cred;
                socklen_t len = sizeof(cred);
                struct client *c;
                int fd;

                fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0)
                        return;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (!user && cred.uid != 0) ||
                    n_clients >= MAX_CLIENTS) {
                        close(fd);
                        continue;
                }
                c = calloc(1, sizeof(*c));
                if (!c) {
                        close(fd);
                        continue;
                }
                n_clients++;
                c->w = (struct watch){ .fd = fd, .cb = on_client };
                c->user = user;
                c->uid = cred.uid;
                c->pid = cred.pid;
                c->pidfd = peer_pidfd(fd, cred.pid);
                if ((user && !take_user_slot(c)) || c->pidfd < 0 || !take_reading_slot(c) ||
                    loop_add(&c->w, EPOLLIN) < 0) {
                        client_free(c);
                        continue;
                }
                /* A client sends its request as soon as it is connected:
                 * it is usually here already. */
                on_client(&c->w, EPOLLIN);
        }
}

static int root_listen_fd = -1;

/* Requests from root's socket still waiting to be accepted, handled now. */
void take_pending_requests(void)
{
        if (root_listen_fd >= 0)
                accept_clients(root_listen_fd, false);
}

static void on_listen(struct watch *w, uint32_t events)
{
        (void)events;
        accept_clients(w->fd, false);
}

static void on_listen_user(struct watch *w, uint32_t events)
{
        (void)events;
        accept_clients(w->fd, true);
}

static void on_signal(struct watch *w, uint32_t events)
{
        struct signalfd_siginfo si;

        (void)events;
        while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        syslog(LOG_INFO, "stopping every box on signal %u", si.ssi_signo);
                        shutting_down = true;
                        box_stop_all();
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

        if (mkdir(NSBOX_RUNDIR, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        dir = open(NSBOX_RUNDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return negative_errno();
        if (fstat(dir, &st) < 0)
                return negative_errno();
        if (st.st_uid != 0 || (st.st_mode & 022)) {
                syslog(LOG_ERR, "%s is not owned by root or is writable by others; refusing to use it", NSBOX_RUNDIR);
                return -EPERM;
        }
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

int init_exe_fd = -1;

/* nsbox-init lives beside the helper's own binary, held to the same
 * trust: root-owned all the way, writable by root only. */
static int open_init_exe(void)
{
        char self[PATH_MAX];
        _cleanup_free_ char *path = NULL, *why = NULL;
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;
        int r;

        if (n <= 0)
                return -errno;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash)
                return -ENOENT;
        *slash = '\0';
        if (xasprintf(&path, "%s/nsbox-init", self) < 0)
                return -ENOMEM;
        r = open_trusted(path, O_PATH | O_CLOEXEC, &init_exe_fd, &why);
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

int main(int argc, char **argv)
{
        struct watch lw = { .fd = -1, .cb = on_listen }, uw = { .fd = -1, .cb = on_listen_user },
                     sw = { .fd = -1, .cb = on_signal };
        int lock = -1, activated, r;
        sigset_t mask;

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
        activated = take_activated_sockets(&lw.fd, &uw.fd);
        sanitize_process();
        close_range(activated ? SD_LISTEN_FDS_START + (unsigned)activated : 4, ~0U, 0);
        openlog("nsbox-helper", LOG_PID, LOG_AUTHPRIV);
        if (activated && lw.fd < 0) {
                syslog(LOG_ERR, "systemd passed no socket at %s", NSBOX_SOCKET);
                return 1;
        }

        if (open_init_exe() < 0) {
                signal_ready();
                return 1;
        }
        r = box_spawn_prepare();
        if (r < 0) {
                syslog(LOG_ERR, "cannot reserve the fds a box's init is started with: %s", strerror(-r));
                signal_ready();
                return 1;
        }
        r = setup_sockets(activated, &lw.fd, &uw.fd, &lock);
        root_listen_fd = lw.fd;
        if (r != 0) {
                if (r < 0)
                        syslog(LOG_ERR, "cannot listen on %s: %s", NSBOX_SOCKET, strerror(-r));
                signal_ready();
                return r < 0 ? 1 : 0;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGPIPE);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sw.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (sw.fd < 0 || epfd < 0 || loop_add(&lw, EPOLLIN) < 0 || (uw.fd >= 0 && loop_add(&uw, EPOLLIN) < 0) ||
            loop_add(&sw, EPOLLIN) < 0) {
                syslog(LOG_ERR, "cannot set up the event loop: %m");
                return 1;
        }
        host_recover();
        if (!units_enabled())
                subtree_sweep();
        r = units_init();
        if (r < 0) {
                syslog(LOG_ERR, "cannot watch systemd's bus: %s", strerror(-r));
                return 1;
        }
        signal_ready();

        for (;;) {
                struct epoll_event ev[32];
                int wait_ms = expire_clients(), turn_ms, n;
                bool idle;

                box_take_turns(shutting_down);
                turn_ms = box_turns_next_ms();
                if (turn_ms >= 0 && (wait_ms < 0 || turn_ms < wait_ms))
                        wait_ms = turn_ms;
                idle = box_count() == 0 && n_clients == 0;

                if (shutting_down && box_count() == 0)
                        break;
                n = epoll_wait(epfd, ev, ARRAY_SIZE(ev), idle ? IDLE_EXIT_MS : wait_ms);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        syslog(LOG_ERR, "epoll_wait: %m");
                        break;
                }
                if (n == 0 && idle)
                        break;
                batch = ev;
                batch_n = n;
                for (batch_i = 0; batch_i < n; batch_i++) {
                        struct watch *w = ev[batch_i].data.ptr;

                        if (w)
                                w->cb(w, ev[batch_i].events);
                }
                batch = NULL;
        }
        host_restore();
        if (!units_enabled())
                subtree_done();
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
