/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boxes made ahead of logins (prepared.h).
 *
 * What one is: an nsbox-init started as root in a box's new namespaces
 * (mount, pid, uts, ipc as the policy says, and for a veth box its net
 * namespace, with its veth pair, addresses, routes and nftables elements),
 * waiting for its spec.  What is the user's is made at login, as before:
 * the user namespace with its id map, the views, the host name, the
 * dropped privileges.
 *
 * Why this is safe:
 *   - Nobody but root can reach one.  Its init is root's, in the initial
 *     user namespace, named nsbox-prepared while it waits, listed nowhere,
 *     counted against no user, and in no user's cgroup: it is in the
 *     helper's until a login takes it.  Its host end carries the elements
 *     of its kind (isolation, source addresses) from the moment it exists.
 *   - Each is used once, by one new box, and never given back: a box goes
 *     with its last session as before.  What a box gets was made for no
 *     one: nothing of one box, or user, can be found by the next.
 *   - A mount namespace is a copy of the helper's mount table as it was
 *     when the box was made.  Every one is dropped when that table changes
 *     (/proc/self/mountinfo polls for it, and is asked again before one is
 *     taken), so a box never starts from a table older than its login.
 *     What else it holds of the host (a new net namespace's defaults, the
 *     host's ping_group_range) ages out: one older than MAX_AGE_SEC is not
 *     used but made anew.
 *   - They go when the helper goes (an init whose helper is gone exits,
 *     and the kernel removes its namespaces and its veth pair with it), and
 *     prepared_linger after the last box of their kind.
 *   - They hold leases, so a pool can be full of them: a login that finds
 *     none free takes them all back at once (prepared_drop_all). */
#include "prepared.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/param.h>
#include <sys/pidfd.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "box.h"
#include "loop.h"
#include "spawn.h"
#include "util.h"

#define MAX_KINDS 8
#define MAX_AGE_SEC 300
#define RETRY_SEC 10
/* After the host's mount table changed: a user can change it (FUSE), and
 * must not keep the helper making and dropping boxes. */
#define REMAKE_USEC 1000000ULL

struct slot {
        char id[NSBOX_ID_LEN + 1];      /* a veth box's: its host end's name */
        int netns;                      /* a veth box's net namespace, or -1 */
        struct box_net net;
        bool linked;                    /* a veth box's links and elements are made */
        struct prepared_init init;      /* waiting for its spec */
        unsigned long long made;        /* now_usec() */
        struct slot *next;
};

/* One kind of box: the spec's namespaces and network keys (own copies). */
struct kind {
        struct box_spec shape;
        unsigned want;          /* prepared_boxes, as the last box of it said */
        unsigned linger;        /* prepared_linger, seconds */
        unsigned live;          /* its boxes */
        unsigned long long until;       /* with none live: it goes then */
        struct slot *slots;
        unsigned n_slots;
        /* A veth box is made in three turns of the loop, its net namespace,
         * its links and elements, then its init, so that a login waits for
         * one of them at most: this one has the first, or the first two. */
        struct slot *pending;
        unsigned long long retry;       /* after a failure or a mount change: not before */
        bool failing;           /* said so: not again until one is made */
        struct kind *next;
};

static struct kind *kinds;
static unsigned n_kinds;
static size_t n_all;
static struct watch mounts = { .fd = -1 };

/* Which boxes are made ahead: any but one with a net namespace that is
 * not a veth network's (a loopback one is cheap, and set up by the box). */
static bool fits(const struct box_spec *s)
{
        return !(s->namespaces & NS_NET) || s->network == NET_VETH;
}

static bool same_kind(const struct box_spec *a, const struct box_spec *b)
{
        /* The user namespace comes with the spec: any box may have one. */
        return (a->namespaces & ~NS_USER) == (b->namespaces & ~NS_USER) && a->network == b->network &&
               a->nat == b->nat &&
               a->isolate == b->isolate &&
               streq_ptr(a->bridge, b->bridge) && streq_ptr(a->gateway4, b->gateway4) &&
               streq_ptr(a->gateway6, b->gateway6) && streq_ptr(a->pool4, b->pool4) && streq_ptr(a->pool6, b->pool6);
}

static struct kind *kind_of(const struct box_spec *s)
{
        for (struct kind *k = kinds; k; k = k->next)
                if (same_kind(&k->shape, s))
                        return k;
        return NULL;
}

static int shape_of(const struct box_spec *s, struct box_spec *ret)
{
        *ret = (struct box_spec){ .namespaces = s->namespaces & ~NS_USER,
                                  .network = s->network,
                                  .nat = s->nat,
                                  .isolate = s->isolate,
                                  .prepared = -1,
                                  .prepared_linger = -1 };
        if ((s->bridge && xstrdup(&ret->bridge, s->bridge) < 0) ||
            (s->gateway4 && xstrdup(&ret->gateway4, s->gateway4) < 0) ||
            (s->gateway6 && xstrdup(&ret->gateway6, s->gateway6) < 0) ||
            (s->pool4 && xstrdup(&ret->pool4, s->pool4) < 0) || (s->pool6 && xstrdup(&ret->pool6, s->pool6) < 0)) {
                box_spec_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* A dropped box's init is killed, and reaped once it is gone: the kernel
 * tears its namespaces down meanwhile, and the loop does not wait. */
struct reaper {
        struct watch w;
        pid_t pid;
};

static void on_reaped(struct watch *w, uint32_t events)
{
        struct reaper *rp = container_of(w, struct reaper, w);

        (void)events;
        if (waitid(P_PIDFD, (id_t)w->fd, &(siginfo_t){}, WEXITED | WNOHANG) < 0 && errno == EAGAIN)
                return;
        loop_del(w);
        close(w->fd);
        free(rp);
}

static void init_kill(struct prepared_init *in)
{
        struct reaper *rp;

        closep(&in->sync);
        if (in->pidfd < 0)
                return;
        (void)pidfd_send_signal(in->pidfd, SIGKILL, NULL, 0);
        rp = malloc(sizeof(*rp));
        if (rp) {
                *rp = (struct reaper){ .w = { .fd = in->pidfd, .cb = on_reaped }, .pid = in->pid };
                if (loop_add(&rp->w, EPOLLIN) == 0) {
                        in->pidfd = -1;
                        return;
                }
                free(rp);
        }
        /* No room to wait for it: wait now. */
        (void)waitid(P_PIDFD, (id_t)in->pidfd, &(siginfo_t){}, WEXITED);
        closep(&in->pidfd);
}

static void slot_free(struct slot *sl, bool now)
{
        init_kill(&sl->init);
        closep(&sl->netns);
        if (now)
                net_teardown_now(&sl->net);
        else
                net_teardown(&sl->net);
        free(sl);
        n_all--;
}

/* Drop the kind's oldest box (the newest are at the head). */
static void drop_oldest(struct kind *k, bool now)
{
        struct slot **p = &k->slots;

        while ((*p)->next)
                p = &(*p)->next;
        slot_free(*p, now);
        *p = NULL;
        k->n_slots--;
}

/* Keep at most keep of the kind's boxes, the oldest going first, and a
 * half made one before them. */
static void trim(struct kind *k, unsigned keep, bool now)
{
        if (k->pending && k->n_slots >= keep) {
                slot_free(k->pending, now);
                k->pending = NULL;
        }
        while (k->n_slots > keep)
                drop_oldest(k, now);
}

static void kind_free(struct kind *k)
{
        trim(k, 0, false);
        for (struct kind **p = &kinds; *p; p = &(*p)->next)
                if (*p == k) {
                        *p = k->next;
                        break;
                }
        n_kinds--;
        box_spec_done(&k->shape);
        free(k);
}

bool prepared_box_started(const struct box_spec *s)
{
        struct kind *k = kind_of(s);

        if (!fits(s))
                return false;
        if (!k && n_kinds < MAX_KINDS && (k = calloc(1, sizeof(*k)))) {
                if (shape_of(s, &k->shape) < 0) {
                        free(k);
                        return false;
                }
                k->next = kinds;
                kinds = k;
                n_kinds++;
        }
        if (!k)
                return false;
        k->live++;
        k->want = box_spec_prepared(s);
        k->linger = box_spec_prepared_linger(s);
        trim(k, k->want, false);
        return true;
}

void prepared_box_ended(const struct box_spec *s)
{
        struct kind *k = kind_of(s);

        if (!k || --k->live > 0)
                return;
        if (k->linger == 0)
                kind_free(k);
        else
                k->until = now_usec() + k->linger * 1000000ULL;
}

/* A kind with no box live whose linger is over goes. */
static void expire(void)
{
        unsigned long long now = now_usec();

        for (struct kind *k = kinds, *next; k; k = next) {
                next = k->next;
                if (k->live == 0 && now >= k->until)
                        kind_free(k);
        }
}

static bool fresh(const struct slot *sl)
{
        return now_usec() - sl->made < MAX_AGE_SEC * 1000000ULL;
}

static const struct slot *oldest(const struct kind *k)
{
        const struct slot *sl = k->slots;

        while (sl && sl->next)
                sl = sl->next;
        return sl;
}

/* Has the helper's mount table changed since the boxes were made?  Then
 * every one with a mount namespace is dropped (all are), and made anew a
 * little later. */
static void mounts_changed(void)
{
        unsigned long long now = now_usec();

        for (struct kind *k = kinds; k; k = k->next) {
                trim(k, 0, false);
                k->retry = MAX(k->retry, now + REMAKE_USEC);
        }
}

static void on_mounts(struct watch *w, uint32_t events)
{
        (void)w;
        if (events & (EPOLLPRI | EPOLLERR))
                mounts_changed();
}

/* Asked again at each take: the loop may not have seen a change yet.  Each
 * poll of the file says whether the table changed since the last. */
static bool mounts_unchanged(void)
{
        struct pollfd p = { .fd = mounts.fd, .events = POLLPRI };

        if (mounts.fd < 0)
                return false;
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR))) {
                mounts_changed();
                return false;
        }
        return true;
}

int prepared_watch_mounts(void)
{
        mounts = (struct watch){ .fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC), .cb = on_mounts };
        if (mounts.fd < 0)
                return negative_errno();
        /* The first poll says "changed": take that now. */
        (void)mounts_unchanged();
        return loop_add(&mounts, EPOLLPRI);
}

bool prepared_take(const struct box_spec *s, char id[NSBOX_ID_LEN + 1], struct box_net *net,
                   struct prepared_init *ret_init)
{
        struct kind *k = kind_of(s);
        struct slot *sl;

        /* prepared_boxes = 0 is no box made ahead, nor used. */
        if (!fits(s) || box_spec_prepared(s) == 0 || !k || !k->slots || !mounts_unchanged())
                return false;
        /* The newest: made last, it is the freshest. */
        sl = k->slots;
        if (!fresh(sl) || pidfd_send_signal(sl->init.pidfd, 0, NULL, 0) < 0) {
                trim(k, 0, false);
                return false;
        }
        k->slots = sl->next;
        k->n_slots--;
        n_all--;
        if (s->namespaces & NS_NET) {
                memcpy(id, sl->id, NSBOX_ID_LEN + 1);
                *net = sl->net;
        }
        /* The init holds the net namespace now. */
        closep(&sl->netns);
        *ret_init = sl->init;
        free(sl);
        return true;
}

bool prepared_drop_all(void)
{
        bool any = n_all > 0;

        for (struct kind *k = kinds; k; k = k->next)
                trim(k, 0, true);
        return any;
}

/* It has fewer boxes than its boxes want (it lingers, or they live), or
 * one half made. */
static bool short_of_boxes(const struct kind *k)
{
        return k->pending || k->n_slots < k->want;
}

static struct kind *hungry(void)
{
        unsigned long long now = now_usec();

        expire();
        /* Not knowing when the host's mounts change, none is made. */
        if (mounts.fd < 0)
                return NULL;
        for (struct kind *k = kinds; k; k = k->next) {
                /* The oldest go when they are too old to be used. */
                while (k->slots && !fresh(oldest(k)))
                        drop_oldest(k, false);
                if (short_of_boxes(k) && now >= k->retry)
                        return k;
        }
        return NULL;
}

bool prepared_wanted(void)
{
        return hungry() != NULL;
}

static unsigned long long sooner(unsigned long long a, unsigned long long b)
{
        return !a || (b && b < a) ? b : a;
}

int prepared_next_ms(void)
{
        unsigned long long next = 0, now = now_usec();

        for (struct kind *k = kinds; k; k = k->next) {
                if (short_of_boxes(k) && k->retry > now)
                        next = sooner(next, k->retry);
                if (k->live == 0)
                        next = sooner(next, k->until);
        }
        return next ? ms_until(next) : -1;
}

bool prepared_lingering(void)
{
        return kinds != NULL;
}

/* An id no box, prepared network or draining pair has. */
static int slot_id(char ret[NSBOX_ID_LEN + 1])
{
        for (int tries = 0; tries < 16; tries++) {
                char host_if[16];
                uint32_t v;

                if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                        return -EIO;
                snprintf(ret, NSBOX_ID_LEN + 1, "%08x", v);
                snprintf(host_if, sizeof(host_if), "nsb%s", ret);
                if (!box_known(ret) && !prepared_has(ret) && !net_draining(host_if))
                        return 0;
        }
        return -EEXIST;
}

/* Its init, in the kind's namespaces (a veth box's net namespace made
 * just before), waiting for its spec. */
static int slot_init(const struct kind *k, struct slot *sl, struct step_error *err)
{
        sl->init.pid = spawn_init(k->shape.namespaces, -1, sl->netns, true, &sl->init.pidfd, &sl->init.sync);
        return sl->init.pid < 0 ? step_fail(err, "clone", "prepared box", negative_errno()) : 0;
}

/* A veth box's id, lease and net namespace. */
static int slot_netns(const struct kind *k, struct slot *sl, struct step_error *err)
{
        const struct addr *used;
        size_t n_used = box_leases(&used);
        int r = slot_id(sl->id);

        if (r < 0)
                return step_fail(err, "id", "prepared network", r);
        r = net_lease(&k->shape, used, n_used, &sl->net, err);
        if (r >= 0 && (r = net_new_namespace(&sl->netns)) < 0)
                step_fail(err, "netns", "prepared network", r);
        return r;
}

/* Then its links, addresses, routes and elements. */
static int slot_links(const struct kind *k, struct slot *sl, struct step_error *err)
{
        int r = net_setup(&k->shape, sl->id, sl->netns, &sl->net, err);

        sl->linked = r >= 0;
        return r;
}

static struct slot *slot_new(void)
{
        struct slot *sl = calloc(1, sizeof(*sl));

        if (sl) {
                sl->netns = sl->init.pidfd = sl->init.sync = -1;
                n_all++;
        }
        return sl;
}

void prepared_make_one(void)
{
        struct kind *k = hungry();
        struct step_error err = {};
        bool network_ready;
        struct slot *sl;
        int r;

        if (!k)
                return;
        sl = k->pending ? TAKE_PTR(k->pending) : slot_new();
        if (!sl) {
                k->retry = now_usec() + RETRY_SEC * 1000000ULL;
                return;
        }
        /* A veth box is made in three turns: its net namespace, its links,
         * then its init. */
        network_ready = sl->linked || !(k->shape.namespaces & NS_NET);     /* or none wanted */
        if (network_ready)
                r = slot_init(k, sl, &err);
        else if ((r = sl->netns < 0 ? slot_netns(k, sl, &err) : slot_links(k, sl, &err)) >= 0) {
                k->pending = sl;
                return;
        }
        sl->made = now_usec();
        if (r < 0) {
                /* A full pool is no failure: a login takes them back. */
                if (r != -ENOSPC && !k->failing)
                        syslog(LOG_WARNING,
                               "event=prepare-failed box=%s step=%s object=%s: %s; logins make their boxes "
                               "themselves, and it is tried again every %d s",
                               sl->id[0] ? sl->id : "-", err.step ?: "prepare", err.object, strerror(-r), RETRY_SEC);
                k->failing = r != -ENOSPC;
                k->retry = sl->made + RETRY_SEC * 1000000ULL;
                slot_free(sl, true);
                return;
        }
        k->failing = false;
        sl->next = k->slots;
        k->slots = sl;
        k->n_slots++;
}

size_t prepared_count(void)
{
        return n_all;
}

size_t prepared_addresses(struct addr *out)
{
        size_t n = 0;

        for (struct kind *k = kinds; k; k = k->next) {
                for (struct slot *sl = k->slots; sl; sl = sl->next)
                        n += net_lease_addresses(&sl->net, out + n);
                if (k->pending)
                        n += net_lease_addresses(&k->pending->net, out + n);
        }
        return n;
}

bool prepared_has(const char *id)
{
        for (struct kind *k = kinds; k; k = k->next) {
                for (struct slot *sl = k->slots; sl; sl = sl->next)
                        if (strcmp(sl->id, id) == 0)
                                return true;
                if (k->pending && strcmp(k->pending->id, id) == 0)
                        return true;
        }
        return false;
}
