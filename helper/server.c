/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>

#include "box.h"
#include "helper.h"
#include "loop.h"
#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define MAX_CLIENTS 1024
#define MAX_USER_CLIENTS 64     /* connections on the user socket, all users */
#define MAX_USER_CLIENTS_PER_UID 4     /* per user, their subordinate ids counted in */
/* How long a connection may take to send its one request: the module and
 * the CLI send theirs at once.  A connection that says nothing is closed. */
#define REQUEST_TIMEOUT_MS 5000

/* A connection from the module or the CLI: one request, one reply. */
struct client {
        struct watch w;
        bool user;              /* came in on the user socket */
        struct peer peer;
        unsigned long long deadline;    /* for its request */
        uid_t owner;            /* on the user socket: whose the uid is (box_id_owner) */
        char owner_name[33];
        struct open_request open;       /* while box.c has its OPEN */
};

static unsigned n_clients;
static struct client *user_clients[MAX_USER_CLIENTS];
/* Connections whose request has yet to come, each with its deadline. */
static struct client *reading[MAX_CLIENTS];
static bool stopping;
static struct watch root_w = { .fd = -1 }, user_w = { .fd = -1 };

unsigned server_connections(void)
{
        return n_clients;
}

void server_stop(void)
{
        stopping = true;
}

static void not_reading(const struct client *c)
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
        closep(&c->peer.pidfd);
        closep(&c->open.peer.pidfd);
        free(c);
        n_clients--;
}

static void client_send(struct client *c, const struct msg *m, const int *fds, size_t n)
{
        int r = msg_send_fds(c->w.fd, m, fds, n);

        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                syslog(LOG_WARNING, "reply to pid %d: %s", (int)c->peer.pid, strerror(-r));
        client_free(c);
}

static void client_fail(struct client *c, const struct error_reply *e, struct msg *m)
{
        msg_init(m, MSG_ERROR);
        (void)proto_put_error(m, e);
        client_send(c, m, NULL, 0);
}

int answer_fail(struct answer *a, int error, const char *step, const char *object)
{
        return error_reply_set(&a->err, error, step, object);
}

int answer_empty(struct answer *a, int type, int fd)
{
        msg_init(a->m, type);
        a->n_fds = 0;
        if (fd >= 0)
                a->fds[a->n_fds++] = fd;
        return 0;
}

/* Send what box.c answered, r being what it returned. */
static void client_answer(struct client *c, struct answer *a, int r)
{
        if (r < 0)
                client_fail(c, &a->err, a->m);
        else
                client_send(c, a->m, a->fds, a->n_fds);
        for (size_t i = 0; a->own_fds && i < a->n_fds; i++)
                close(a->fds[i]);
}

/* box.c's answer to an OPEN. */
static void opened(struct open_request *o, const struct open_answer *oa)
{
        struct client *c = container_of(o, struct client, open);
        struct answer a = { .m = malloc(sizeof(struct msg)) };
        int r;

        if (oa->gone || !a.m) {
                free(a.m);
                client_free(c);
                return;
        }
        if (oa->error)
                r = answer_fail(&a, oa->error, oa->step, oa->object);
        else {
                msg_init(a.m, MSG_BOX);
                r = proto_put_box(a.m, oa->box);
                if (r < 0)
                        r = answer_fail(&a, -r, "reply", oa->box->id);
                a.fds[a.n_fds++] = oa->pidfd;
        }
        client_answer(c, &a, r);
        free(a.m);
}

/* Is the peer a login from outside every box?  A login started from inside
 * a box (su in a session) is refused: a box is built from the host's view,
 * never from another box's.  The peer must share our PID namespace (a box
 * has its own) and be in no box's mount namespace; its mount namespace may
 * otherwise differ from ours (a service started with a private /tmp, say). */
static bool peer_outside_boxes(const struct peer *p)
{
        char path[64];
        struct stat a, b;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)p->pid);
        if (stat(path, &a) < 0 || stat("/proc/self/ns/pid", &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return false;
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)p->pid);
        if (stat(path, &a) < 0 || box_owns_mntns(a.st_dev, a.st_ino))
                return false;
        /* The pid was read through the pidfd's process: make sure it still is. */
        return pidfd_send_signal(p->pidfd, 0, NULL, 0) == 0;
}

/* An OPEN: checked here, then box.c's until it answers through opened(). */
static int request_open(struct client *c, const struct msg *m, struct answer *a)
{
        struct box_spec spec = {};
        struct session_info si = {};
        const char *why = NULL;
        int r = proto_parse_open(m, &spec, &si);

        if (r < 0)
                return answer_fail(a, -r, "request", "open");
        r = box_spec_validate(&spec, &why);
        if (r < 0)
                r = answer_fail(a, -r, "request", why);
        else if (stopping)
                r = answer_fail(a, ESHUTDOWN, "helper", "shutting down");
        else if (!peer_outside_boxes(&c->peer))
                r = answer_fail(a, EPERM, "nested-login", "login from inside a box");
        if (r < 0) {
                box_spec_done(&spec);
                session_info_done(&si);
                return r;
        }
        c->open = (struct open_request){ .peer = c->peer, .conn = c->w.fd, .done = opened };
        c->peer.pidfd = -1;     /* the session's now */
        box_open(&c->open, &spec, &si);
        return 1;
}

/* SHOW, ENTER and STOP name a box. */
static int request_box(struct client *c, const struct msg *m, struct answer *a)
{
        char id[NSBOX_ID_LEN + 1];
        uint32_t flags = 0, before;
        int r;

        if (msg_type(m) == MSG_SHOW) {
                r = proto_parse_show_request(m, id, &before);
                return r < 0 ? answer_fail(a, -r, "request", "box") : box_show(id, before, a);
        }
        r = proto_parse_box_request(m, msg_type(m), id, &flags);
        if (r < 0)
                return answer_fail(a, -r, "request", "box");
        if (msg_type(m) == MSG_ENTER)
                return box_enter(&c->peer, id, a);
        return box_stop_request(&c->peer, id, flags & F_FORCE, a);
}

/* The user socket takes two requests, from anyone, each checked against
 * its caller. */
static int request_user(struct client *c, const struct msg *m, struct answer *a)
{
        if ((msg_type(m) != MSG_ROOT && msg_type(m) != MSG_MANAGER) || proto_parse_empty(m) < 0)
                return answer_fail(a, EPERM, "request", "only nsbox root and the user manager's wrapper are served here");
        if (msg_type(m) == MSG_MANAGER)
                return box_manager(&c->peer, a);
        return box_root(&c->peer, a);
}

/* 1 when box.c answers later (an OPEN), else what the answer is. */
static int request(struct client *c, const struct msg *m, struct answer *a)
{
        uint8_t cookie[NSBOX_COOKIE_LEN];
        char id[NSBOX_ID_LEN + 1];
        int r;

        if (c->user)
                return request_user(c, m, a);
        switch (msg_type(m)) {
        case MSG_OPEN:
                return request_open(c, m, a);
        case MSG_CLOSE:
                r = proto_parse_cookie(m, cookie);
                return r < 0 ? answer_fail(a, -r, "request", "close") : box_close_session(cookie, a);
        case MSG_LIST:
                r = proto_parse_list_request(m, id);
                return r < 0 ? answer_fail(a, -r, "request", "list") : box_list(id, a);
        case MSG_SHOW:
        case MSG_ENTER:
        case MSG_STOP:
                return request_box(c, m, a);
        default:
                return answer_fail(a, EBADMSG, "request", "unknown message type");
        }
}

/* A request refused as such (another protocol version, malformed, of a
 * type this helper does not know): once in the log, naming who sent it.
 * Anyone may send garbage to the user socket, so at most a few lines a
 * minute. */
#define REFUSED_LINES_PER_MIN 10

static void log_refused(const struct client *c, int type, const struct error_reply *e)
{
        static unsigned long long window;
        static unsigned lines;
        unsigned long long now = now_usec();

        if (now - window > 60 * 1000000ULL) {
                window = now;
                lines = 0;
        }
        if (lines++ >= REFUSED_LINES_PER_MIN)
                return;
        syslog(LOG_WARNING, "event=request-refused pid=%d uid=%u socket=%s type=0x%x object=\"%s\" error=\"%s\"%s",
               (int)c->peer.pid, (unsigned)c->peer.uid, c->user ? "user" : "login", (unsigned)type, e->object,
               strerror(e->error), e->error == EPROTONOSUPPORT ? " (a peer of another protocol version)" : "");
}

static void on_client(struct watch *w, uint32_t events)
{
        struct client *c = container_of(w, struct client, w);
        struct answer a = {};
        _cleanup_free_ struct msg *m = NULL;
        int r, type;

        if (!(events & EPOLLIN) || !(m = malloc(sizeof(*m)))) {
                client_free(c);
                return;
        }
        r = msg_recv(c->w.fd, m, NULL);
        if (r == -EAGAIN)
                return;
        /* One request per connection: stop listening before answering. */
        loop_del(&c->w);
        not_reading(c);
        /* The answer is built in the request's own buffer. */
        a.m = m;
        type = r < 0 ? 0 : msg_type(m);
        r = r < 0 ? answer_fail(&a, -r, "request", "receive") : request(c, m, &a);
        if (r < 0 && strcmp(a.err.step, "request") == 0)
                log_refused(c, type, &a.err);
        if (r <= 0)
                client_answer(c, &a, r);
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
               (unsigned)c->peer.uid, c->owner == (uid_t)-1 ? -1 : (int)c->owner, c->owner_name[0] ? " owner_name=" : "",
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

        c->owner = box_id_owner(c->peer.uid, c->owner_name, sizeof(c->owner_name));
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

int server_expire(void)
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

static struct client *client_new(int fd, bool user, const struct ucred *cred)
{
        struct client *c = calloc(1, sizeof(*c));

        if (!c) {
                close(fd);
                return NULL;
        }
        n_clients++;
        c->w = (struct watch){ .fd = fd, .cb = on_client };
        c->user = user;
        c->open.peer.pidfd = -1;
        c->peer = (struct peer){ .uid = cred->uid, .pid = cred->pid, .pidfd = peer_pidfd(fd, cred->pid) };
        if ((user && !take_user_slot(c)) || c->peer.pidfd < 0 || !take_reading_slot(c) ||
            loop_add(&c->w, EPOLLIN) < 0) {
                client_free(c);
                return NULL;
        }
        return c;
}

static void accept_clients(int lfd, bool user)
{
        for (;;) {
                struct ucred cred;
                socklen_t len = sizeof(cred);
                struct client *c;
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                if (fd < 0)
                        return;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (!user && cred.uid != 0) ||
                    n_clients >= MAX_CLIENTS) {
                        close(fd);
                        continue;
                }
                c = client_new(fd, user, &cred);
                /* A client sends its request as soon as it is connected:
                 * it is usually here already. */
                if (c)
                        on_client(&c->w, EPOLLIN);
        }
}

/* Requests from root's socket still waiting to be accepted, handled now. */
static void take_pending_requests(void)
{
        if (root_w.fd >= 0)
                accept_clients(root_w.fd, false);
}

static void on_listen(struct watch *w, uint32_t events)
{
        (void)events;
        accept_clients(w->fd, w == &user_w);
}

int server_start(int root_fd, int user_fd)
{
        int r;

        root_w = (struct watch){ .fd = root_fd, .cb = on_listen };
        user_w = (struct watch){ .fd = user_fd, .cb = on_listen };
        r = loop_add(&root_w, EPOLLIN);
        if (r == 0 && user_fd >= 0)
                r = loop_add(&user_w, EPOLLIN);
        box_set_drain(take_pending_requests);
        return r;
}
