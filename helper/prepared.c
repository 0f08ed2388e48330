/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networks made ahead of logins (prepared.h).
 *
 * Why this is safe:
 *   - A prepared network is a net namespace that no process is in: only
 *     the helper holds it, by an fd.  Nobody but root can reach it, and its
 *     host end carries the nftables elements of its kind (isolation,
 *     source addresses) from the moment it exists, as a box's does.
 *   - Each is used once, by one new box, and never given back: a box's
 *     network goes with the box as before.  Nothing of one box, or user,
 *     can be found by the next: what a box gets was made for no one.
 *   - What it holds of the host is what any new net namespace holds, and
 *     the host's ping_group_range, copied as it is made: one older than
 *     MAX_AGE_SEC is not used but made anew.  Mounts, pids and the user
 *     namespace are made at login, as before: nothing prepared can go stale
 *     against the host's mounts or carry a user's ids.
 *   - They go when the helper goes (the kernel removes a net namespace
 *     whose last fd is closed, with its veth pair), and with the last box
 *     of their kind: they never outlive what they were made for.
 *   - They hold leases, so a pool can be full of them: a login that finds
 *     none free takes them all back at once (prepared_drop_all). */
#include "prepared.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "box.h"
#include "util.h"

#define MAX_KINDS 8
#define MAX_AGE_SEC 300
#define RETRY_SEC 10
/* A kind's networks are made once its boxes have lived this long: logins
 * that each come and go alone (`ssh host command`, a desktop) would
 * otherwise have networks made and dropped again at every one. */
#define SETTLE_USEC 1000000ULL

struct slot {
        char id[NSBOX_ID_LEN + 1];
        int netns;
        struct box_net net;
        unsigned long long made;        /* now_usec() */
        struct slot *next;
};

/* One kind of network: the spec's network keys (own copies of them). */
struct kind {
        struct box_spec shape;
        unsigned want;          /* prepared_networks, as the last box of it said */
        unsigned live;          /* its boxes */
        struct slot *slots;
        unsigned n_slots;
        unsigned long long retry;       /* after a failure, or SETTLE_USEC after its first box: not before */
        bool failing;           /* said so: not again until one is made */
        struct kind *next;
};

static struct kind *kinds;
static unsigned n_kinds;
static size_t n_all;

static bool same_kind(const struct box_spec *a, const struct box_spec *b)
{
        return a->network == b->network && a->nat == b->nat && a->isolate == b->isolate &&
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
        *ret = (struct box_spec){ .network = s->network, .nat = s->nat, .isolate = s->isolate, .prepared = -1 };
        if ((s->bridge && xstrdup(&ret->bridge, s->bridge) < 0) ||
            (s->gateway4 && xstrdup(&ret->gateway4, s->gateway4) < 0) ||
            (s->gateway6 && xstrdup(&ret->gateway6, s->gateway6) < 0) ||
            (s->pool4 && xstrdup(&ret->pool4, s->pool4) < 0) || (s->pool6 && xstrdup(&ret->pool6, s->pool6) < 0)) {
                box_spec_done(ret);
                return -ENOMEM;
        }
        return 0;
}

static void slot_free(struct slot *sl, bool now)
{
        closep(&sl->netns);
        if (now)
                net_teardown_now(&sl->net);
        else
                net_teardown(&sl->net);
        free(sl);
        n_all--;
}

/* Drop the kind's networks beyond keep, the oldest first. */
static void trim(struct kind *k, unsigned keep, bool now)
{
        while (k->n_slots > keep) {
                struct slot **p = &k->slots;

                while ((*p)->next)
                        p = &(*p)->next;
                slot_free(*p, now);
                *p = NULL;
                k->n_slots--;
        }
}

void prepared_box_started(const struct box_spec *s)
{
        struct kind *k = kind_of(s);

        if (s->network != NET_VETH)
                return;
        if (!k && n_kinds < MAX_KINDS && (k = calloc(1, sizeof(*k)))) {
                if (shape_of(s, &k->shape) < 0) {
                        free(k);
                        return;
                }
                k->retry = now_usec() + SETTLE_USEC;
                k->next = kinds;
                kinds = k;
                n_kinds++;
        }
        if (!k)
                return;
        k->live++;
        k->want = box_spec_prepared(s);
        trim(k, k->want, false);
}

void prepared_box_ended(const struct box_spec *s)
{
        struct kind *k = kind_of(s);

        if (s->network != NET_VETH || !k || --k->live > 0)
                return;
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

bool prepared_take(const struct box_spec *s, char id[NSBOX_ID_LEN + 1], struct box_net *net, int *ret_netns)
{
        struct kind *k = kind_of(s);
        struct slot *sl;

        if (s->network != NET_VETH || !k || !k->slots)
                return false;
        /* The newest: made last, it is the freshest. */
        sl = k->slots;
        if (!fresh(sl)) {
                trim(k, 0, false);
                return false;
        }
        k->slots = sl->next;
        k->n_slots--;
        n_all--;
        memcpy(id, sl->id, NSBOX_ID_LEN + 1);
        *net = sl->net;
        *ret_netns = sl->netns;
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

/* Its boxes live and it has fewer networks than they want. */
static bool short_of_networks(const struct kind *k)
{
        return k->live > 0 && k->n_slots < k->want;
}

static struct kind *hungry(void)
{
        unsigned long long now = now_usec();

        for (struct kind *k = kinds; k; k = k->next) {
                /* The oldest go when they are too old to be used. */
                while (k->slots && !fresh(oldest(k)))
                        trim(k, k->n_slots - 1, false);
                if (short_of_networks(k) && now >= k->retry)
                        return k;
        }
        return NULL;
}

bool prepared_wanted(void)
{
        return hungry() != NULL;
}

int prepared_next_ms(void)
{
        unsigned long long next = 0, now = now_usec();

        for (struct kind *k = kinds; k; k = k->next)
                if (short_of_networks(k) && k->retry > now && (!next || k->retry < next))
                        next = k->retry;
        return next ? ms_until(next) : -1;
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

void prepared_make_one(void)
{
        struct kind *k = hungry();
        struct step_error err = {};
        const struct addr *used;
        size_t n_used;
        struct slot *sl;
        int r;

        if (!k)
                return;
        sl = calloc(1, sizeof(*sl));
        if (!sl) {
                k->retry = now_usec() + RETRY_SEC * 1000000ULL;
                return;
        }
        sl->netns = -1;
        n_used = box_leases(&used);
        r = slot_id(sl->id);
        if (r < 0)
                step_fail(&err, "id", "prepared network", r);
        if (r >= 0)
                r = net_lease(&k->shape, used, n_used, &sl->net, &err);
        if (r >= 0 && (r = net_new_namespace(&sl->netns)) < 0)
                step_fail(&err, "netns", "prepared network", r);
        if (r >= 0)
                r = net_setup(&k->shape, sl->id, sl->netns, &sl->net, &err);
        sl->made = now_usec();
        n_all++;
        if (r < 0) {
                /* A full pool is no failure: a login takes them back. */
                if (r != -ENOSPC && !k->failing)
                        syslog(LOG_WARNING,
                               "event=prepare-failed box=%s step=%s object=%s: %s; logins make their networks "
                               "themselves, and it is tried again every %d s",
                               sl->id, err.step ?: "prepare", err.object, strerror(-r), RETRY_SEC);
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

        for (struct kind *k = kinds; k; k = k->next)
                for (struct slot *sl = k->slots; sl; sl = sl->next)
                        n += net_lease_addresses(&sl->net, out + n);
        return n;
}

bool prepared_has(const char *id)
{
        for (struct kind *k = kinds; k; k = k->next)
                for (struct slot *sl = k->slots; sl; sl = sl->next)
                        if (strcmp(sl->id, id) == 0)
                                return true;
        return false;
}
