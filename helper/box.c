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
#include <poll.h>
#include <search.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/param.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "adopt.h"
#include "cpus.h"
#include "daemon.h"
#include "spawn.h"
#include "net.h"
#include "prepared.h"
#include "subid.h"
#include "subtree.h"
#include "tty.h"
#include "usage.h"
#include "util.h"

#define KILL_AFTER_SEC 3
/* How long a box may take from its clone to its init's "ready": under the
 * module's reply timeout, so that the login hears why.  A box that is not
 * ready by then (its init stopped by its user, or stuck on a hung mount
 * source) is killed, and holds nothing after. */
#define START_TIMEOUT_SEC 20
/* What one user may hold in the helper at once.  A login past a bound is
 * refused, that user's alone; past the boxes starting, it waits its turn
 * (below). */
#define MAX_STARTING_PER_USER 8
#define MAX_BOXES_PER_USER 64
#define MAX_SESSIONS_PER_USER 512
/* Logins past MAX_STARTING_PER_USER wait their turn, up to this many a
 * user, each for as long as the module waits for its answer.  A burst of
 * one user's logins is served in order; one who keeps boxes from becoming
 * ready only delays their own. */
#define MAX_WAITING_PER_USER 64
#define WAIT_TURN_SEC 25
/* How long an exited init's PID is kept from reuse while systemd has yet to
 * finish the start job of its scope (units.c). */
#define UNIT_WAIT_SEC 10

struct session {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct box *box;
        struct watch opener;    /* pidfd of the login process */
        pid_t opener_pid;
        bool limit_pending;     /* to be moved into the box's scope once it exists */
        bool in_scope;          /* started in the box's scope with its init */
        struct unit_call limits;        /* systemd puts it under the box's limits */
        bool limits_failed;     /* and said no: the login is denied */
        char cgroup[256];       /* the login's cgroup v2 path at its open, one of
                                 * its user's own; "" if none */
        struct watch oom;       /* that cgroup's memory.events */
        uint64_t oom_kills;     /* its oom_kill count, as last told */
        unsigned long long oom_told;    /* when, in µs */
        struct session_info si;
        time_t created;
        bool logged;            /* its join was recorded */
        uint32_t seq;           /* its box's count of sessions when it came: newest first in the list */
        struct session *next;
};

/* Who a record speaks of: the login behind an event. */
struct who {
        char service[64];
        char tty[64];
        char rhost[256];
        pid_t pid;
};

#define MAX_TIMINGS 32

struct ns_key {
        dev_t dev;
        ino_t ino;
};

struct box {
        char id[NSBOX_ID_LEN + 1];
        uint8_t token[NSBOX_TOKEN_LEN]; /* its secret, shared with its init and its state file */
        bool adopted;           /* from a helper before us: its init is no child of ours */
        struct box_spec spec;
        enum box_state state;
        pid_t pid;
        time_t created;
        struct watch pidfd;
        struct watch sync;
        struct watch timer;
        struct session *sessions;
        unsigned n_sessions;
        uint32_t session_seq;   /* the last session's seq */
        struct open_request *waiters;
        struct error_reply failure;
        int userns;             /* the box's user namespace, or -1 */
        struct ns_key mntns;    /* the box's mount namespace, to know which box a
                                 * `nsbox root` caller or a login is in */
        struct box_net net;     /* leases, host end, nftables elements */
        struct who who;         /* the login that started it, then the last to leave */
        const char *end_reason;
        struct step_time times[MAX_TIMINGS];    /* the helper's own setup steps */
        size_t n_times;
        struct unit_job unit;   /* its scope, on hosts that run systemd */
        struct watch oom;       /* memory.events of that scope */
        uint64_t oom_kills;
        unsigned long long oom_told;
        struct subtree_box cg;  /* or its cgroup, on hosts that run no systemd */
        bool exit_deferred;     /* the init exited while that job ran: not reaped yet */
        struct box *next, **pprev;      /* in boxes; pprev NULL when not */
        struct box *user_next;          /* among its user's (struct user_boxes) */
        size_t lease_slot;              /* its addresses in leases[], if it has a lease */
        bool prepared;          /* made ahead of its login (prepared.c): its init, and a veth box's network */
        bool kind_counted;      /* counted among the boxes of its kind (prepared.c) */
        bool start_unlogged;    /* running, its start not yet recorded (log_start) */
};

static struct box *boxes;
static unsigned n_boxes;
static unsigned n_busy;         /* of them, starting or stopping */
static void (*drain_requests)(void);

/* ---- the list, and what finds a box in it --------------------------------
 * Every box is in the list; trees find one by id or by mount namespace, and
 * a user's boxes, and a session by its cookie, in O(log n): each walk of the
 * list cost a login 0.3 ms with 2,000 boxes.  The id is a box's first
 * member and the cookie a session's: those trees hold boxes and sessions and
 * are searched with ids and cookies. */
static void *tree_id, *tree_mntns, *tree_uid, *tree_cookie;

/* The addresses that name the live leases, two slots a box (unused: family
 * 0), side by side: what a new lease reads, without visiting every box. */
static struct addr (*leases)[2];
static struct box **lease_owner;
static size_t n_leases, leases_room;

struct user_boxes {
        uid_t uid;              /* first: the tree compares it */
        struct box *first;
};

_Static_assert(offsetof(struct box, id) == 0, "a box is found by its id, its first member");
_Static_assert(offsetof(struct session, cookie) == 0, "a session is found by its cookie, its first member");

static int cmp_cookie(const void *a, const void *b)
{
        return memcmp(a, b, NSBOX_COOKIE_LEN);
}

static int cmp_id(const void *a, const void *b)
{
        return strcmp(a, b);
}

static int cmp_ns(const void *a, const void *b)
{
        const struct ns_key *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return (x->ino > y->ino) - (x->ino < y->ino);
}

static int cmp_uid(const void *a, const void *b)
{
        uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;

        return (x > y) - (x < y);
}

static struct box *find_box(const char *id)
{
        void **node = tfind(id, &tree_id, cmp_id);

        return node ? *node : NULL;
}

static struct box *user_boxes_of(uid_t uid)
{
        void **node = tfind(&uid, &tree_uid, cmp_uid);

        return node ? ((struct user_boxes *)*node)->first : NULL;
}

/* The tree by mount namespace holds &b->mntns.  An ended box's namespace
 * number may come back for a new one before the old box is freed: the new
 * box takes the entry over, and the old one leaves it alone. */
static void box_drop_mntns(struct box *b)
{
        void **node = b->mntns.ino ? tfind(&b->mntns, &tree_mntns, cmp_ns) : NULL;

        if (node && *node == &b->mntns)
                tdelete(&b->mntns, &tree_mntns, cmp_ns);
        b->mntns = (struct ns_key){};
}

/* The box's mount namespace, from its init's. */
static void box_take_mntns(struct box *b)
{
        char path[64];
        struct stat st;
        void **node;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)b->pid);
        if (stat(path, &st) < 0)
                return;
        box_drop_mntns(b);
        b->mntns = (struct ns_key){ .dev = st.st_dev, .ino = st.st_ino };
        node = tsearch(&b->mntns, &tree_mntns, cmp_ns);
        if (!node)
                b->mntns = (struct ns_key){};
        else
                *node = &b->mntns;
}

static struct box *box_of_mntns(dev_t dev, ino_t ino)
{
        void **node = tfind(&(struct ns_key){ .dev = dev, .ino = ino }, &tree_mntns, cmp_ns);

        return node ? container_of(*node, struct box, mntns) : NULL;
}

static int lease_add(struct box *b)
{
        struct addr a[2] = {};

        if (net_lease_addresses(&b->net, a) == 0)
                return 0;
        if (n_leases == leases_room) {
                size_t room = leases_room ? 2 * leases_room : 64;
                struct addr(*l)[2] = reallocarray(leases, room, sizeof(*leases));
                struct box **o = l ? reallocarray(lease_owner, room, sizeof(*lease_owner)) : NULL;

                if (l)
                        leases = l;
                if (!o)
                        return -ENOMEM;
                lease_owner = o;
                leases_room = room;
        }
        memcpy(leases[n_leases], a, sizeof(a));
        lease_owner[n_leases] = b;
        b->lease_slot = n_leases++;
        return 0;
}

static void lease_remove(struct box *b)
{
        size_t i = b->lease_slot;

        if (i >= n_leases || lease_owner[i] != b)
                return;
        n_leases--;
        memcpy(leases[i], leases[n_leases], sizeof(leases[i]));
        lease_owner[i] = lease_owner[n_leases];
        lease_owner[i]->lease_slot = i;
}

/* Into the list and the trees, or into none of them. */
static int box_link(struct box *b)
{
        struct user_boxes *u = calloc(1, sizeof(*u)), **node;
        struct box **named;

        if (!u)
                return -ENOMEM;
        u->uid = b->spec.uid;
        node = tsearch(u, &tree_uid, cmp_uid);
        if (!node || *node != u)
                free(u);
        if (!node)
                return -ENOMEM;
        u = *node;
        b->lease_slot = SIZE_MAX;
        named = tsearch(b, &tree_id, cmp_id);
        if (named && *named == b && lease_add(b) < 0) {
                tdelete(b, &tree_id, cmp_id);
                named = NULL;
        }
        if (!named || *named != b) {
                if (!u->first) {
                        tdelete(u, &tree_uid, cmp_uid);
                        free(u);
                }
                return named ? -EEXIST : -ENOMEM;
        }
        b->user_next = u->first;
        u->first = b;
        b->next = boxes;
        if (boxes)
                boxes->pprev = &b->next;
        b->pprev = &boxes;
        boxes = b;
        n_boxes++;
        n_busy += b->state != BOX_RUNNING;
        return 0;
}

/* Every change of a box's state goes through here: the count of busy
 * ones is read at each turn of the loop. */
static void box_set_state(struct box *b, enum box_state state)
{
        if (b->pprev)
                n_busy += (state != BOX_RUNNING) - (b->state != BOX_RUNNING);
        b->state = state;
}

static void box_unlink(struct box *b)
{
        void **node;

        if (!b->pprev)
                return;
        *b->pprev = b->next;
        if (b->next)
                b->next->pprev = b->pprev;
        b->pprev = NULL;
        n_boxes--;
        n_busy -= b->state != BOX_RUNNING;
        tdelete(b, &tree_id, cmp_id);
        lease_remove(b);
        box_drop_mntns(b);
        node = tfind(&b->spec.uid, &tree_uid, cmp_uid);
        if (node) {
                struct user_boxes *u = *node;

                for (struct box **p = &u->first; *p; p = &(*p)->user_next)
                        if (*p == b) {
                                *p = b->user_next;
                                break;
                        }
                if (!u->first) {
                        tdelete(u, &tree_uid, cmp_uid);
                        free(u);
                }
        }
}

/* For what the helper tells the inits: one message at a time. */
static struct msg *scratch(void)
{
        static struct msg *m;

        if (!m)
                m = malloc(sizeof(*m));
        return m;
}

/* What the next helper needs of the box, to its init. */
static void record_of(const struct box *b, struct box_record *r);
static void send_record(const struct box *b)
{
        struct box_record *r = calloc(1, sizeof(*r));
        struct msg *m = scratch();

        if (r && m && b->sync.fd >= 0) {
                record_of(b, r);
                msg_init(m, MSG_RECORD);
                if (proto_put_record(m, b->id, b->token, r, sizeof(*r)) == 0)
                        (void)msg_send(b->sync.fd, m, -1);
        }
        free(r);
}

/* A session's claim, or its end, to the box's init. */
static void send_claim(const struct box *b, const uint8_t cookie[NSBOX_COOKIE_LEN], const struct session_entry *se,
                       int pidfd)
{
        struct msg *m = scratch();

        if (!m || b->sync.fd < 0)
                return;
        msg_init(m, se ? MSG_CLAIM : MSG_RELEASE);
        if ((se ? proto_put_claim(m, cookie, se) : proto_put_cookie(m, cookie)) == 0)
                (void)msg_send(b->sync.fd, m, pidfd);
}

void box_set_drain(void (*drain)(void))
{
        drain_requests = drain;
}

unsigned box_count(void)
{
        /* An ended box whose veth pair the kernel has yet to remove still
         * holds its lease: the helper stays until it is gone. */
        return n_boxes + net_drain_count();
}

bool box_owns_mntns(dev_t dev, ino_t ino)
{
        return box_of_mntns(dev, ino) != NULL;
}

uid_t box_id_owner(uid_t id, char *name, size_t size)
{
        name[0] = '\0';
        for (struct box *b = boxes; b; b = b->next)
                if (b->spec.subuid_count && id >= b->spec.subuid_start && id - b->spec.subuid_start < b->spec.subuid_count)
                        return b->spec.uid;
        if (subid_owner(SUBUID_FILE, id, name, size) <= 0) {
                name[0] = '\0';
                return id;
        }
        /* A range the file gives by uid, or by name: the user's uid when
         * one of their boxes tells it, else the name stands for them. */
        unsigned long v;

        if (parse_uint(name, UINT32_MAX - 1, &v) == 0) {
                name[0] = '\0';
                return (uid_t)v;
        }
        for (struct box *b = boxes; b; b = b->next)
                if (strcmp(b->spec.user, name) == 0) {
                        name[0] = '\0';
                        return b->spec.uid;
                }
        return (uid_t)-1;
}

static void unwatch(struct watch *w)
{
        loop_del(w);
        closep(&w->fd);
}

/* Fills *w, which may be uninitialized. */
static void who_from(struct who *w, const struct session *s)
{
        /* cppcheck-suppress ctuuninitvar */
        snprintf(w->service, sizeof(w->service), "%s", s->si.service ? s->si.service : "");
        snprintf(w->tty, sizeof(w->tty), "%s", s->si.tty ? s->si.tty : "");
        snprintf(w->rhost, sizeof(w->rhost), "%s", s->si.rhost ? s->si.rhost : "");
        w->pid = s->opener_pid;
}

/* One line per event, every line with the same identifying fields. */
static void audit(int prio, const char *event, const struct box *b, const struct who *w, const char *fmt, ...)
        _printf_(5, 6);
static void audit(int prio, const char *event, const struct box *b, const struct who *w, const char *fmt, ...)
{
        char svc[64], tty[64], rhost[256], extra[512] = "";
        va_list ap;

        if (fmt) {
                va_start(ap, fmt);
                vsnprintf(extra, sizeof(extra), fmt, ap);
                va_end(ap);
        }
        syslog(prio, "event=%s box=%s user=%s uid=%u service=%s tty=%s rhost=%s pid=%d%s%s", event, b->id,
               b->spec.user, (unsigned)b->spec.uid, log_value(w->service, svc, sizeof(svc)), log_value(w->tty, tty, sizeof(tty)),
               log_value(w->rhost, rhost, sizeof(rhost)), (int)w->pid, extra[0] ? " " : "", extra);
}

static void time_step_usec(struct box *b, const char *step, unsigned long long usec)
{
        if (b->n_times < MAX_TIMINGS) {
                struct step_time *t = &b->times[b->n_times++];
                snprintf(t->step, sizeof(t->step), "%s", step);
                snprintf(t->object, sizeof(t->object), "helper");
                t->usec = usec;
        }
}

static void time_step(struct box *b, const char *step, unsigned long long since)
{
        time_step_usec(b, step, now_usec() - since);
}

static int log_timing(const struct step_time *st, void *userdata)
{
        const struct box *b = userdata;

        syslog(LOG_DEBUG, "event=step box=%s user=%s step=%s object=%s usec=%llu", b->id, b->spec.user, st->step,
               st->object, (unsigned long long)st->usec);
        return 0;
}

static void starting_over(void);

static void arm_timer(struct box *b, unsigned sec)
{
        struct itimerspec its = { .it_value = { .tv_sec = sec } };

        timerfd_settime(b->timer.fd, 0, &its, NULL);
}

/* Why a box ended before it was ready, as the logins waiting on it are
 * told (step init): the first reason stands. */
static void fail_start(struct box *b, int error, const char *fmt, ...) _printf_(3, 4);
static void fail_start(struct box *b, int error, const char *fmt, ...)
{
        va_list ap;

        if (b->failure.error)
                return;
        b->failure = (struct error_reply){ .error = error };
        snprintf(b->failure.step, sizeof(b->failure.step), "init");
        va_start(ap, fmt);
        vsnprintf(b->failure.object, sizeof(b->failure.object), fmt, ap);
        va_end(ap);
}

static void box_stop(struct box *b, const char *reason)
{
        if (b->state == BOX_STOPPING)
                return;
        if (b->state == BOX_STARTING) {
                fail_start(b, ECANCELED, "box %s was stopped (%s) before it was ready", b->id, reason);
                starting_over();
        }
        b->end_reason = reason;
        box_set_state(b, BOX_STOPPING);
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
                box_stop(b, "last-session");
        else
                arm_timer(b, b->spec.linger);
}

static void session_free(struct session *s)
{
        void **node = tfind(s, &tree_cookie, cmp_cookie);

        if (node && *node == s)
                tdelete(s, &tree_cookie, cmp_cookie);
        units_call_cancel(&s->limits);
        unwatch(&s->opener);
        unwatch(&s->oom);
        session_info_done(&s->si);
        free(s);
}

static void session_release(struct session *s, const char *reason)
{
        struct box *b = s->box;

        who_from(&b->who, s);
        if (s->logged)
                audit(LOG_INFO, "leave", b, &b->who, "reason=%s", reason);

        for (struct session **p = &b->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        b->n_sessions--;
        send_claim(b, s->cookie, NULL, -1);
        session_free(s);
        box_unclaimed(b);
}

/* A new session of b, newest first, numbered after the last. */
static int session_link(struct box *b, struct session *s)
{
        void **node = tsearch(s, &tree_cookie, cmp_cookie);

        if (!node || *node != s)
                return node ? -EEXIST : -ENOMEM;
        s->seq = ++b->session_seq;
        s->next = b->sessions;
        b->sessions = s;
        b->n_sessions++;
        return 0;
}

/* A session as the wire has it. */
static void entry_of(const struct session *s, struct session_entry *se)
{
        *se = (struct session_entry){ .pid = (uint32_t)s->opener_pid, .created = (uint64_t)s->created,
                                      .flags = s->si.user_manager ? SF_USER_MANAGER : 0 };
        snprintf(se->service, sizeof(se->service), "%s", s->si.service ?: "");
        snprintf(se->tty, sizeof(se->tty), "%s", s->si.tty ?: "");
        snprintf(se->rhost, sizeof(se->rhost), "%s", s->si.rhost ?: "");
}

static struct session *find_session(const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        void **node = tfind(cookie, &tree_cookie, cmp_cookie);

        return node ? *node : NULL;
}

static struct session *session_of(const struct box *b, const uint8_t cookie[NSBOX_COOKIE_LEN])
{
        struct session *s = find_session(cookie);

        return s && s->box == b ? s : NULL;
}

static void on_opener_exit(struct watch *w, uint32_t events)
{
        struct session *s = container_of(w, struct session, opener);
        uint8_t cookie[NSBOX_COOKIE_LEN];

        (void)events;
        /* A login that closed its session sent CLOSE just before exiting;
         * it may still wait to be accepted.  Take it first, so that the
         * record says "close", and only what is left ended by exit. */
        memcpy(cookie, s->cookie, sizeof(cookie));
        if (drain_requests)
                drain_requests();
        s = find_session(cookie);
        if (s)
                session_release(s, "login-exit");
}

static void open_fail(struct open_request *o, int error, const char *step, const char *object)
{
        o->done(o, &(struct open_answer){ .error = error, .step = step, .object = object });
}

/* A box's start record, once: after the answer to the login it was made
 * for, before that login's join. */
static void log_start(struct box *b)
{
        char ns[64], a4[64] = "", a6[64] = "";
        _cleanup_free_ char *nss = NULL;

        if (!b->start_unlogged)
                return;
        b->start_unlogged = false;
        if (b->net.has4)
                addr_format(&b->net.box4, a4, sizeof(a4));
        if (b->net.has6)
                addr_format(&b->net.box6, a6, sizeof(a6));
        if (namespaces_format(b->spec.namespaces, &nss) == 0)
                for (char *p = nss; *p; p++)
                        if (*p == ' ')
                                *p = ',';
        audit(LOG_INFO, "start", b, &b->who, "init=%d namespaces=%s share=%s addresses=%s%s%s", (int)b->pid,
              log_value(nss, ns, sizeof(ns)), share_to_string(b->spec.share), a4[0] ? a4 : "-", a6[0] ? "," : "", a6);
}

static void reply_box(struct box *b, struct open_request *o)
{
        struct session *s = session_of(b, o->cookie);
        struct box_reply br = { .namespaces = b->spec.namespaces, .share = b->spec.share };
        struct who w = {};

        memcpy(br.id, b->id, sizeof(br.id));
        memcpy(br.cookie, o->cookie, sizeof(br.cookie));
        /* Its limits may have claimed a unit of the user's since. */
        if (b->unit.claimed[0])
                send_record(b);
        o->done(o, &(struct open_answer){ .box = &br, .pidfd = b->pidfd.fd });
        /* The records after the answer: the login waits on nothing but
         * it (a record wakes the system's logger). */
        log_start(b);
        if (s) {
                who_from(&w, s);
                s->logged = true;
                audit(LOG_INFO, "join", b, &w, "sessions=%u share=%s", b->n_sessions, share_to_string(b->spec.share));
        }
}

static void box_free(struct box *b)
{
        box_unlink(b);
        starting_over();
        while (b->waiters) {
                struct open_request *o = b->waiters;

                b->waiters = o->next;
                open_fail(o, b->failure.error ?: ECHILD, b->failure.step[0] ? b->failure.step : "init",
                          b->failure.object[0] ? b->failure.object : b->id);
        }
        while (b->sessions) {
                struct session *s = b->sessions;
                struct who w;

                b->sessions = s->next;
                who_from(&w, s);
                if (s->logged)
                        audit(LOG_INFO, "leave", b, &w, "reason=box-ended");
                session_free(s);
        }
        net_teardown(&b->net);
        if (b->kind_counted)
                prepared_box_ended(&b->spec);
        units_forget(&b->unit);
        unwatch(&b->pidfd);
        unwatch(&b->sync);
        unwatch(&b->timer);
        unwatch(&b->oom);
        subtree_box_remove(&b->cg);
        closep(&b->userns);
        state_remove(b->id);
        box_spec_done(&b->spec);
        free(b);
}

static void on_sync(struct watch *w, uint32_t events);

/* The init has exited: reap it, record the end, free the box. */
static void box_reap(struct box *b)
{
        siginfo_t si = { .si_status = -1 };

        /* An adopted init is no child of ours: its end is all we learn. */
        if (!b->adopted && (waitid(P_PIDFD, (id_t)b->pidfd.fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0))
                return;
        /* Both may be ready at once: read what the init said before it
         * died, or its reason for failing would be lost. */
        while (b->sync.fd >= 0 && b->state == BOX_STARTING && !b->failure.error) {
                int fd = b->sync.fd;
                on_sync(&b->sync, EPOLLIN);
                if (b->sync.fd == fd && !b->failure.error && b->state == BOX_STARTING)
                        break;  /* nothing more to read */
        }
        /* A failed setup is logged once, by the module, which knows the
         * login it denied. */
        if (b->state != BOX_STARTING)
                audit(LOG_INFO, "end", b, &b->who, "reason=%s status=%d",
                      b->end_reason ? b->end_reason : "init-exit", si.si_status);
        else    /* died without saying why: tell the waiting logins how */
                fail_start(b, ECHILD, "box %s init %s %d", b->id,
                           si.si_code == CLD_EXITED ? "exited with status" : "was killed by signal", si.si_status);
        box_free(b);
}

static void on_init_exit(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, pidfd);

        (void)events;
        /* Until systemd is done with the init's PID (its scope's start job),
         * the zombie keeps the number from being given to another process,
         * which systemd would then move. */
        if (b->unit.pending) {
                if (!b->exit_deferred) {
                        loop_del(&b->pidfd);
                        b->exit_deferred = true;
                        arm_timer(b, UNIT_WAIT_SEC);
                }
                return;
        }
        box_reap(b);
}

static struct box_unit box_unit_of(const struct box *b)
{
        return (struct box_unit){ .box_id = b->id, .user = b->spec.user, .uid = b->spec.uid,
                                  .share_user = b->spec.share == SHARE_USER, .limits = &b->spec.limits };
}

/* Is the login under the box's limits, so that it may go on?  Until then
 * its answer waits: its shell must not start outside them. */
static bool session_limited(const struct session *s)
{
        return !s->limit_pending && !s->limits.pending;
}

/* Answers the logins waiting for the box that may go on now: the box is
 * running and their limits are in place, or systemd refused them. */
static void serve_waiters(struct box *b)
{
        struct open_request **p = &b->waiters;

        if (b->state != BOX_RUNNING)
                return;
        while (*p) {
                struct open_request *o = *p;
                struct session *s = session_of(b, o->cookie);

                if (s && !session_limited(s)) {
                        p = &o->next;
                        continue;
                }
                *p = o->next;
                if (s && s->limits_failed) {
                        char what[sizeof(s->limits.failure) + 32];

                        snprintf(what, sizeof(what), "limits of box %s: %s", b->id, s->limits.failure);
                        open_fail(o, EPERM, "limits", what);
                } else {
                        reply_box(b, o);
                }
        }
}

static void on_session_limited(struct unit_call *call)
{
        struct session *s = container_of(call, struct session, limits);

        s->limits_failed = call->failure[0] != '\0';
        serve_waiters(s->box);
}

/* A session of a box with limits: its processes come under them. */
static void limit_session(struct box *b, struct session *s)
{
        struct box_unit u = box_unit_of(b);
        int r;

        if (!limits_any(&b->spec.limits))
                return;
        /* In the scope with the init: its start job is what is waited for. */
        if (s->in_scope) {
                s->limit_pending = !b->unit.started;
                return;
        }
        /* A failure is the login's denial, which the module logs. */
        if (b->cg.dir >= 0) {
                r = subtree_attach(&b->cg, s->opener_pid);
                if (r < 0) {
                        s->limits_failed = true;
                        snprintf(s->limits.failure, sizeof(s->limits.failure), "cgroup %s: %s", b->cg.path,
                                 strerror(-r));
                }
                return;
        }
        s->limits.done = on_session_limited;
        r = units_limit_login(&u, &b->unit, s->opener_pid, &s->limits);
        s->limit_pending = r == -EAGAIN;
        if (r < 0 && r != -EAGAIN) {
                s->limits_failed = true;
                snprintf(s->limits.failure, sizeof(s->limits.failure), "systemd: %s", strerror(-r));
        }
}

/* The box's own scope, as its init's cgroup: not the helper's, where an
 * init stays without systemd.  -ENOENT when it has none. */
static int box_scope_cgroup(const struct box *b, char *buf, size_t size)
{
        static char own[256];   /* the helper's, read once: nothing moves it */

        if (!own[0] && cgroup_of_pid(getpid(), own, sizeof(own)) < 0)
                own[0] = '\0';
        if (!own[0] || cgroup_of_pid(b->pid, buf, size) < 0 || strcmp(own, buf) == 0)
                return -ENOENT;
        return 0;
}

/* Where to tell a login: the terminal PAM named, or for one that named
 * none at its open (sshd allocates the pty after), the controlling terminal
 * of the login process or of its nearest descendant that has one (sshd's
 * shell is its grandchild; su's and login's parent has the terminal
 * itself), else of the oldest process in the login's cgroup. */
static int session_tty(const struct session *s, char *buf, size_t size)
{
        const char *t = tty_name(s->si.tty);
        pid_t pids[64], oldest = 0;
        char name[64];
        int n;

        if (t) {
                snprintf(buf, size, "%s", t);
                return 0;
        }
        if (tty_of_descendants(s->opener_pid, 3, buf, size) == 0)
                return 0;
        n = s->cgroup[0] ? cgroup_pids(s->cgroup, pids, ARRAY_SIZE(pids)) : -ENOENT;
        for (int i = 0; i < n; i++)
                if ((!oldest || pids[i] < oldest) && tty_of_pid(pids[i], name, sizeof(name)) == 0) {
                        oldest = pids[i];
                        snprintf(buf, size, "%s", name);
                }
        return oldest ? 0 : -ENOTTY;
}

/* An OOM killer ended processes of the box: a line on the terminal of each
 * login it hit -- every login's, for the box's own scope (where `nsbox
 * enter` and logins moved in from other sessions run) -- and one record,
 * which says where it was told. */
static void oom_report(struct box *b, struct session *hit, uint64_t killed, const char *cgroup)
{
        char line[256], limit[32] = "none", told[256] = "";
        struct who w;

        if (b->spec.limits.v[L_MEMORY_MAX] != LIMIT_UNSET)
                limit_format(L_MEMORY_MAX, b->spec.limits.v[L_MEMORY_MAX], limit, sizeof(limit));
        if (strcmp(limit, "none") != 0)
                snprintf(line, sizeof(line),
                         "nsbox: out of memory: the OOM killer ended %llu process%s here; box %s allows memory_max = %s",
                         (unsigned long long)killed, killed == 1 ? "" : "es", b->id, limit);
        else
                snprintf(line, sizeof(line), "nsbox: out of memory: the OOM killer ended %llu process%s here (box %s)",
                         (unsigned long long)killed, killed == 1 ? "" : "es", b->id);
        for (struct session *s = b->sessions; s; s = s->next) {
                char tty[64];
                size_t o = strlen(told);

                if ((hit && s != hit) || session_tty(s, tty, sizeof(tty)) < 0 || tty_tell(tty, b->spec.uid, line) < 0)
                        continue;
                snprintf(told + o, sizeof(told) - o, "%s%s", o ? "," : "", tty);
        }
        if (hit)
                who_from(&w, hit);
        else
                w = b->who;
        audit(LOG_WARNING, "oom", b, &w, "cgroup=%s killed=%llu memory_max=%s told=%s", cgroup,
              (unsigned long long)killed, limit, told[0] ? told : "-");
}

/* Starts watching a cgroup's memory.events, from its count now. */
static void watch_oom(struct watch *w, const char *cgroup, uint64_t *kills)
{
        if (!cgroup[0])
                return;
        w->fd = cgroup_events_open(cgroup);
        if (w->fd >= 0 && (cgroup_events_oom_kills(w->fd, kills) < 0 || loop_add(w, EPOLLPRI) < 0))
                closep(&w->fd);
}

/* memory.events changed: the kills since they were last told, or 0.  A
 * user who has processes killed by the hundred is told once a second at
 * most: the kills in between are told with the next.  A cgroup that went
 * (its session's scope stopped) is no longer watched. */
#define OOM_TELL_EVERY_USEC 1000000ULL
static uint64_t oom_kills_new(struct watch *w, uint64_t *kills, unsigned long long *told)
{
        unsigned long long now = now_usec();
        uint64_t n;

        if (cgroup_events_oom_kills(w->fd, &n) < 0) {
                unwatch(w);
                return 0;
        }
        if (n <= *kills || (*told && now - *told < OOM_TELL_EVERY_USEC))
                return 0;
        *told = now;
        n -= *kills;
        *kills += n;
        return n;
}

static void on_session_oom(struct watch *w, uint32_t events)
{
        struct session *s = container_of(w, struct session, oom);
        uint64_t n = oom_kills_new(w, &s->oom_kills, &s->oom_told);

        (void)events;
        if (n)
                oom_report(s->box, s, n, s->cgroup);
}

static void on_box_oom(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, oom);
        char cgroup[256];
        uint64_t n = oom_kills_new(w, &b->oom_kills, &b->oom_told);

        (void)events;
        if (n && box_scope_cgroup(b, cgroup, sizeof(cgroup)) == 0)
                oom_report(b, NULL, n, cgroup);
}

static void on_unit_done(struct unit_job *j)
{
        struct box *b = container_of(j, struct box, unit);

        if (b->exit_deferred) {
                box_reap(b);
                return;
        }
        if (!j->started && limits_any(&b->spec.limits)) {
                /* Its PID 1 would run without them. */
                syslog(LOG_ERR, "event=limits-failed user=%s box=%s: its scope %s did not start; the box is stopped",
                       b->spec.user, b->id, j->name);
                box_stop(b, "limits");
                return;
        }
        for (struct session *s = b->sessions; s; s = s->next)
                if (s->limit_pending)
                        limit_session(b, s);
        serve_waiters(b);
        if (j->started && b->oom.fd < 0) {
                char cgroup[256];

                b->oom.cb = on_box_oom;
                if (box_scope_cgroup(b, cgroup, sizeof(cgroup)) == 0)
                        watch_oom(&b->oom, cgroup, &b->oom_kills);
        }
}

static void on_sync(struct watch *w, uint32_t events)
{
        struct box *b = container_of(w, struct box, sync);
        struct msg *m;
        int r;

        (void)events;
        m = malloc(sizeof(*m));
        r = m ? msg_recv(w->fd, m, NULL) : -ENOMEM;
        if (r == -EAGAIN) {
                free(m);
                return;
        }
        if (r < 0) {
                /* EOF: init is exiting; its pidfd tells the rest. */
                free(m);
                unwatch(w);
                return;
        }
        if (b->state == BOX_STARTING && msg_type(m) == MSG_OK) {
                box_set_state(b, BOX_RUNNING);
                starting_over();
                if (b->spec.debug) {
                        for (size_t i = 0; i < b->n_times; i++)
                                log_timing(&b->times[i], b);
                        (void)proto_parse_timings(m, log_timing, b);
                }
                box_take_mntns(b);
                /* The logins first: their records, and what is only for a
                 * helper after this one, follow in the same turn. */
                b->start_unlogged = true;
                serve_waiters(b);
                log_start(b);
                send_record(b);
                r = state_write(b->id, b->pid, b->token);
                if (r < 0)
                        syslog(LOG_WARNING, "event=state-failed box=%s: %s; a helper after this one will not find it",
                               b->id, strerror(-r));
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
        if (b->exit_deferred) {
                units_forget(&b->unit);
                box_reap(b);
        } else if (b->state == BOX_STOPPING) {
                audit(LOG_WARNING, "kill", b, &b->who, "reason=init-did-not-stop-in-%ds", KILL_AFTER_SEC);
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
        } else if (b->state == BOX_STARTING) {
                /* Stopped as root would stop it, and killed at once.  Its
                 * end is recorded (reason=start-timeout) as it is reaped,
                 * since the logins may have given up already. */
                fail_start(b, ETIMEDOUT, "box %s was not ready within %d s", b->id, START_TIMEOUT_SEC);
                box_stop(b, "start-timeout");
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
        } else if (b->state == BOX_RUNNING && b->n_sessions == 0)
                box_stop(b, "linger");
}

static int new_id(char ret[NSBOX_ID_LEN + 1])
{
        for (int tries = 0; tries < 16; tries++) {
                uint32_t v;
                bool taken = false;

                if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                        return -EIO;
                snprintf(ret, NSBOX_ID_LEN + 1, "%08x", v);
                taken = find_box(ret) != NULL || prepared_has(ret);
                /* The host end of an ended box may still carry the name. */
                char host_if[16];
                snprintf(host_if, sizeof(host_if), "nsb%s", ret);
                if (!taken && !net_draining(host_if))
                        return 0;
        }
        return -EEXIST;
}

static int box_network(struct box *b, struct step_error *err)
{
        _cleanup_close_ int netns = -1;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)b->pid);
        netns = open(path, O_RDONLY | O_CLOEXEC);
        if (netns < 0)
                return step_fail(err, "netns", path, negative_errno());
        return net_setup(&b->spec, b->id, netns, &b->net, err);
}

size_t box_leases(const struct addr **ret)
{
        *ret = (const struct addr *)leases;
        return 2 * n_leases;
}

/* A policy with limits that this host cannot enforce denies the login,
 * naming what is missing: cgroup v2 or a controller.  Where systemd runs,
 * it holds the limits; elsewhere the helper's own subtree does. */
static int limits_possible(const struct box_limits *l, struct step_error *err)
{
        int r;

        if (!limits_any(l))
                return 0;
        char missing[sizeof(err->object)];

        r = limits_host_support(limits_mask(l), missing, sizeof(missing));
        return r < 0 ? step_fail(err, "limits", missing, r) : r;
}

/* On a host that runs no systemd: the box's own cgroup, in the helper's
 * subtree, with its limits, and its init in it. */
static int box_subtree(struct box *b, struct step_error *err)
{
        unsigned n = cpus_whole(&b->spec.limits);
        int r;

        if (n && cpus_take(n, &b->unit.cpus) == 0)
                b->unit.pinned = true;
        r = subtree_box_create(b->id, &b->spec.limits, b->unit.pinned ? &b->unit.cpus : NULL, b->pid, &b->cg, err);
        if (r < 0)
                return r;
        b->oom.cb = on_box_oom;
        watch_oom(&b->oom, b->cg.path, &b->oom_kills);
        return 0;
}

static struct box *box_alloc(void)
{
        struct box *b = calloc(1, sizeof(*b));

        if (b)
                b->pidfd.fd = b->sync.fd = b->timer.fd = b->oom.fd = b->cg.dir = b->userns = -1;
        if (b && getrandom(b->token, sizeof(b->token), 0) != sizeof(b->token)) {
                free(b);
                return NULL;
        }
        return b;
}

/* A box that never made it into the list: what it holds so far. */
static void box_discard(struct box *b)
{
        if (b->pidfd.fd >= 0) {
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
                waitid(P_PIDFD, (id_t)b->pidfd.fd, &(siginfo_t){}, WEXITED);
        }
        closep(&b->pidfd.fd);
        closep(&b->sync.fd);
        closep(&b->timer.fd);
        closep(&b->userns);
        net_teardown(&b->net);
        free(b);
}

/* A box made ahead of its login: its init, and a veth box's id and
 * network. */
static bool box_take_prepared(struct box *b, const struct box_spec *spec)
{
        struct prepared_init in;

        if (!prepared_take(spec, b->id, &b->net, &in))
                return false;
        b->pid = in.pid;
        b->pidfd.fd = in.pidfd;
        b->sync.fd = in.sync;
        return true;
}

/* Its id, its address lease and its user namespace.  The lease comes
 * first: unique because this loop is the only one handing them out. */
static int box_lease(struct box *b, const struct box_spec *spec, struct step_error *err)
{
        unsigned long long t = now_usec();
        int r = limits_possible(&spec->limits, err);

        if (r >= 0)
                b->prepared = box_take_prepared(b, spec);
        if (r >= 0 && !(b->prepared && (spec->namespaces & NS_NET)))
                r = new_id(b->id);
        if (r >= 0 && spec->network == NET_VETH && !b->prepared) {
                r = net_lease(spec, (const struct addr *)leases, 2 * n_leases, &b->net, err);
                /* Networks made ahead hold leases too: they give way. */
                if (r == -ENOSPC && prepared_drop_all())
                        r = net_lease(spec, (const struct addr *)leases, 2 * n_leases, &b->net, err);
        }
        time_step(b, "lease", t);
        if (r >= 0 && (spec->namespaces & NS_USER)) {
                t = now_usec();
                r = userns_create(spec, &b->userns, err);
                time_step(b, "userns", t);
        }
        return r;
}

/* The spec, and to a prepared box its user namespace. */
static int send_spec(int fd, const struct box_spec *spec, int userns)
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        msg_init(m, MSG_SPEC);
        r = proto_put_spec(m, spec);
        return r < 0 ? r : msg_send(fd, m, userns);
}

/* Its init, in the session's namespaces, made here by root in the initial
 * user namespace, so that they are owned by it and not by the box's own
 * user namespace (where the user is root).  nsbox-init then reads the spec
 * from its link, builds the view, and drops privileges. */
static int box_spawn(struct box *b, const struct box_spec *spec, struct step_error *err)
{
        unsigned long long t = now_usec();
        int r;

        b->timer = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), .cb = on_timer };
        if (b->timer.fd < 0)
                return negative_errno();
        b->sync.cb = on_sync;
        if (b->prepared)
                time_step_usec(b, "clone:prepared", 0);
        else {
                b->pid = spawn_init(spec->namespaces, b->userns, -1, false, &b->pidfd.fd, &b->sync.fd);
                r = b->pid < 0 ? negative_errno() : 0;
                time_step(b, "clone", t);
                if (r < 0)
                        return step_failf(err, "clone", r, "init of box %s", b->id);
        }
        /* A prepared box's init was started without its user namespace. */
        r = send_spec(b->sync.fd, spec, b->prepared ? b->userns : -1);
        if (r < 0)
                return step_failf(err, "spec", r, "init of box %s", b->id);
        fcntl(b->sync.fd, F_SETFL, O_NONBLOCK);
        return 0;
}

/* Out of the helper's cgroup into a scope of its own, where systemd runs.
 * Without it a box still works, but not one with limits: that one gets a
 * cgroup of the helper's own. */
static int box_cgroup(struct box *b, pid_t login, struct step_error *err)
{
        struct box_unit u = box_unit_of(b);
        bool limits = limits_any(&b->spec.limits);
        int r;

        if (limits && !units_enabled())
                return box_subtree(b, err);
        b->unit.done = on_unit_done;
        r = units_start_scope(&b->unit, &u, b->pid, limits ? login : 0);
        if (r < 0 && limits)
                return step_failf(err, "limits", r, "scope of box %s in systemd", b->id);
        if (r < 0 && r != -ENOTCONN)
                syslog(LOG_WARNING, "event=unit-failed box=%s: %s; its init stays in the helper's cgroup", b->id,
                       strerror(-r));
        return 0;
}

/* Into the list and the loop, with its network (built while the init
 * builds the views) and its cgroup.  On failure the box is freed, its
 * init killed: nothing half built stays. */
static int box_register(struct box *b, struct box_spec *spec, pid_t login, struct step_error *err)
{
        unsigned long long t;
        int r = 0;

        b->spec = *spec;
        *spec = (struct box_spec){};
        b->created = time(NULL);
        box_set_state(b, BOX_STARTING);
        b->pidfd.cb = on_init_exit;
        if (box_link(b) < 0 || loop_add(&b->pidfd, EPOLLIN) < 0 || loop_add(&b->sync, EPOLLIN) < 0 ||
            loop_add(&b->timer, EPOLLIN) < 0)
                r = -ENOMEM;
        arm_timer(b, START_TIMEOUT_SEC);
        if (r >= 0 && b->prepared && (b->spec.namespaces & NS_NET))
                time_step_usec(b, "network:prepared", 0);
        else if (r >= 0 && (b->spec.namespaces & NS_NET)) {
                t = now_usec();
                r = box_network(b, err);
                time_step(b, "network", t);
                if (b->spec.network == NET_VETH) {
                        time_step_usec(b, "network:links", b->net.usec_links);
                        time_step_usec(b, "network:nft", b->net.usec_nft);
                }
        }
        if (r >= 0)
                r = box_cgroup(b, login, err);
        if (r >= 0)
                b->kind_counted = prepared_box_started(&b->spec);
        if (r < 0) {
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
                waitid(P_PIDFD, (id_t)b->pidfd.fd, &(siginfo_t){}, WEXITED);
                box_free(b);
        }
        return r;
}

static int box_create(struct box_spec *spec, pid_t login, struct box **ret, struct step_error *err)
{
        struct box *b = box_alloc();
        int r;

        if (!b)
                return -ENOMEM;
        r = box_lease(b, spec, err);
        if (r >= 0)
                r = box_spawn(b, spec, err);
        if (r < 0) {
                box_discard(b);
                return r;
        }
        r = box_register(b, spec, login, err);
        if (r >= 0)
                *ret = b;
        return r;
}

/* The user's shared box that this login's own policy would build: a login
 * through a service with a stricter policy never joins a laxer box.  It
 * gets a box of its own instead, said once in the log. */
static struct box *find_user_box(const struct box_spec *spec)
{
        struct box *other = NULL;

        for (struct box *b = user_boxes_of(spec->uid); b; b = b->user_next) {
                if (b->spec.share != SHARE_USER || b->state == BOX_STOPPING)
                        continue;
                if (box_spec_same_policy(&b->spec, spec))
                        return b;
                other = b;
        }
        if (other)
                syslog(LOG_NOTICE,
                       "event=own-box user=%s uid=%u other=%s: this login's policy differs from that of the user's "
                       "shared box, which it does not join",
                       spec->user, (unsigned)spec->uid, other->id);
        return NULL;
}

/* A login waiting for one of its user's boxes to finish starting. */
struct turn {
        struct open_request *open;
        struct box_spec spec;
        struct session_info si;
        unsigned long long deadline;
        struct turn *next;
};
static struct turn *turns, **turns_tail = &turns;

struct user_load {
        unsigned boxes, starting, sessions, waiting;
};

static struct user_load load_of(uid_t uid)
{
        struct user_load l = {};

        for (struct box *b = user_boxes_of(uid); b; b = b->user_next) {
                l.boxes++;
                l.starting += b->state == BOX_STARTING;
                l.sessions += b->n_sessions;
        }
        for (struct turn *t = turns; t; t = t->next)
                l.waiting += t->spec.uid == uid;
        return l;
}

/* Is the user at one of the hard bounds on what the helper holds for them?
 * Then *why says which. */
static bool user_at_bound(uid_t uid, const struct user_load *l, bool new_box, char *why, size_t size)
{
        if (l->sessions >= MAX_SESSIONS_PER_USER)
                snprintf(why, size, "uid %u has %u sessions, the most one user may have", (unsigned)uid, l->sessions);
        else if (new_box && l->boxes >= MAX_BOXES_PER_USER)
                snprintf(why, size, "uid %u has %u boxes, the most one user may have", (unsigned)uid, l->boxes);
        else if (new_box && l->starting >= MAX_STARTING_PER_USER && l->waiting >= MAX_WAITING_PER_USER)
                snprintf(why, size, "uid %u has %u boxes starting and %u logins waiting, the most one user may have",
                         (unsigned)uid, l->starting, l->waiting);
        else
                return false;
        return true;
}

static void turn_free(struct turn *t)
{
        box_spec_done(&t->spec);
        session_info_done(&t->si);
        free(t);
}

/* Has the login behind a waiting request given up?  Its module closed the
 * connection, or the login process is gone. */
static bool turn_abandoned(const struct turn *t)
{
        struct pollfd p = { .fd = t->open->conn, .events = POLLRDHUP };

        return (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) ||
               pidfd_send_signal(t->open->peer.pidfd, 0, NULL, 0) < 0;
}

static bool turns_due;

void box_take_turns(bool refuse)
{
        unsigned long long now = now_usec();

        if (!turns || (!turns_due && !refuse && box_turns_next_ms() != 0))
                return;
        turns_due = false;
        for (struct turn **p = &turns; *p;) {
                struct turn *t = *p;
                struct user_load l = load_of(t->spec.uid);
                bool gone = turn_abandoned(t), late = t->deadline <= now;

                if (!refuse && !gone && !late && l.starting >= MAX_STARTING_PER_USER) {
                        p = &t->next;
                        continue;
                }
                *p = t->next;
                if (!*p)
                        turns_tail = p;
                if (refuse || gone || late) {
                        char why[128];

                        snprintf(why, sizeof(why), "uid %u: %s", (unsigned)t->spec.uid,
                                 refuse ? "the helper is stopping" : "its other boxes were still starting");
                        if (gone)
                                t->open->done(t->open, &(struct open_answer){ .gone = true });
                        else
                                open_fail(t->open, refuse ? ESHUTDOWN : ETIMEDOUT, "limit", why);
                        turn_free(t);
                        continue;
                }
                box_open(t->open, &t->spec, &t->si);
                free(t);
                /* box_open may have changed the list: start over. */
                p = &turns;
        }
}

int box_turns_next_ms(void)
{
        unsigned long long next = 0;

        for (struct turn *t = turns; t; t = t->next)
                if (!next || t->deadline < next)
                        next = t->deadline;
        return next ? ms_until(next) : -1;
}

/* A box of the user's is no longer starting: a waiting login may go. */
static void starting_over(void)
{
        if (turns)
                turns_due = true;
}

/* What a box of one login shows at /sys/fs/cgroup: that login's session
 * scope, which carries its limits, read-only.  A shared box shows the
 * host's tree, and so does a user manager's box: systemd --user writes its
 * own subtree at the host's paths.  Never what the module sent. */
static int set_cgroup_view(struct box_spec *spec, pid_t login)
{
        char path[256];
        const char *unit;

        free(spec->cgroup_view);
        spec->cgroup_view = NULL;
        if (spec->share != SHARE_SESSION || !(spec->namespaces & NS_MOUNT) ||
            cgroup_of_pid(login, path, sizeof(path)) < 0 || !(unit = cgroup_users_unit(path, spec->uid)) ||
            !unit_is_session_scope(unit))
                return 0;
        return xstrdup(&spec->cgroup_view, path);
}

/* The user's other boxes are still starting: the login waits its turn. */
static int wait_turn(struct open_request *o, struct box_spec *spec, struct session_info *si)
{
        struct turn *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        *t = (struct turn){ .open = o, .spec = *spec, .si = *si, .deadline = now_usec() + WAIT_TURN_SEC * 1000000ULL };
        *spec = (struct box_spec){};
        *si = (struct session_info){};
        *turns_tail = t;
        turns_tail = &t->next;
        return 0;
}

/* A new box for the login.  One that is no session of its user's starts
 * in the scope of a new box with limits. */
static int open_new_box(struct open_request *o, struct box_spec *spec, pid_t *ret_moved, struct box **ret)
{
        struct step_error err = {};
        int r;

        *ret_moved = 0;
        if (limits_any(&spec->limits) && units_enabled() && !units_login_is_users(o->peer.pid, spec->uid))
                *ret_moved = o->peer.pid;
        r = set_cgroup_view(spec, o->peer.pid);
        if (r >= 0)
                r = box_create(spec, *ret_moved, ret, &err);
        if (r < 0)
                open_fail(o, -r, err.step ?: "create", err.object[0] ? err.object : "box");
        return r;
}

/* The login's claim on the box, held by its process, not by the
 * connection: its pidfd is the session's from here on. */
static struct session *session_new(struct box *b, struct open_request *o, struct session_info *si, pid_t moved)
{
        struct session *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        if (getrandom(o->cookie, sizeof(o->cookie), 0) != sizeof(o->cookie)) {
                free(s);
                return NULL;
        }
        memcpy(s->cookie, o->cookie, sizeof(s->cookie));
        s->box = b;
        s->opener_pid = o->peer.pid;
        s->in_scope = moved && b->unit.pending;
        s->oom = (struct watch){ .fd = -1, .cb = on_session_oom };
        /* A login from someone else's session (su, runuser) is not counted
         * there: it is moved into the box's scope when the box has limits. */
        if (cgroup_of_pid(o->peer.pid, s->cgroup, sizeof(s->cgroup)) < 0 || !cgroup_is_users(s->cgroup, b->spec.uid))
                s->cgroup[0] = '\0';
        s->created = time(NULL);
        s->si = *si;
        *si = (struct session_info){};
        s->opener = (struct watch){ .fd = TAKE_FD(o->peer.pidfd), .cb = on_opener_exit };
        if (loop_add(&s->opener, EPOLLIN) < 0) {
                session_free(s);
                return NULL;
        }
        /* The init holds the claim too: should we die, the box still ends
         * with its last login. */
        struct session_entry se;

        entry_of(s, &se);
        send_claim(b, s->cookie, &se, s->opener.fd);
        return s;
}

void box_open(struct open_request *o, struct box_spec *spec, struct session_info *si)
{
        struct box *b = spec->share == SHARE_USER ? find_user_box(spec) : NULL;
        struct user_load l = load_of(spec->uid);
        struct session *s;
        pid_t moved = 0;
        char why[128];

        if (user_at_bound(spec->uid, &l, !b, why, sizeof(why)))
                open_fail(o, EAGAIN, "limit", why);
        else if (!b && l.starting >= MAX_STARTING_PER_USER) {
                if (wait_turn(o, spec, si) < 0)
                        open_fail(o, ENOMEM, "limit", "wait");
        } else if (b || open_new_box(o, spec, &moved, &b) == 0) {
                s = session_new(b, o, si, moved);
                if (s && b->state == BOX_STARTING && b->n_sessions == 0)
                        who_from(&b->who, s);
                if (s && session_link(b, s) < 0) {
                        session_free(s);
                        s = NULL;
                }
                if (!s) {
                        open_fail(o, ENOMEM, "session", b->id);
                        box_unclaimed(b);
                        goto out;
                }
                limit_session(b, s);
                watch_oom(&s->oom, s->cgroup, &s->oom_kills);
                if (b->state == BOX_RUNNING)
                        arm_timer(b, 0);        /* a lingering box is claimed again */
                o->next = b->waiters;
                b->waiters = o;
                serve_waiters(b);
        }
out:
        box_spec_done(spec);
        session_info_done(si);
}

int box_close_session(const uint8_t cookie[NSBOX_COOKIE_LEN], struct answer *a)
{
        struct session *s = find_session(cookie);

        if (!s)
                return answer_fail(a, ENOENT, "close", "session");
        session_release(s, "close");
        return answer_empty(a, MSG_OK, -1);
}

/* Adds a cgroup to the set that holds a box, unless the set has it or one
 * above it already; a cgroup above some of the set's replaces them. */
static void cgroup_set_add(char (*set)[256], size_t *n, size_t max, const char *path)
{
        size_t k = 0;

        if (!path[0] || strcmp(path, "/") == 0)
                return;
        for (size_t i = 0; i < *n; i++)
                if (cgroup_within(path, set[i]))
                        return;
        for (size_t i = 0; i < *n; i++)
                if (!cgroup_within(set[i], path))
                        memmove(set[k++], set[i], sizeof(set[i]));
        *n = k;
        if (*n < max)
                snprintf(set[(*n)++], sizeof(set[0]), "%s", path);
}

/* What the box uses, from the cgroups its processes are in: its init's
 * (its scope; not the helper's own, where an init stays without systemd)
 * and each login's.  A shared box with limits counts its user's slice,
 * which holds them all and carries the limits. */
static void box_usage_of(const struct box *b, struct box_usage *u)
{
        static char set[MAX_SESSIONS_PER_USER + 2][256];
        char init[256], slice[64];
        size_t n = 0;

        usage_init(u);
        if (box_scope_cgroup(b, init, sizeof(init)) == 0) {
                user_slice_path(b->spec.uid, slice, sizeof(slice));
                if (b->spec.share == SHARE_USER && limits_any(&b->spec.limits) && cgroup_within(init, slice))
                        cgroup_set_add(set, &n, ARRAY_SIZE(set), slice);
                cgroup_set_add(set, &n, ARRAY_SIZE(set), init);
        }
        for (const struct session *s = b->sessions; s; s = s->next)
                cgroup_set_add(set, &n, ARRAY_SIZE(set), s->cgroup);
        for (size_t i = 0; i < n; i++)
                cgroup_usage_add(set[i], u);
}

static void fill_info(const struct box *b, struct box_info *bi)
{
        *bi = (struct box_info){ .uid = b->spec.uid, .pid = (uint32_t)b->pid, .sessions = b->n_sessions,
                                 .namespaces = b->spec.namespaces, .share = b->spec.share,
                                 .created = (uint64_t)b->created, .state = b->state };
        memcpy(bi->id, b->id, sizeof(bi->id));
        snprintf(bi->user, sizeof(bi->user), "%s", b->spec.user);
        if (b->net.has4)
                addr_format(&b->net.box4, bi->addresses[0], sizeof(bi->addresses[0]));
        if (b->net.has6)
                addr_format(&b->net.box6, bi->addresses[1], sizeof(bi->addresses[1]));
        box_usage_of(b, &bi->usage);
        bi->limits = b->spec.limits;
}

static int by_id(const void *a, const void *b)
{
        return strcmp((*(struct box *const *)a)->id, (*(struct box *const *)b)->id);
}

/* A part of the list ends with room to spare for its last attribute: a box
 * takes far less than this. */
#define LIST_PART_ROOM 4096

int box_list(const char *after, struct answer *a)
{
        _cleanup_free_ struct box **v = calloc(n_boxes + 1, sizeof(*v));
        size_t n = 0;
        bool more = false;

        if (!v)
                return answer_fail(a, ENOMEM, "list", "boxes");
        /* A box is listed in every state: a starting or stopping one holds
         * processes and resources too, until its init is gone. */
        for (struct box *b = boxes; b; b = b->next)
                if (strcmp(b->id, after) > 0)
                        v[n++] = b;
        qsort(v, n, sizeof(*v), by_id);
        msg_init(a->m, MSG_LIST_REPLY);
        for (size_t i = 0; i < n && !more; i++) {
                struct box_info bi;

                more = msg_len(a->m) > NSBOX_MSG_MAX - LIST_PART_ROOM;
                if (!more) {
                        fill_info(v[i], &bi);
                        more = proto_put_boxinfo(a->m, &bi) < 0;
                }
        }
        if (more && proto_put_flags(a->m, F_MORE) < 0)
                return answer_fail(a, E2BIG, "list", "part");
        return 0;
}

/* `nsbox root`: the caller must be the box's own user, calling from inside
 * the box (its mount namespace), and the policy must allow it. */
int box_root(const struct peer *p, struct answer *a)
{
        struct who w = { .pid = p->pid, .service = "nsbox-root" };
        struct stat st;
        char path[64];
        struct box *b;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)p->pid);
        if (stat(path, &st) < 0 || pidfd_send_signal(p->pidfd, 0, NULL, 0) < 0)
                return answer_fail(a, ESRCH, "root", "caller");
        b = box_of_mntns(st.st_dev, st.st_ino);
        if (!b || b->state != BOX_RUNNING)
                return answer_fail(a, ENOENT, "root", "you are not in a box");
        if (b->spec.uid != p->uid)
                return answer_fail(a, EPERM, "root", "this box is not yours");
        if (b->userns < 0)
                return answer_fail(a, EOPNOTSUPP, "root", "this box has no user namespace");
        if (!b->spec.user_root)
                return answer_fail(a, EPERM, "root", "user_root is not enabled for you");
        audit(LOG_INFO, "root", b, &w, "caller_uid=%u", (unsigned)p->uid);
        return answer_empty(a, MSG_USERNS, b->userns);
}

/* The box's namespaces a session joins, as session_ns_files orders them. */
static int open_session_ns(const struct box *b, int fds[N_SESSION_NS], size_t *ret_n)
{
        size_t n = 0;

        for (size_t i = 0; i < N_SESSION_NS; i++) {
                char path[64];

                if (!(b->spec.namespaces & session_ns_files[i].ns))
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)b->pid, session_ns_files[i].name);
                fds[n] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[n] < 0) {
                        int r = negative_errno();

                        while (n > 0)
                                close(fds[--n]);
                        return r;
                }
                n++;
        }
        *ret_n = n;
        return 0;
}

static struct session *manager_session_of(pid_t pid)
{
        for (struct box *b = boxes; b; b = b->next)
                for (struct session *s = b->sessions; s; s = s->next)
                        if (s->si.user_manager && s->opener_pid == pid)
                                return s;
        return NULL;
}

/* nsbox-user-manager, which user@.service runs in place of the user
 * manager, asks for the box that its PAM session (pam_nsbox.so
 * user_manager) opened.  Only that very process gets it: the opener of a
 * user manager session, still alive -- so no other process can hold its
 * number --, and the box's user. */
int box_manager(const struct peer *p, struct answer *a)
{
        struct session *s = manager_session_of(p->pid);
        struct box *b = s ? s->box : NULL;
        struct manager_reply mr = {};
        struct who w;
        int r;

        if (!s || b->spec.uid != p->uid || b->state != BOX_RUNNING)
                return answer_fail(a, ENOENT, "manager", "no user manager session of yours");
        if (pidfd_send_signal(s->opener.fd, 0, NULL, 0) < 0 || pidfd_send_signal(p->pidfd, 0, NULL, 0) < 0)
                return answer_fail(a, ESRCH, "manager", "caller");
        memcpy(mr.id, b->id, sizeof(mr.id));
        mr.namespaces = b->spec.namespaces;
        mr.no_new_privs = b->spec.no_new_privs;
        mr.cap_bounding = b->spec.cap_bounding;
        mr.cap_keep = b->spec.cap_keep;
        msg_init(a->m, MSG_MANAGER_REPLY);
        if (proto_put_manager(a->m, &mr) < 0)
                return answer_fail(a, E2BIG, "manager", "reply");
        /* Namespace fds, not the init's pidfd: setns() through a pidfd
         * wants to be able to trace the process, which the user may not. */
        r = open_session_ns(b, a->fds, &a->n_fds);
        if (r < 0)
                return answer_fail(a, -r, "manager", "namespaces");
        a->own_fds = true;
        who_from(&w, s);
        audit(LOG_INFO, "manager", b, &w, "share=%s", share_to_string(b->spec.share));
        return 0;
}

/* A part of a show ends with room for one more session at its largest. */
#define SHOW_PART_ROOM 1024

/* The box, and its sessions newer-first from before on, as many as fit;
 * when some are left, the seq to ask again with. */
int box_show(const char *id, uint32_t before, struct answer *a)
{
        struct box *b = find_box(id);
        struct session *s = b ? b->sessions : NULL;
        uint32_t last = 0;
        struct box_info bi;
        int r;

        if (!b)
                return answer_fail(a, ENOENT, "show", id);
        msg_init(a->m, MSG_SHOW_REPLY);
        fill_info(b, &bi);
        r = proto_put_boxinfo(a->m, &bi);
        if (r >= 0)
                r = proto_put_spec(a->m, &b->spec);
        while (s && s->seq >= before)
                s = s->next;
        for (; r >= 0 && s && (last == 0 || msg_len(a->m) <= NSBOX_MSG_MAX - SHOW_PART_ROOM); s = s->next) {
                struct session_entry se;

                entry_of(s, &se);
                r = proto_put_session(a->m, &se);
                last = s->seq;
        }
        if (r >= 0 && s)
                r = proto_put_show_cursor(a->m, last);
        return r < 0 ? answer_fail(a, -r, "show", id) : 0;
}

int box_enter(const struct peer *p, const char *id, struct answer *a)
{
        struct box *b = find_box(id);
        struct who w = { .pid = p->pid, .service = "nsbox-enter" };

        if (!b || b->state != BOX_RUNNING)
                return answer_fail(a, ENOENT, "enter", id);
        audit(LOG_NOTICE, "enter", b, &w, "by=root");
        return answer_empty(a, MSG_OK, b->pidfd.fd);
}

int box_stop_request(const struct peer *p, const char *id, bool force, struct answer *a)
{
        struct box *b = find_box(id);
        struct who w = { .pid = p->pid, .service = "nsbox-stop" };

        if (!b)
                return answer_fail(a, ENOENT, "stop", id);
        audit(LOG_NOTICE, "stop", b, &w, "by=root force=%s", force ? "yes" : "no");
        box_stop(b, "stop");
        if (force)
                pidfd_send_signal(b->pidfd.fd, SIGKILL, NULL, 0);
        return answer_empty(a, MSG_OK, -1);
}


/* ---- boxes a helper before us left ------------------------------------- */

static void record_of(const struct box *b, struct box_record *r)
{
        memset(r, 0, sizeof(*r));
        r->version = BOX_RECORD_VERSION;
        r->size = sizeof(*r);
        r->created = (uint64_t)b->created;
        r->net = b->net;
        if (b->unit.pending || b->unit.started)
                snprintf(r->unit, sizeof(r->unit), "%s", b->unit.name);
        snprintf(r->unit_claimed, sizeof(r->unit_claimed), "%s", b->unit.claimed);
        r->pinned = b->unit.pinned;
        r->cpus = b->unit.cpus;
        if (b->cg.dir >= 0)
                snprintf(r->cgroup, sizeof(r->cgroup), "%s", b->cg.path);
        snprintf(r->who_service, sizeof(r->who_service), "%s", b->who.service);
        snprintf(r->who_tty, sizeof(r->who_tty), "%s", b->who.tty);
        snprintf(r->who_rhost, sizeof(r->who_rhost), "%s", b->who.rhost);
        r->who_pid = b->who.pid;
}

/* A session the init held for us, as the helper before us had it. */
static int take_session(struct box *b, struct adopt_claim *c)
{
        struct session *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        memcpy(s->cookie, c->cookie, sizeof(s->cookie));
        s->box = b;
        s->opener_pid = (pid_t)c->se.pid;
        s->created = (time_t)c->se.created;
        s->logged = true;
        s->oom = (struct watch){ .fd = -1, .cb = on_session_oom };
        s->opener = (struct watch){ .fd = TAKE_FD(c->pidfd), .cb = on_opener_exit };
        s->si.user_manager = c->se.flags & SF_USER_MANAGER;
        if (xstrdup(&s->si.service, c->se.service) < 0 || xstrdup(&s->si.tty, c->se.tty) < 0 ||
            xstrdup(&s->si.rhost, c->se.rhost) < 0 || loop_add(&s->opener, EPOLLIN) < 0) {
                session_free(s);
                return -ENOMEM;
        }
        if (cgroup_of_pid(s->opener_pid, s->cgroup, sizeof(s->cgroup)) < 0 || !cgroup_is_users(s->cgroup, b->spec.uid))
                s->cgroup[0] = '\0';
        watch_oom(&s->oom, s->cgroup, &s->oom_kills);
        if (session_link(b, s) < 0) {
                session_free(s);
                return -ENOMEM;
        }
        return 0;
}

/* What the kernel tells of the box's init: its user namespace, for
 * `nsbox root`, and its mount namespace, to know its callers. */
static void take_namespaces(struct box *b)
{
        char path[64];

        if (b->spec.namespaces & NS_USER) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)b->pid);
                b->userns = open(path, O_RDONLY | O_CLOEXEC);
        }
        box_take_mntns(b);
}

/* Its scope (systemd) or cgroup (none), its CPUs and its OOM count. */
static void take_cgroups(struct box *b, const struct box_record *r)
{
        char cgroup[256];

        if (r->unit[0])
                units_adopt(&b->unit, r->unit, r->unit_claimed, &b->spec.limits, r->pinned ? &r->cpus : NULL);
        else if (r->pinned) {
                b->unit.pinned = true;
                b->unit.cpus = r->cpus;
                cpus_hold(&b->unit.cpus);
        }
        b->unit.done = on_unit_done;
        b->oom.cb = on_box_oom;
        if (r->cgroup[0] && subtree_box_open(b->id, &b->cg) == 0)
                watch_oom(&b->oom, b->cg.path, &b->oom_kills);
        else if (box_scope_cgroup(b, cgroup, sizeof(cgroup)) == 0)
                watch_oom(&b->oom, cgroup, &b->oom_kills);
}

/* adopt_all()'s hand-over: the box is ours from here on, running. */
static int box_take(struct adoptee *a)
{
        struct box *b = box_alloc();
        const struct box_record *r = &a->rec;
        unsigned long long linger = 0;

        if (find_box(a->id)) {
                free(b);
                return -EEXIST;
        }
        if (!b)
                return -ENOMEM;
        b->timer = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), .cb = on_timer };
        if (b->timer.fd < 0) {
                free(b);
                return -ENOMEM;
        }
        memcpy(b->id, a->id, sizeof(b->id));
        memcpy(b->token, a->token, sizeof(b->token));
        b->adopted = true;
        box_set_state(b, BOX_RUNNING);
        b->pid = a->pid;
        b->created = (time_t)r->created;
        b->net = r->net;
        b->spec = a->spec;
        if (box_link(b) < 0) {
                close(b->timer.fd);
                free(b);
                return -ENOMEM;
        }
        a->spec = (struct box_spec){};
        b->pidfd = (struct watch){ .fd = TAKE_FD(a->pidfd), .cb = on_init_exit };
        b->sync = (struct watch){ .fd = TAKE_FD(a->link), .cb = on_sync };
        snprintf(b->who.service, sizeof(b->who.service), "%s", r->who_service);
        snprintf(b->who.tty, sizeof(b->who.tty), "%s", r->who_tty);
        snprintf(b->who.rhost, sizeof(b->who.rhost), "%s", r->who_rhost);
        b->who.pid = r->who_pid;
        take_namespaces(b);
        take_cgroups(b, r);
        b->kind_counted = prepared_box_started(&b->spec);
        for (size_t i = 0; i < a->n_claims; i++)
                if (take_session(b, &a->claims[i]) < 0)
                        closep(&a->claims[i].pidfd);
        audit(LOG_INFO, "adopt", b, &b->who, "init=%d sessions=%u", (int)b->pid, b->n_sessions);
        if (loop_add(&b->pidfd, EPOLLIN) < 0 || loop_add(&b->sync, EPOLLIN) < 0 || loop_add(&b->timer, EPOLLIN) < 0) {
                box_stop(b, "adopt-failed");
                return 0;
        }
        /* Nobody held it: what is left of its linger. */
        if (b->n_sessions == 0) {
                linger = b->spec.linger * 1000000ULL;
                if (a->unclaimed_usec >= linger)
                        box_stop(b, "linger");
                else
                        arm_timer(b, (unsigned)((linger - a->unclaimed_usec + 999999) / 1000000));
        }
        return 0;
}

unsigned box_adopt_all(void)
{
        unsigned n = adopt_all(box_take), k = 0;
        _cleanup_free_ const struct box_net **nets = calloc(n_boxes + 1, sizeof(*nets));

        for (struct box *b = boxes; nets && b; b = b->next)
                if (b->net.in_nft)
                        nets[k++] = &b->net;
        /* The table as these boxes need it, in one transaction; without it
         * their isolation cannot be vouched for. */
        if (!nets || nft_adopt(nets, k) < 0)
                for (struct box *b = boxes; b; b = b->next)
                        if (b->net.in_nft) {
                                b->net.in_nft = false;
                                box_stop(b, "nft-failed");
                        }
        return n;
}

bool box_known(const char *id)
{
        return find_box(id) != NULL;
}

bool box_owns_host_end(const char *host_if)
{
        const struct box *b = strncmp(host_if, "nsb", 3) == 0 ? find_box(host_if + 3) : NULL;

        return b && strcmp(b->net.host_if, host_if) == 0;
}

/* Boxes on their way in or out: a helper that stops waits for them. */
unsigned box_busy_count(void)
{
        return n_busy;
}
