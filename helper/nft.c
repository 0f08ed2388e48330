/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The project's own nftables table, through libnftables.
 *
 * One table, "inet nsbox", exists while at least one veth box does, and for
 * TABLE_LINGER_SEC after the last one ended: making and dropping the table
 * costs the kernel a few RCU grace periods each, which back-to-back logins
 * of one user must not pay every time.  Boxes are added and removed as set
 * elements; the host's own tables are never touched.
 *
 * The boxes outlive the helper, and so must their isolation: the table is
 * not tied to our netlink socket.  A new helper makes it anew, with the
 * elements of the boxes it took over, in one transaction (nft_adopt), so
 * that no packet ever sees it half made; one that took none over removes
 * what a helper before it left.
 *
 *   ifaces    host ends of every box
 *   isolated  host ends of boxes with isolate = yes
 *   src4/6    (host end . address) each isolated box may send from
 *   nat4/6    box addresses to masquerade (nat = yes)
 *
 * The table is ours alone, and the helper sees to it that it stays as its
 * boxes need it: someone else's change to it (a reload of nftables.service
 * begins with "flush ruleset") would otherwise leave live boxes without
 * isolation or NAT, silently.  The helper listens to nftables' own
 * notifications, and a transaction of anyone else's that touched the table
 * has it made anew, whole, in one transaction: at once, then at most once
 * a second.  It knows what to make from its own list of the members'
 * networks, kept as they were added.
 *
 * The table, its sets and rules are written in nft's language, through
 * libnftables.  A box's elements, which come and go with every box, are
 * one netlink transaction built with libnftnl: libnftables would read the
 * kernel's whole ruleset (every table, chain and set of the host, since
 * each of our transactions makes its copy stale) before each. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <syslog.h>

#include "daemon.h"
#include "net.h"
#include "util.h"

#define TABLE_LINGER_SEC 2
#define REBUILD_EVERY_USEC 1000000ULL

static struct nft_ctx *nft;
/* The elements' own netlink socket, kept with the context: closing one
 * waits for the kernel to free what its transactions removed (an RCU grace
 * period, milliseconds). */
static struct mnl_socket *elements_nl;
/* What the table holds besides its rules: the networks whose elements are
 * in it, as they were when added. */
static struct box_net *members;
static size_t n_members, cap_members;
static void on_linger(struct watch *w, uint32_t events);
static struct watch linger = { .fd = -1, .cb = on_linger };

/* nftables' notifications, while the table exists: which transactions
 * were someone else's (by the netlink port they came from), and the
 * table made anew after them. */
static void on_monitor(struct watch *w, uint32_t events);
static void on_rebuild_timer(struct watch *w, uint32_t events);
static struct mnl_socket *monitor_nl;
static struct watch monitor = { .fd = -1, .cb = on_monitor };
static struct watch rebuild_timer = { .fd = -1, .cb = on_rebuild_timer };
static bool foreign_change;     /* in the transaction being read */
static uint32_t nft_portid;     /* libnftables' socket's, once it has one */
static int nft_sock_fd = -1;    /* that socket (libnftables' own) */
static unsigned long long last_rebuild;
static bool rebuild_failed;
/* libnftables waits on its netlink socket with select(), and glibc aborts
 * the process for an fd of FD_SETSIZE (1024) or more: a helper with a few
 * hundred boxes holds that many.  So a low fd is kept for the socket, by a
 * placeholder while there is no context, given up the moment one is made
 * (the socket takes the lowest free fd), taken again when it is freed. */
static int low_fd = -1;

void nft_reserve(void)
{
        if (low_fd < 0)
                low_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* A socket that failed is not trusted with the next transaction. */
static void elements_socket_drop(void)
{
        if (elements_nl)
                mnl_socket_close(elements_nl);
        elements_nl = NULL;
}

static int elements_socket(void)
{
        int r;

        if (elements_nl)
                return 0;
        elements_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (elements_nl && mnl_socket_bind(elements_nl, 0, MNL_SOCKET_AUTOPID) == 0)
                return 0;
        r = negative_errno();
        elements_socket_drop();
        return r;
}

/* Arm one of this file's one-shot timers, made on first use; one that
 * cannot be armed is closed. */
static int timer_arm(struct watch *w, const struct itimerspec *its)
{
        int r = 0;

        if (w->fd < 0) {
                w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (w->fd < 0)
                        return negative_errno();
                r = loop_add(w, EPOLLIN);
                if (r < 0) {
                        closep(&w->fd);
                        return r;
                }
        }
        if (timerfd_settime(w->fd, 0, its, NULL) < 0) {
                r = negative_errno();
                loop_del(w);
                closep(&w->fd);
        }
        return r;
}

static void monitor_stop(void)
{
        if (monitor.fd >= 0)
                loop_del(&monitor);
        monitor.fd = -1;
        if (monitor_nl)
                mnl_socket_close(monitor_nl);
        monitor_nl = NULL;
        if (rebuild_timer.fd >= 0) {
                loop_del(&rebuild_timer);
                closep(&rebuild_timer.fd);
        }
        foreign_change = false;
}

static void ctx_free(void)
{
        monitor_stop();
        elements_socket_drop();
        nft_ctx_free(nft);
        nft = NULL;
        nft_portid = 0;
        nft_sock_fd = -1;
        n_members = 0;
        nft_reserve();
}

static const char table_def[] =
        "add table inet nsbox\n"
        "add set inet nsbox ifaces { type ifname; }\n"
        "add set inet nsbox isolated { type ifname; }\n"
        "add set inet nsbox src4 { type ifname . ipv4_addr; }\n"
        "add set inet nsbox src6 { type ifname . ipv6_addr; }\n"
        "add set inet nsbox nat4 { type ipv4_addr; }\n"
        "add set inet nsbox nat6 { type ipv6_addr; }\n"
        "add chain inet nsbox prerouting { type filter hook prerouting priority raw; policy accept; }\n"
        /* A box sends only from its own addresses (IPv6 link-local aside:
         * neighbour discovery needs it). */
        "add rule inet nsbox prerouting iifname @isolated ip6 saddr fe80::/10 accept\n"
        "add rule inet nsbox prerouting iifname @isolated iifname . ip saddr != @src4 drop\n"
        "add rule inet nsbox prerouting iifname @isolated iifname . ip6 saddr != @src6 drop\n"
        "add chain inet nsbox forward { type filter hook forward priority filter; policy accept; }\n"
        /* An isolated box reaches no other box, and no box reaches it. */
        "add rule inet nsbox forward iifname @isolated oifname @ifaces drop\n"
        "add rule inet nsbox forward iifname @ifaces oifname @isolated drop\n"
        "add chain inet nsbox postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
        "add rule inet nsbox postrouting oifname @ifaces return\n"
        "add rule inet nsbox postrouting ip saddr @nat4 masquerade\n"
        "add rule inet nsbox postrouting ip6 saddr @nat6 masquerade\n";

/* Run one nftables transaction.  On failure, *err says what nftables
 * said (its first line), for the caller to report: nothing is logged here. */
static int nft_apply(const char *cmd, struct step_error *err)
{
        const char *e;

        if (!nft) {
                /* The context's socket takes the fd the placeholder gives up. */
                nft_sock_fd = low_fd;
                closep(&low_fd);
                nft = nft_ctx_new(NFT_CTX_DEFAULT);
                if (!nft)
                        return step_fail(err, "nftables", "context", -ENOMEM);
                nft_ctx_buffer_output(nft);
                nft_ctx_buffer_error(nft);
        }
        if (nft_run_cmd_from_buffer(nft, cmd) == 0)
                return 0;
        e = nft_ctx_get_error_buffer(nft);
        e = e && *e ? e : "the ruleset was refused";
        return step_failf(err, "nftables", -EIO, "%.*s", (int)strcspn(e, "\n"), e);
}

static void drop_table(void)
{
        struct step_error err = {};

        if (linger.fd >= 0) {
                loop_del(&linger);
                closep(&linger.fd);
        }
        if (n_members > 0)
                return;
        /* No routed box is left: forwarding goes back as it was. */
        host_restore();
        if (!nft)
                return;
        if (nft_apply("delete table inet nsbox\n", &err) < 0)
                syslog(LOG_ERR, "event=nft-failed step=drop-table object=\"table inet nsbox\": %s", err.object);
        ctx_free();
}

static void on_linger(struct watch *w, uint32_t events)
{
        (void)w;
        (void)events;
        drop_table();
}

/* Drop the table once it has had no member for TABLE_LINGER_SEC; at once
 * when no timer can be had, or when the table is half made. */
static void drop_table_if_unused(bool now)
{
        struct itimerspec its = { .it_value = { .tv_sec = TABLE_LINGER_SEC } };

        if (n_members > 0 || !nft)
                return;
        if (now || timer_arm(&linger, &its) < 0)
                drop_table();
}


/* A box's set elements: its host end in ifaces; with isolation, in
 * isolated and with its addresses in src4/src6; with nat, its addresses
 * in nat4/nat6.  Keys as nft lays them out: an ifname is IFNAMSIZ bytes,
 * zero-padded; a concatenation is its parts end to end (each a multiple of
 * 4 bytes); addresses in network order. */
struct element {
        const char *set;
        const char *ifname;     /* or NULL */
        const struct addr *addr;        /* or NULL */
};
#define MAX_ELEMENTS 6
#define MAX_KEY (IFNAMSIZ + 16)         /* an ifname and an IPv6 address */

static size_t elements_of(const struct box_net *n, struct element out[MAX_ELEMENTS])
{
        size_t k = 0;

        out[k++] = (struct element){ "ifaces", n->host_if, NULL };
        if (n->nft_isolated) {
                out[k++] = (struct element){ "isolated", n->host_if, NULL };
                if (n->has4)
                        out[k++] = (struct element){ "src4", n->host_if, &n->box4 };
                if (n->has6)
                        out[k++] = (struct element){ "src6", n->host_if, &n->box6 };
        }
        if (n->nft_nat && n->has4)
                out[k++] = (struct element){ "nat4", NULL, &n->box4 };
        if (n->nft_nat && n->has6)
                out[k++] = (struct element){ "nat6", NULL, &n->box6 };
        return k;
}

static uint32_t element_key(const struct element *e, uint8_t key[MAX_KEY])
{
        uint32_t len = 0;

        memset(key, 0, MAX_KEY);
        if (e->ifname) {
                memcpy(key, e->ifname, strnlen(e->ifname, IFNAMSIZ - 1));
                len = IFNAMSIZ;
        }
        if (e->addr) {
                memcpy(key + len, e->addr->a, addr_len(e->addr->family));
                len += (uint32_t)addr_len(e->addr->family);
        }
        return len;
}

/* The same in nft's language, for a transaction that makes the table too. */
static void element_text(FILE *f, const struct element *e)
{
        char a[64] = "";

        if (e->addr)
                addr_format(e->addr, a, sizeof(a));
        fprintf(f, "add element inet nsbox %s { ", e->set);
        if (e->ifname)
                fprintf(f, "\"%s\"%s", e->ifname, e->addr ? " . " : "");
        fprintf(f, "%s }\n", a);
}

/* One message of the batch: the element into (or out of) its set. */
static int element_msg(struct mnl_nlmsg_batch *batch, uint16_t type, const struct element *e, uint32_t seq)
{
        struct nftnl_set *s = nftnl_set_alloc();
        struct nftnl_set_elem *el = nftnl_set_elem_alloc();
        uint8_t key[MAX_KEY];
        uint32_t len = element_key(e, key);
        struct nlmsghdr *h;

        if (!s || !el || nftnl_set_set_str(s, NFTNL_SET_TABLE, "nsbox") < 0 ||
            nftnl_set_set_str(s, NFTNL_SET_NAME, e->set) < 0 || nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, len) < 0) {
                nftnl_set_elem_free(el);
                nftnl_set_free(s);
                return -ENOMEM;
        }
        nftnl_set_elem_add(s, el);      /* the set owns it now */
        h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch), type, NFPROTO_INET,
                                  (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | NLM_F_ACK, seq);
        nftnl_set_elems_nlmsg_build_payload(h, s);
        nftnl_set_free(s);
        return mnl_nlmsg_batch_next(batch) ? 0 : -E2BIG;
}

/* The answers to the batch's k messages, one each: the kernel runs a
 * batch as it is sent, so they are there when sendto() returns; the
 * deadline is for a kernel that does not.  The first refusal names its set. */
static int elements_answers(int fd, uint32_t seq0, const struct element *el, size_t k, struct step_error *err)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        size_t answered = 0;
        int first = 0;
        const char *set = NULL;

        while (answered < k) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
                ssize_t len;
                int n = poll(&p, 1, 1000);

                len = n > 0 ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : -1;
                if (len < 0 && !first) {
                        int r = n == 0 ? -ETIMEDOUT : negative_errno();

                        elements_socket_drop();
                        return step_fail(err, "nftables", "elements", r);
                }
                if (len < 0)
                        break;  /* a refusal, whose answers to the rest did not come */
                for (int left = (int)len; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

                        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
                                continue;
                        /* The batch refused whole (no memory for the
                         * answers) is answered at its beginning, once. */
                        if (h->nlmsg_seq == seq0 - 1 && e->error < 0)
                                return step_failf(err, "nftables", e->error, "elements (the whole transaction)");
                        /* A late answer to a transaction before is no answer. */
                        if (h->nlmsg_seq - seq0 >= k)
                                continue;
                        answered++;
                        if (e->error < 0 && !first) {
                                first = e->error;
                                set = el[h->nlmsg_seq - seq0].set;
                        }
                }
        }
        return first ? step_failf(err, "nftables", first, "element of set %s", set) : 0;
}

/* The box's elements added or deleted, in one transaction. */
static int elements_apply(uint16_t type, const struct box_net *n, struct step_error *err)
{
        struct element el[MAX_ELEMENTS];
        size_t k = elements_of(n, el);
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct mnl_nlmsg_batch *batch;
        uint32_t seq = (uint32_t)now_usec(), seq0 = seq + 1;
        int r = 0;

        batch = mnl_nlmsg_batch_start(buf, sizeof(buf));
        if (!batch)
                return step_fail(err, "nftables", "elements", -ENOMEM);
        nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
        mnl_nlmsg_batch_next(batch);
        for (size_t i = 0; i < k && r == 0; i++)
                r = element_msg(batch, type, &el[i], seq++);
        if (r == 0) {
                nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
                mnl_nlmsg_batch_next(batch);
                r = elements_socket();
        }
        if (r == 0 && mnl_socket_sendto(elements_nl, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch)) < 0)
                r = negative_errno();
        mnl_nlmsg_batch_stop(batch);
        if (r < 0)
                return step_fail(err, "nftables", "elements", r);
        return elements_answers(mnl_socket_get_fd(elements_nl), seq0, el, k, err);
}

static int member_add(const struct box_net *n)
{
        if (n_members == cap_members) {
                size_t cap = cap_members ? 2 * cap_members : 16;
                struct box_net *v = reallocarray(members, cap, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                members = v;
                cap_members = cap;
        }
        members[n_members++] = *n;
        return 0;
}

static void member_del(const struct box_net *n)
{
        for (size_t i = n_members; i-- > 0;)
                if (strcmp(members[i].host_if, n->host_if) == 0) {
                        members[i] = members[--n_members];
                        return;
                }
}

/* The table made anew, whole, with every member's elements, in one
 * transaction: no packet sees it half made.  "add" first, so that
 * "delete" always has a table to delete. */
static int table_anew(bool with_table, struct step_error *err)
{
        _cleanup_free_ char *cmd = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&cmd, &size);

        if (!f)
                return step_fail(err, "nftables", "table", -ENOMEM);
        fputs("add table inet nsbox\ndelete table inet nsbox\n", f);
        if (with_table)
                fputs(table_def, f);
        for (size_t i = 0; i < n_members; i++) {
                struct element el[MAX_ELEMENTS];
                size_t k = elements_of(&members[i], el);

                for (size_t j = 0; j < k; j++)
                        element_text(f, &el[j]);
        }
        if (fclose(f) != 0)
                return step_fail(err, "nftables", "table", -ENOMEM);
        return nft_apply(cmd, err);
}

/* The netlink port a socket of ours sends from: 0 unless fd is a bound
 * netfilter socket. */
static uint32_t netfilter_portid(int fd)
{
        struct sockaddr_nl a = {};
        socklen_t len = sizeof(a);
        int v = 0;
        socklen_t vl = sizeof(v);

        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) < 0 || v != NETLINK_NETFILTER ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0 || a.nl_family != AF_NETLINK)
                return 0;
        return a.nl_pid;
}

/* Did this port's transaction come from us? */
static bool ours(uint32_t portid)
{
        return (nft_portid && portid == nft_portid) || (elements_nl && portid == mnl_socket_get_portid(elements_nl));
}

static char changer[64];        /* who made the last change of someone else's */

static void rebuild(void);

static void rebuild_soon(void)
{
        unsigned long long now = now_usec(), next = last_rebuild + REBUILD_EVERY_USEC;
        struct itimerspec its = {};
        int r;

        if (rebuild_timer.fd >= 0)
                return;         /* already due */
        if (now >= next) {
                rebuild();
                return;
        }
        its.it_value.tv_sec = (time_t)((next - now) / 1000000);
        its.it_value.tv_nsec = (long)((next - now) % 1000000 * 1000);
        /* Not now instead: a making that fails would come straight back. */
        r = timer_arm(&rebuild_timer, &its);
        if (r < 0)
                syslog(LOG_ERR, "event=nft-failed step=rebuild object=\"table inet nsbox\": no timer: %s: "
                                "it is made anew at the next change seen", strerror(-r));
}

static void on_rebuild_timer(struct watch *w, uint32_t events)
{
        (void)events;
        loop_del(w);
        closep(&w->fd);
        rebuild();
}

static void monitor_start(void);

static void rebuild(void)
{
        struct step_error err = {};
        int r;

        /* Not listening meanwhile: the notifications of a table with
         * thousands of elements would overflow the socket, and a lost one
         * has the table made anew. */
        monitor_stop();
        last_rebuild = now_usec();
        r = table_anew(true, &err);
        monitor_start();
        if (r < 0) {
                /* Said once; tried again each second until it holds. */
                if (!rebuild_failed)
                        syslog(LOG_ERR, "event=nft-failed step=rebuild object=\"table inet nsbox\" boxes=%zu: %s",
                               n_members, err.object);
                rebuild_failed = true;
                rebuild_soon();
                return;
        }
        syslog(LOG_WARNING, "event=nft-rebuilt object=\"table inet nsbox\" boxes=%zu by=%s: changed by someone else, made anew",
               n_members, changer[0] ? changer : "-");
        rebuild_failed = false;
}

/* One notification.  Every kind of object names its table in its first
 * attribute; a transaction ends with the new generation, which says who
 * made it.  True at the end of someone else's that touched the table. */
#define ATTR_TABLE 1
_Static_assert(NFTA_TABLE_NAME == ATTR_TABLE && NFTA_CHAIN_TABLE == ATTR_TABLE && NFTA_RULE_TABLE == ATTR_TABLE &&
                       NFTA_SET_TABLE == ATTR_TABLE && NFTA_SET_ELEM_LIST_TABLE == ATTR_TABLE &&
                       NFTA_OBJ_TABLE == ATTR_TABLE && NFTA_FLOWTABLE_TABLE == ATTR_TABLE,
               "nf_tables names an object's table in its first attribute");

static bool monitor_msg(const struct nlmsghdr *h)
{
        const struct nfgenmsg *g = mnl_nlmsg_get_payload(h);
        const struct nlattr *a;
        uint32_t pid = 0;
        const char *name = "?";

        if (NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES || h->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
                return false;
        if (NFNL_MSG_TYPE(h->nlmsg_type) == NFT_MSG_NEWGEN) {
                if (!foreign_change)
                        return false;
                foreign_change = false;
                mnl_attr_for_each(a, h, sizeof(*g)) {
                        if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                                pid = ntohl(mnl_attr_get_u32(a));
                        else if (mnl_attr_get_type(a) == NFTA_GEN_PROC_NAME &&
                                 mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                                name = mnl_attr_get_str(a);
                }
                snprintf(changer, sizeof(changer), "%.16s[%u]", name, pid);
                return true;
        }
        if (g->nfgen_family != NFPROTO_INET || ours(h->nlmsg_pid))
                return false;
        mnl_attr_for_each(a, h, sizeof(*g))
                if (mnl_attr_get_type(a) == ATTR_TABLE && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
                    strcmp(mnl_attr_get_str(a), "nsbox") == 0)
                        foreign_change = true;
        return false;
}

static void on_monitor(struct watch *w, uint32_t events)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        bool again = false;
        ssize_t len;

        (void)events;
        while ((len = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
                const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

                if (len < 0 && errno == ENOBUFS) {
                        /* Notifications were lost: what they said is not known. */
                        snprintf(changer, sizeof(changer), "unknown");
                        foreign_change = false;
                        again = true;
                        continue;
                }
                if (len < 0)
                        break;
                for (int left = (int)len; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
                        again |= monitor_msg(h);
        }
        if (again)
                rebuild_soon();
}

/* Once the table exists; a helper that cannot listen says so and goes on
 * as before. */
static void monitor_start(void)
{
        int e;

        if (monitor_nl)
                return;
        /* libnftables' socket has its port once it has sent (the kernel
         * binds it then): after the transaction that made the table. */
        nft_portid = netfilter_portid(nft_sock_fd);
        if (!nft_portid) {
                syslog(LOG_WARNING, "event=nft-failed step=monitor object=\"table inet nsbox\": libnftables' socket "
                                    "is not where it was looked for: changes by others go unseen");
                return;
        }
        monitor_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (monitor_nl && mnl_socket_bind(monitor_nl, 1U << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) == 0) {
                monitor.fd = mnl_socket_get_fd(monitor_nl);
                if (loop_add(&monitor, EPOLLIN) == 0)
                        return;
        }
        e = errno;
        monitor.fd = -1;
        if (monitor_nl)
                mnl_socket_close(monitor_nl);
        monitor_nl = NULL;
        syslog(LOG_WARNING, "event=nft-failed step=monitor object=\"table inet nsbox\": %s: changes by others go unseen",
               strerror(e));
}

int nft_box_add(const struct box_spec *s, struct box_net *n, struct step_error *err)
{
        int r;

        n->nft_isolated = s->isolate;
        n->nft_nat = s->nat;

        /* Forwarding is a host-wide switch: on only when a policy asks for
         * it (nat = yes, or isolate = no: boxes that may reach each other
         * are routed through the host), off again with the table (host.c). */
        if ((s->nat || !s->isolate) && !s->bridge) {
                r = host_forwarding_on(n->has6, s->nat ? "nat" : "isolate=no", err);
                if (r < 0)
                        return r;
        }
        if (linger.fd >= 0) {
                /* The table lingered: it is in use again. */
                loop_del(&linger);
                closep(&linger.fd);
        } else if (n_members == 0) {
                r = nft_apply(table_def, err);
                if (r < 0) {
                        drop_table_if_unused(true);
                        return r;
                }
                monitor_start();
        }
        r = member_add(n);
        if (r < 0) {
                drop_table_if_unused(false);
                return step_fail(err, "nftables", "members", r);
        }
        r = elements_apply(NFT_MSG_NEWSETELEM, n, err);
        if (r < 0) {
                member_del(n);
                drop_table_if_unused(false);
        }
        return r;
}

void nft_box_del(const struct box_net *n)
{
        struct step_error err = {};
        int r;

        /* Exactly what nft_box_add put in, in one transaction: the table may
         * linger and be used again, by boxes that get these addresses. */
        member_del(n);
        r = elements_apply(NFT_MSG_DELSETELEM, n, &err);
        if (r < 0) {
                /* The table cannot be trusted to hold only live boxes: it
                 * goes now if it is unused, or is made anew with theirs. */
                syslog(LOG_ERR, "event=nft-failed step=remove-elements object=%s: %s", n->host_if, err.object);
                if (n_members > 0)
                        rebuild_soon();
                else
                        drop_table_if_unused(true);
                return;
        }
        drop_table_if_unused(false);
}

int nft_adopt(const struct box_net *const *nets, size_t n)
{
        struct step_error err = {};
        int r = 0;

        n_members = 0;
        for (size_t i = 0; i < n && r == 0; i++)
                r = member_add(nets[i]);
        if (r == 0)
                r = table_anew(n > 0, &err);
        if (r < 0) {
                syslog(LOG_ERR, "event=nft-failed step=adopt object=\"table inet nsbox\" boxes=%zu: %s", n,
                       err.object[0] ? err.object : strerror(-r));
                n_members = 0;
                return r;
        }
        if (n == 0)
                ctx_free();
        else
                monitor_start();
        return 0;
}

void nft_exit(void)
{
        if (n_members == 0 && nft)
                drop_table();
}
