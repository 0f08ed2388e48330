/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boxes and the sessions that hold them.
 *
 * A box is its PID 1 (a child of ours, watched through a pidfd) plus a link
 * to it (a socketpair) on which it says "ready" or why it failed.  A session
 * is a claim on a box, held by a login process: it ends with an explicit
 * close, or when that process dies (its pidfd turns readable), even by
 * SIGKILL.  A box whose last claim is gone lingers, then is stopped: its init
 * sends TERM to everything inside and exits, and the kernel does the rest. */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "net.h"
#include "util.h"

#define KILL_AFTER_SEC 3

enum box_state { BOX_STARTING, BOX_RUNNING, BOX_STOPPING };

struct session {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct box *box;
        struct watch opener;    /* pidfd of the login process */
        pid_t opener_pid;
        struct session_info si;
        struct session *next;
};

struct box {
        char id[NSBOX_ID_LEN + 1];
        struct box_spec spec;
        enum box_state state;
        pid_t pid;
        time_t created;
        struct watch pidfd;
        struct watch sync;
        struct watch timer;
        struct session *sessions;
        unsigned n_sessions;
        struct client *waiters;
        struct error_reply failure;
        int userns;             /* the box's user namespace, or -1 */
        dev_t mntns_dev;        /* the box's mount namespace, to know */
        ino_t mntns_ino;        /* which box a `nsbox root` caller is in */
        struct box_net net;     /* leases, host end, nftables elements */
        struct box *next;
};

static struct box *boxes;
static unsigned n_boxes;

unsigned box_count(void)
{
        return n_boxes;
}

static void unwatch(struct watch *w)
{
        loop_del(w);
        closep(&w->fd);
}

static void arm_timer(struct box *b, unsigned sec)
{
        struct itimerspec its = { .it_value = { .tv_sec = sec } };

        timerfd_settime(b->timer.fd, 0, &its, NULL);
}

static void box_stop(struct box *b)
{
        if (b->state == BOX_STOPPING)
                return;
        b->state = BOX_STOPPING;
        if (pidfd_send_signal(b->pidfd.fd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                syslog(LOG_WARNING, "box %s: cannot signal init %d: %m", b->id, (int)b->pid);
        arm_timer(b, KILL_AFTER_SEC);
}

/* Nobody holds the box any more: let it linger, or stop it now. */
static void box_unclaimed(struct box *b)
{
        if (b->n_sessions > 0 || b->state != BOX_RUNNING)
                return;
        if (b->spec.linger == 0)
                box_stop(b);
        else
                arm_timer(b, b->spec.linger);
}

static void session_free(struct session *s)
{
        unwatch(&s->opener);
        session_info_done(&s->si);
        free(s);
}

static void session_release(struct session *s)
{
        struct box *b = s->box;

        for (struct session **p = &b->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        b->n_sessions--;
        session_free(s);
        box_unclaimed(b);
}

static void on_opener_exit(struct watch *w, uint32_t events)
{
        struct session *s = container_of(w, struct session, opener);

        (void)events;
        session_release(s);
}

static void reply_box(struct box *b, struct client *c)
{
        struct box_reply br = { .namespaces = b->spec.namespaces, .share = b->spec.share };
        struct msg *m = malloc(sizeof(*m));

        if (!m)
                return client_fail(c, ENOMEM, "reply", b->id);
        memcpy(br.id, b->id, sizeof(br.id));
        memcpy(br.cookie, c->cookie, sizeof(br.cookie));
        msg_init(m, MSG_BOX);
        if (proto_put_box(m, &br) < 0)
                client_fail(c, E2BIG, "reply", b->id);
        else
                client_reply(c, m, b->pidfd.fd);
        free(m);
}

static void box_free(struct box *b)
{
        for (struct box **p = &boxes; *p; p = &(*p)->next)
                if (*p == b) {
                        *p = b->next;
                        break;
                }
        n_boxes--;
        while (b->waiters) {
                struct client *c = b->waiters;
                b->waiters = c->next_waiter;
                client_fail(c, b->failure.error ? b->failure.error : ECHILD,
                            b->failure.step[0] ? b->failure.step : "init", b->failure.object[0] ? b->failure.object : b->id);
        }
        while (b->sessions) {
                struct session *s = b->sessions;
                b->sessions = s->next;
                session_free(s);
        }
        net_teardown(&b->net);
        unwatch(&b->pidfd);
        unwatch(&b->sync);
        unwatch(&b->timer);
        closep(&b->userns);
        box_spec_done(&b->spec);
        free(b);
}

static void on_init_exit(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, pidfd);
        siginfo_t si = {};

        (void)events;
        if (waitid(P_PIDFD, (id_t)b->pidfd.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return;
        /* A failed setup is logged once, by the module, which knows the
         * login it denied. */
        if (b->state != BOX_STARTING)
                syslog(LOG_INFO, "box %s for %s (uid %u) ended", b->id, b->spec.user, (unsigned)b->spec.uid);
        box_free(b);
}

static void on_sync(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, sync);
        struct msg *m;

        (void)events;
        m = malloc(sizeof(*m));
        if (!m || msg_recv(w->fd, m, NULL) < 0) {
                /* EOF: init is exiting; its pidfd tells the rest. */
                free(m);
                unwatch(w);
                return;
        }
        if (b->state == BOX_STARTING && msg_type(m) == MSG_OK && proto_parse_empty(m) == 0) {
                char path[64];
                struct stat st;

                b->state = BOX_RUNNING;
                snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)b->pid);
                if (stat(path, &st) == 0) {
                        b->mntns_dev = st.st_dev;
                        b->mntns_ino = st.st_ino;
                }
                syslog(LOG_INFO, "box %s for %s (uid %u) started, init pid %d", b->id, b->spec.user,
                       (unsigned)b->spec.uid, (int)b->pid);
                while (b->waiters) {
                        struct client *c = b->waiters;
                        b->waiters = c->next_waiter;
                        reply_box(b, c);
                }
                box_unclaimed(b);
        } else if (b->state == BOX_STARTING && msg_type(m) == MSG_ERROR) {
                if (proto_parse_error(m, &b->failure) < 0)
                        b->failure.error = EIO;
        }
        free(m);
}

static void on_timer(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, timer);
        uint64_t n;

        (void)events;
        if (read(w->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
                return;
        if (b->state == BOX_STOPPING) {
                syslog(LOG_WARNING, "box %s: init did not stop in %d s, killing it", b->id, KILL_AFTER_SEC);
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
        } else if (b->state == BOX_RUNNING && b->n_sessions == 0)
                box_stop(b);
}

static int new_id(char ret[NSBOX_ID_LEN + 1])
{
        for (int tries = 0; tries < 16; tries++) {
                uint32_t v;
                bool taken = false;

                if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                        return -EIO;
                snprintf(ret, NSBOX_ID_LEN + 1, "%08x", v);
                for (struct box *b = boxes; b; b = b->next)
                        taken |= strcmp(b->id, ret) == 0;
                if (!taken)
                        return 0;
        }
        return -EEXIST;
}

/* Is any address of this block (a /30 or /126) leased by a live box? */
static bool block_taken(const struct addr *base, void *userdata)
{
        struct cidr block = { .base = *base, .prefix = (base->family == AF_INET ? 32 : 128) - BLOCK_SHIFT };

        (void)userdata;
        for (struct box *b = boxes; b; b = b->next) {
                const struct box_net *n = &b->net;

                if ((n->has4 && (cidr_contains(&block, &n->host4) || cidr_contains(&block, &n->box4))) ||
                    (n->has6 && (cidr_contains(&block, &n->host6) || cidr_contains(&block, &n->box6))))
                        return true;
        }
        return false;
}

static int box_network(struct box *b, struct step_error *err)
{
        _cleanup_close_ int netns = -1;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)b->pid);
        netns = open(path, O_RDONLY | O_CLOEXEC);
        if (netns < 0) {
                err->step = "netns";
                snprintf(err->object, sizeof(err->object), "%s", path);
                return negative_errno();
        }
        return net_setup(&b->spec, b->id, netns, &b->net, err);
}

static int box_create(struct box_spec *spec, struct box **ret, struct step_error *err)
{
        struct box *b;
        int sv[2], pidfd = -1, r;
        struct clone_args args = { .exit_signal = SIGCHLD };
        pid_t pid;

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->pidfd.fd = b->sync.fd = b->timer.fd = b->userns = -1;
        r = new_id(b->id);
        /* The lease is taken before anything else: unique because this loop
         * is the only one handing them out. */
        if (r >= 0)
                r = net_lease(spec, block_taken, NULL, &b->net, err);
        if (r >= 0 && (spec->namespaces & NS_USER))
                r = userns_create(spec, &b->userns, err);
        if (r < 0) {
                free(b);
                return r;
        }
        b->timer = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), .cb = on_timer };
        if (b->timer.fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = negative_errno();
                closep(&b->timer.fd);
                closep(&b->userns);
                free(b);
                return r;
        }
        /* The session's namespaces are made here, by root in the initial user
         * namespace, so that they are owned by it and not by the box's own
         * user namespace (where the user is root). */
        args.flags = CLONE_PIDFD | CLONE_NEWNS | ((spec->namespaces & NS_PID) ? CLONE_NEWPID : 0) |
                     ((spec->namespaces & NS_UTS) ? CLONE_NEWUTS : 0) | ((spec->namespaces & NS_IPC) ? CLONE_NEWIPC : 0) | ((spec->namespaces & NS_NET) ? CLONE_NEWNET : 0);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0) {
                close(sv[0]);
                box_init_run(spec, sv[1], b->userns);
        }
        close(sv[1]);
        if (pid < 0) {
                r = negative_errno();
                close(sv[0]);
                closep(&b->timer.fd);
                closep(&b->userns);
                free(b);
                return r;
        }
        b->spec = *spec;
        *spec = (struct box_spec){};
        b->pid = pid;
        b->created = time(NULL);
        b->state = BOX_STARTING;
        b->pidfd = (struct watch){ .fd = pidfd, .cb = on_init_exit };
        b->sync = (struct watch){ .fd = sv[0], .cb = on_sync };
        b->next = boxes;
        boxes = b;
        n_boxes++;
        r = 0;
        if (loop_add(&b->pidfd, EPOLLIN) < 0 || loop_add(&b->sync, EPOLLIN) < 0 || loop_add(&b->timer, EPOLLIN) < 0)
                r = -ENOMEM;
        /* The network is built while the init builds the views. */
        if (r >= 0 && (b->spec.namespaces & NS_NET))
                r = box_network(b, err);
        if (r < 0) {
                /* Nothing half built stays: kill the init, undo the rest. */
                pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
                waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){}, WEXITED);
                box_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

static struct box *find_user_box(uid_t uid)
{
        for (struct box *b = boxes; b; b = b->next)
                if (b->spec.uid == uid && b->spec.share == SHARE_USER && b->state != BOX_STOPPING)
                        return b;
        return NULL;
}

void box_open(struct client *c, struct box_spec *spec, struct session_info *si)
{
        struct box *b = NULL;
        struct session *s;
        int r;

        if (spec->share == SHARE_USER)
                b = find_user_box(spec->uid);
        if (!b) {
                struct step_error err = {};

                r = box_create(spec, &b, &err);
                if (r < 0) {
                        client_fail(c, -r, err.step ? err.step : "create", err.object[0] ? err.object : "box");
                        goto out;
                }
        }
        s = calloc(1, sizeof(*s));
        if (!s || getrandom(c->cookie, sizeof(c->cookie), 0) != sizeof(c->cookie)) {
                free(s);
                client_fail(c, ENOMEM, "session", b->id);
                box_unclaimed(b);
                goto out;
        }
        memcpy(s->cookie, c->cookie, sizeof(s->cookie));
        s->box = b;
        s->opener_pid = c->pid;
        s->si = *si;
        *si = (struct session_info){};
        /* The session is held by the login process, not by the connection. */
        s->opener = (struct watch){ .fd = TAKE_FD(c->pidfd), .cb = on_opener_exit };
        if (loop_add(&s->opener, EPOLLIN) < 0) {
                session_free(s);
                client_fail(c, ENOMEM, "session", b->id);
                box_unclaimed(b);
                goto out;
        }
        s->next = b->sessions;
        b->sessions = s;
        b->n_sessions++;
        arm_timer(b, 0);        /* a lingering box is claimed again */
        if (b->state == BOX_RUNNING)
                reply_box(b, c);
        else {
                c->next_waiter = b->waiters;
                b->waiters = c;
        }
out:
        box_spec_done(spec);
        session_info_done(si);
}

void box_close_session(struct client *c, const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        struct msg *m = malloc(sizeof(*m));

        for (struct box *b = boxes; b; b = b->next)
                for (struct session *s = b->sessions; s; s = s->next)
                        if (memcmp(s->cookie, cookie, NSBOX_COOKIE_LEN) == 0) {
                                session_release(s);
                                goto found;
                        }
        free(m);
        return client_fail(c, ENOENT, "close", "session");
found:
        if (!m)
                return client_fail(c, ENOMEM, "close", "reply");
        msg_init(m, MSG_OK);
        client_reply(c, m, -1);
        free(m);
}

void box_list(struct client *c)
{
        struct msg *m = malloc(sizeof(*m));

        if (!m)
                return client_fail(c, ENOMEM, "list", "reply");
        msg_init(m, MSG_LIST_REPLY);
        for (struct box *b = boxes; b; b = b->next) {
                struct box_info bi = { .uid = b->spec.uid, .pid = (uint32_t)b->pid, .sessions = b->n_sessions,
                                       .namespaces = b->spec.namespaces, .share = b->spec.share,
                                       .created = (uint64_t)b->created };

                if (b->state != BOX_RUNNING)
                        continue;
                memcpy(bi.id, b->id, sizeof(bi.id));
                snprintf(bi.user, sizeof(bi.user), "%s", b->spec.user);
                if (b->net.has4)
                        addr_format(&b->net.box4, bi.addresses[0], sizeof(bi.addresses[0]));
                if (b->net.has6)
                        addr_format(&b->net.box6, bi.addresses[1], sizeof(bi.addresses[1]));
                if (proto_put_boxinfo(m, &bi) < 0)
                        break;
        }
        client_reply(c, m, -1);
        free(m);
}

/* `nsbox root`: the caller must be the box's own user, calling from inside
 * the box (its mount namespace), and the policy must allow it. */
void box_root(struct client *c, uid_t uid)
{
        struct msg *m = NULL;
        struct stat st;
        char path[64];
        struct box *b;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)c->pid);
        if (stat(path, &st) < 0 || pidfd_send_signal(c->pidfd, 0, NULL, 0) < 0)
                return client_fail(c, ESRCH, "root", "caller");
        for (b = boxes; b; b = b->next)
                if (b->state == BOX_RUNNING && b->mntns_ino == st.st_ino && b->mntns_dev == st.st_dev)
                        break;
        if (!b)
                return client_fail(c, ENOENT, "root", "you are not in a box");
        if (b->spec.uid != uid)
                return client_fail(c, EPERM, "root", "this box is not yours");
        if (b->userns < 0)
                return client_fail(c, EOPNOTSUPP, "root", "this box has no user namespace");
        if (!b->spec.user_root)
                return client_fail(c, EPERM, "root", "user_root is not enabled for you");
        m = malloc(sizeof(*m));
        if (!m)
                return client_fail(c, ENOMEM, "root", "reply");
        syslog(LOG_INFO, "box %s: nsbox root for %s (uid %u), pid %d", b->id, b->spec.user, (unsigned)uid, (int)c->pid);
        msg_init(m, MSG_USERNS);
        client_reply(c, m, b->userns);
        free(m);
}

void box_stop_all(void)
{
        for (struct box *b = boxes; b; b = b->next)
                box_stop(b);
}
