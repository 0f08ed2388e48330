/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink, through libmnl, from the helper's own code: no ip(8).
 *
 * The host end is configured through a socket in the helper's namespace;
 * the box end through a socket opened inside the box's net namespace (a
 * netlink socket belongs to the namespace it was opened in), for which the
 * single-threaded helper steps into that namespace and straight back. */
#include <fcntl.h>
#include <net/if.h> /* before linux/if.h: libc-compat sorts them out */
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "net.h"
#include "newfs.h"
#include "prepared.h"
#include "util.h"

static int nl_open(struct mnl_socket **ret)
{
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

        if (!nl)
                return negative_errno();
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = negative_errno();
                mnl_socket_close(nl);
                return r;
        }
        *ret = nl;
        return 0;
}

/* ping_group_range: its path in any procfs, and in the shared /proc. */
#define PING_GROUP_RANGE_IN_PROC "sys/net/ipv4/ping_group_range"
#define PING_GROUP_RANGE "/proc/" PING_GROUP_RANGE_IN_PROC

/* A routed box's eth0 needs neither duplicate address detection (the other
 * end of its link has only the address the lease gave it) nor router
 * solicitations (its routes are set here).  Each would be multicast to its
 * host end, and every multicast packet a host end takes in costs a walk of
 * the host's ff00::/8 routes, one per host end: with thousands of boxes,
 * their first minutes cost every login.  Set on "default" before eth0 is
 * made, so eth0 is born with it; a kernel without IPv6 has neither file. */
static int quiet_ipv6_here(int proc)
{
        static const char *const files[] = { "sys/net/ipv6/conf/default/accept_dad",
                                             "sys/net/ipv6/conf/default/accept_ra" };

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_close_ int fd = openat(proc, files[i], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                int r = fd < 0 ? negative_errno() : write_all(fd, "0", 1);

                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* The sysctls of the net namespace we are in, through a procfs instance of
 * our own.  /proc/sys keeps a dentry per net namespace under one name, and
 * the kernel compares them one by one: through the shared /proc, opening a
 * sysctl costs more with each live box (3 ms with 2,000).  A new instance
 * holds only this namespace's, and goes when its fd is closed.  Returns the
 * ping_group_range, open for writing, in *ret_ping. */
static int sysctls_here(bool routed, int *ret_ping)
{
        _cleanup_close_ int proc = -1;

        /* Refused (an old kernel, a policy): the shared one, slower. */
        if (new_fs("proc", NO_OPTS, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &proc) < 0 &&
            (proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                *ret_ping = -1;
                return negative_errno();
        }
        *ret_ping = openat(proc, PING_GROUP_RANGE_IN_PROC, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        return routed ? quiet_ipv6_here(proc) : 0;
}

/* The helper's own net namespace (the host's), to step back into. */
static int own_netns(void)
{
        static int own = -1;

        if (own < 0)
                own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        return own < 0 ? negative_errno() : own;
}

static void back_home(int own)
{
        if (setns(own, CLONE_NEWNET) < 0) {
                /* Staying in a box's namespace would build every later box
                 * from there: never go on like that. */
                syslog(LOG_CRIT, "cannot return to the helper's own net namespace: %m");
                abort();
        }
}

/* Open a netlink socket inside another net namespace, and set what is set
 * through its sysctls: /proc/sys/net is the namespace of whoever opens it. */
static int nl_open_in(int netns_fd, bool routed, struct mnl_socket **ret, int *ret_ping, int *ret_sysctl)
{
        int own = own_netns(), r;

        if (own < 0)
                return own;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return negative_errno();
        r = nl_open(ret);
        *ret_sysctl = sysctls_here(routed, ret_ping);
        back_home(own);
        return r;
}

int net_new_namespace(int *ret)
{
        int own = own_netns(), r = 0;

        if (own < 0)
                return own;
        /* Owned by the initial user namespace, as a box's made by clone. */
        if (unshare(CLONE_NEWNET) < 0)
                return negative_errno();
        *ret = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (*ret < 0)
                r = negative_errno();
        back_home(own);
        return r;
}

/* Send one request and wait for its acknowledgement. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        unsigned seq = (unsigned)time(NULL) ^ (unsigned)nlh->nlmsg_type;
        unsigned portid = mnl_socket_get_portid(nl);
        int r;

        nlh->nlmsg_seq = seq;
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return negative_errno();
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

                if (n < 0)
                        return negative_errno();
                r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
                if (r <= MNL_CB_STOP)
                        return r < 0 ? negative_errno() : 0;
        }
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = ifindex;
        return nlh;
}

static int link_up(struct mnl_socket *nl, int ifindex, int master)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        if (master > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
        return nl_talk(nl, nlh, NULL, NULL);
}

/* No IPv6 link-local address on a host end: the box's gateway is the host
 * end's own address.  Each link-local adds routes to the host's one IPv6
 * table, and the kernel walks that whole table on every link change there
 * (fib6_clean_all): with thousands of boxes, every login and logout paid
 * for the others'.  It also spares a duplicate address detection, which
 * takes the RTNL lock.  A host without IPv6 has nothing to turn off. */
static int no_link_local(struct mnl_socket *nl, int ifindex)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
        struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC), *inet6;
        int r;

        inet6 = mnl_attr_nest_start(nlh, AF_INET6);
        mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
        mnl_attr_nest_end(nlh, inet6);
        mnl_attr_nest_end(nlh, spec);
        r = nl_talk(nl, nlh, NULL, NULL);
        return r == -EAFNOSUPPORT ? 0 : r;
}

static int make_veth(struct mnl_socket *nl, const char *host_if, int netns_fd)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
        struct nlattr *info, *data, *peer;

        /* One queue each way, for both ends, from the start: veth would
         * otherwise allocate one per CPU and cut them down to one after
         * registering each end, which waits for an RCU grace period twice
         * under the RTNL lock. */
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host_if);
        mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
        mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of their own; the peer
         * is born directly in the box's namespace. */
        memset(mnl_nlmsg_get_payload_tail(nlh), 0, sizeof(struct ifinfomsg));
        nlh->nlmsg_len += MNL_ALIGN(sizeof(struct ifinfomsg));
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
        mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        return nl_talk(nl, nlh, NULL, NULL);
}

/* An address of a, with its prefix; or, given a peer, a point-to-point
 * address whose only route is that to the peer. */
static int add_addr(struct mnl_socket *nl, int ifindex, const struct addr *a, const struct addr *peer,
                    unsigned prefix)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        size_t len = addr_len(a->family);

        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t)a->family;
        ifa->ifa_prefixlen = (uint8_t)(peer ? 8 * len : prefix);
        ifa->ifa_index = (uint32_t)ifindex;
        mnl_attr_put(nlh, IFA_LOCAL, len, a->a);
        mnl_attr_put(nlh, IFA_ADDRESS, len, peer ? peer->a : a->a);
        /* No duplicate address detection: the link has two ends, both ours,
         * and a tentative address would fail the first connections. */
        if (a->family == AF_INET6)
                mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
        return nl_talk(nl, nlh, NULL, NULL);
}

static int add_default_route(struct mnl_socket *nl, int ifindex, const struct addr *gw, bool onlink)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct rtmsg *rtm;

        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = (uint8_t)gw->family;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        /* On a bridge the gateway may lie outside the pool: it is on the
         * link all the same. */
        if (onlink)
                rtm->rtm_flags |= RTNH_F_ONLINK;
        mnl_attr_put(nlh, RTA_GATEWAY, addr_len(gw->family), gw->a);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
        return nl_talk(nl, nlh, NULL, NULL);
}

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

        if (nlh->nlmsg_type == RTM_NEWLINK)
                *(int *)data = ifm->ifi_index;
        return MNL_CB_OK;
}

static int ifindex_of(struct mnl_socket *nl, const char *name, int *ret)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, 0);
        int idx = 0, r;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        r = nl_talk(nl, nlh, ifindex_cb, &idx);
        if (r < 0)
                return r;
        if (idx <= 0)
                return -ENODEV;
        *ret = idx;
        return 0;
}

/* Ended boxes whose host end still exists.  Their leases stay taken, and
 * their names reserved, until the kernel has removed the pair: it does so by
 * itself when the box's net namespace dies (in a kernel worker, batched),
 * which spares the loop the ~30 ms a synchronous RTM_DELLINK waits for RCU.
 * We listen to link events and, should the namespace be held alive from
 * outside, delete the host end ourselves after a grace period. */
#define DRAIN_GRACE_MS 2000

struct drain {
        struct box_net net;
        unsigned long long deadline;    /* now_usec() */
        struct drain *next;
};

static struct drain *drains;
static unsigned n_drains;
static struct mnl_socket *monitor;
static struct watch monitor_w = { .fd = -1 }, drain_timer = { .fd = -1 };

int net_lease(const struct box_spec *s, const struct addr *used, size_t n_used, struct box_net *ret,
              struct step_error *err)
{
        _cleanup_free_ struct addr *all = NULL;
        struct box_net n = {};
        struct cidr pool;
        struct addr gw;
        size_t k = 0;
        uint64_t idx;
        int r;

        if (s->network != NET_VETH)
                return 0;
        /* Ended boxes whose pair the kernel has yet to remove hold theirs,
         * and so do the networks made ahead of logins. */
        all = calloc(n_used + 2 * (n_drains + prepared_count()) + 1, sizeof(*all));
        if (!all)
                return step_fail(err, "lease", "addresses", -ENOMEM);
        if (n_used)
                memcpy(all, used, n_used * sizeof(*all));
        k = n_used;
        for (struct drain *d = drains; d; d = d->next)
                k += net_lease_addresses(&d->net, all + k);
        k += prepared_addresses(all + k);

        if (cidr_parse(s->pool4, &pool) < 0)
                return step_fail(err, "lease", s->pool4, -EINVAL);
        r = pool_alloc(&pool, s->gateway4 && addr_parse(s->gateway4, &gw) == 0 ? &gw : NULL, all, k, &idx);
        if (r < 0)
                return step_fail(err, "lease", s->pool4, r);
        pool_addr(&pool, idx, 1, &n.host4);
        pool_addr(&pool, idx, 2, &n.box4);
        /* Routed: a point-to-point /30.  Bridged: the box sits on the
         * bridge's network, so it takes the pool's prefix. */
        n.prefix4 = s->bridge ? pool.prefix : 32 - BLOCK_SHIFT;
        n.has4 = true;
        if (s->pool6) {
                if (cidr_parse(s->pool6, &pool) < 0)
                        return step_fail(err, "lease", s->pool6, -EINVAL);
                r = pool_alloc(&pool, s->gateway6 && addr_parse(s->gateway6, &gw) == 0 ? &gw : NULL, all, k, &idx);
                if (r < 0)
                        return step_fail(err, "lease", s->pool6, r);
                pool_addr(&pool, idx, 1, &n.host6);
                pool_addr(&pool, idx, 2, &n.box6);
                n.prefix6 = s->bridge ? pool.prefix : 128 - BLOCK_SHIFT;
                n.has6 = true;
        }
        *ret = n;
        return 0;
}

size_t net_lease_addresses(const struct box_net *n, struct addr out[2])
{
        size_t k = 0;

        if (n->has4)
                out[k++] = n->host4;
        if (n->has6)
                out[k++] = n->host6;
        return k;
}

static int setup_host_end(struct mnl_socket *nl, const struct box_spec *s, const struct box_net *n,
                          struct step_error *err)
{
        int host, master = 0, r;

        r = ifindex_of(nl, n->host_if, &host);
        if (r < 0)
                return step_fail(err, "veth", n->host_if, r);
        r = no_link_local(nl, host);
        if (r < 0)
                return step_fail(err, "link-local", n->host_if, r);
        if (s->bridge) {
                r = ifindex_of(nl, s->bridge, &master);
                if (r < 0)
                        return step_fail(err, "bridge", s->bridge, r);
        } else {
                /* IPv4 point to point, the box its peer: two routes in the
                 * host's tables (to the box, and the local address) where a
                 * /30 adds three (its prefix, the local address and a
                 * broadcast route), and the kernel walks those tables whole
                 * at each link change there.  IPv6 gains nothing from a
                 * peer (it routes the local address too) and loses the
                 * peer's route when the link comes up after it: a /126. */
                r = add_addr(nl, host, &n->host4, &n->box4, 0);
                if (r >= 0 && n->has6)
                        r = add_addr(nl, host, &n->host6, NULL, 128 - BLOCK_SHIFT);
                if (r < 0)
                        return step_fail(err, "address", n->host_if, r);
        }
        r = link_up(nl, host, master);
        return r < 0 ? step_fail(err, "link-up", n->host_if, r) : 0;
}

static int setup_box_end(struct mnl_socket *nl, const struct box_spec *s, const struct box_net *n,
                         struct step_error *err)
{
        struct addr gw4 = n->host4, gw6 = n->host6;
        bool route4 = !s->bridge, route6 = !s->bridge;
        int eth0, r;

        r = ifindex_of(nl, "eth0", &eth0);
        if (r < 0)
                return step_fail(err, "veth", "eth0", r);
        r = add_addr(nl, eth0, &n->box4, NULL, n->prefix4);
        if (r >= 0 && n->has6)
                r = add_addr(nl, eth0, &n->box6, NULL, n->prefix6);
        if (r < 0)
                return step_fail(err, "address", "eth0", r);
        r = link_up(nl, eth0, 0);
        if (r < 0)
                return step_fail(err, "link-up", "eth0", r);
        if (s->gateway4 && addr_parse(s->gateway4, &gw4) == 0)
                route4 = true;
        if (s->gateway6 && addr_parse(s->gateway6, &gw6) == 0)
                route6 = true;
        if (route4 && (r = add_default_route(nl, eth0, &gw4, s->bridge)) < 0)
                return step_fail(err, "route", s->gateway4 ? s->gateway4 : "default", r);
        if (n->has6 && route6 && (r = add_default_route(nl, eth0, &gw6, s->bridge)) < 0)
                return step_fail(err, "route", s->gateway6 ? s->gateway6 : "default", r);
        return 0;
}

/* Who may ping without privilege (ICMP echo sockets) is a sysctl of each
 * net namespace, off in a new one; Debian 13's ping relies on it (systemd
 * opens it to every group), where Debian 12's has a file capability.  The
 * box's is the host's. */
static int same_ping_groups(int box_fd)
{
        /* The host's, opened once (the helper's namespace is the host's
         * for good): a lookup in /proc/sys/net grows with the boxes. */
        static int host = -1;
        char v[64];
        ssize_t k;

        if (box_fd < 0)
                return 0;       /* a kernel without it */
        if (host < 0 && (host = open(PING_GROUP_RANGE, O_RDONLY | O_CLOEXEC)) < 0)
                return negative_errno();
        k = pread(host, v, sizeof(v) - 1, 0);
        if (k <= 0)
                return k < 0 ? negative_errno() : -EIO;
        v[k] = '\0';
        return write_all(box_fd, v, strlen(v));
}

int net_setup(const struct box_spec *s, const char *id, int netns_fd, struct box_net *n, struct step_error *err)
{
        _cleanup_close_ int ping = -1;
        struct mnl_socket *host = NULL, *box = NULL;
        unsigned long long t;
        int quiet, r;

        r = nl_open_in(netns_fd, s->network == NET_VETH && !s->bridge, &box, &ping, &quiet);
        if (r < 0) {
                closep(&ping);
                return step_fail(err, "netlink", "box", r);
        }
        if (quiet < 0) {
                r = step_fail(err, "sysctl", "net.ipv6.conf.default", quiet);
                goto out;
        }
        /* Every box with a net namespace gets lo up. */
        r = link_up(box, 1, 0);
        if (r < 0) {
                step_fail(err, "link-up", "lo", r);
                goto out;
        }
        r = same_ping_groups(ping);
        if (r < 0) {
                step_fail(err, "sysctl", PING_GROUP_RANGE, r);
                goto out;
        }
        if (s->network != NET_VETH)
                goto out;
        snprintf(n->host_if, sizeof(n->host_if), "nsb%s", id);
        r = nl_open(&host);
        if (r < 0) {
                step_fail(err, "netlink", "host", r);
                goto out;
        }
        t = now_usec();
        r = make_veth(host, n->host_if, netns_fd);
        if (r < 0) {
                step_fail(err, "veth", n->host_if, r);
                goto out;
        }
        n->link_made = true;
        r = setup_host_end(host, s, n, err);
        if (r >= 0)
                r = setup_box_end(box, s, n, err);
        n->usec_links = now_usec() - t;
        t = now_usec();
        if (r >= 0)
                r = nft_box_add(s, n, err);
        n->usec_nft = now_usec() - t;
        if (r >= 0)
                n->in_nft = true;
out:
        if (host)
                mnl_socket_close(host);
        /* Holding a socket in the box's namespace would keep it alive. */
        mnl_socket_close(box);
        return r;
}

static void delete_link(const char *name)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct mnl_socket *nl;
        struct nlmsghdr *nlh;

        if (nl_open(&nl) < 0)
                return;
        nlh = link_msg(buf, RTM_DELLINK, 0, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        (void)nl_talk(nl, nlh, NULL, NULL);
        mnl_socket_close(nl);
}

static void drain_stop_watching(void)
{
        if (monitor) {
                loop_del(&monitor_w);
                mnl_socket_close(monitor);
                monitor = NULL;
                monitor_w.fd = -1;
        }
        if (drain_timer.fd >= 0) {
                loop_del(&drain_timer);
                closep(&drain_timer.fd);
        }
}

/* Drop the entries whose host end is gone; delete those past their grace. */
static void drain_check(void)
{
        unsigned long long now = now_usec(), next = 0;

        for (struct drain **p = &drains; *p;) {
                struct drain *d = *p;

                if (if_nametoindex(d->net.host_if) != 0 && d->deadline <= now) {
                        syslog(LOG_WARNING, "box net namespace outlived its box; deleting %s", d->net.host_if);
                        delete_link(d->net.host_if);
                }
                if (if_nametoindex(d->net.host_if) == 0) {
                        *p = d->next;
                        n_drains--;
                        free(d);
                        continue;
                }
                if (!next || d->deadline < next)
                        next = d->deadline;
                p = &d->next;
        }
        if (!drains) {
                drain_stop_watching();
                return;
        }
        struct itimerspec its = { .it_value = { .tv_sec = (time_t)(next / 1000000),
                                                .tv_nsec = (long)(next % 1000000) * 1000 } };
        (void)timerfd_settime(drain_timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_monitor(struct watch *w, uint32_t events)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];

        (void)w;
        (void)events;
        /* The events only say "look again"; an overflow (ENOBUFS) says the
         * same.  Read everything there is, then look. */
        while (recv(monitor_w.fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == ENOBUFS)
                ;
        drain_check();
}

static void on_drain_timer(struct watch *w, uint32_t events)
{
        uint64_t n;

        (void)events;
        (void)!read(w->fd, &n, sizeof(n));
        drain_check();
}

static int drain_watch(void)
{
        if (!monitor) {
                monitor = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (!monitor)
                        return negative_errno();
                monitor_w = (struct watch){ .fd = mnl_socket_get_fd(monitor), .cb = on_monitor };
                if (mnl_socket_bind(monitor, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0 || loop_add(&monitor_w, EPOLLIN) < 0)
                        goto fail;
        }
        if (drain_timer.fd < 0) {
                /* CLOCK_MONOTONIC, as now_usec() */
                drain_timer = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                              .cb = on_drain_timer };
                if (drain_timer.fd < 0 || loop_add(&drain_timer, EPOLLIN) < 0)
                        goto fail;
        }
        return 0;
fail:;
        int r = negative_errno();
        drain_stop_watching();
        return r;
}

/* One host end's addresses, as the host's address dump lists them. */
struct seen {
        int ifindex;
        struct box_net net;
};
struct sweep {
        struct seen *v;
        size_t n, room;
        bool failed;
};

static struct seen *seen_of(struct sweep *sw, int ifindex)
{
        for (size_t i = 0; i < sw->n; i++)
                if (sw->v[i].ifindex == ifindex)
                        return &sw->v[i];
        if (sw->n == sw->room) {
                size_t room = sw->room ? 2 * sw->room : 64;
                struct seen *v = reallocarray(sw->v, room, sizeof(*v));

                if (!v)
                        return NULL;
                sw->v = v;
                sw->room = room;
        }
        sw->v[sw->n] = (struct seen){ .ifindex = ifindex };
        return &sw->v[sw->n++];
}

static int sweep_cb(const struct nlmsghdr *nlh, void *data)
{
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        struct sweep *sw = data;
        const struct nlattr *attr;
        const void *local = NULL, *address = NULL;
        const char *label = NULL;
        struct seen *s;

        if (nlh->nlmsg_type != RTM_NEWADDR || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                return MNL_CB_OK;
        mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
                /* Point to point, IFA_ADDRESS is the peer's: IFA_LOCAL ours. */
                if (mnl_attr_get_type(attr) == IFA_LOCAL)
                        local = mnl_attr_get_payload(attr);
                else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
                        address = mnl_attr_get_payload(attr);
                else if (mnl_attr_get_type(attr) == IFA_LABEL && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
                        label = mnl_attr_get_str(attr);
        }
        if (!local)
                local = address;
        if (!local || ifa->ifa_scope == RT_SCOPE_LINK)
                return MNL_CB_OK;
        s = seen_of(sw, (int)ifa->ifa_index);
        if (!s) {
                sw->failed = true;
                return MNL_CB_OK;
        }
        if (ifa->ifa_family == AF_INET) {
                /* IPv4 names its interface; a routed host end has one. */
                if (label)
                        snprintf(s->net.host_if, sizeof(s->net.host_if), "%s", label);
                s->net.host4 = (struct addr){ .family = AF_INET };
                memcpy(s->net.host4.a, local, 4);
                s->net.has4 = true;
        } else {
                s->net.host6 = (struct addr){ .family = AF_INET6 };
                memcpy(s->net.host6.a, local, 16);
                s->net.has6 = true;
        }
        return MNL_CB_OK;
}

static bool host_end_name(const char *name)
{
        size_t n = strspn(name + 3, "0123456789abcdef");

        return strncmp(name, "nsb", 3) == 0 && n == NSBOX_ID_LEN && name[3 + n] == '\0';
}

void net_sweep(bool (*owned)(const char *host_if))
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct sweep sw = {};
        struct mnl_socket *nl;
        struct nlmsghdr *nlh;
        struct rtgenmsg *g;
        unsigned n = 0;

        if (nl_open(&nl) < 0)
                return;
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_GETADDR;
        nlh->nlmsg_flags = NLM_F_DUMP;
        g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
        g->rtgen_family = AF_UNSPEC;
        if (nl_talk(nl, nlh, sweep_cb, &sw) < 0 || sw.failed)
                syslog(LOG_WARNING, "event=sweep-failed: cannot list the host's addresses; host ends a helper before "
                                    "us left may hold leases it hands out");
        mnl_socket_close(nl);
        for (size_t i = 0; i < sw.n; i++) {
                struct box_net *net = &sw.v[i].net;
                struct drain *d;

                if (!host_end_name(net->host_if) || owned(net->host_if) || net_draining(net->host_if))
                        continue;
                d = calloc(1, sizeof(*d));
                if (!d || drain_watch() < 0) {
                        free(d);
                        break;
                }
                net->link_made = true;
                d->net = *net;
                d->deadline = now_usec() + DRAIN_GRACE_MS * 1000ULL;
                d->next = drains;
                drains = d;
                n_drains++;
                n++;
        }
        free(sw.v);
        if (n) {
                syslog(LOG_NOTICE, "event=sweep host-ends=%u: host ends no box owns (networks a helper before us made "
                                   "ahead, or boxes that ended meanwhile) keep their leases until they are gone", n);
                drain_check();
        }
}

bool net_draining(const char *host_if)
{
        for (struct drain *d = drains; d; d = d->next)
                if (strcmp(d->net.host_if, host_if) == 0)
                        return true;
        return false;
}

unsigned net_drain_count(void)
{
        return n_drains;
}

void net_teardown_now(struct box_net *n)
{
        if (n->in_nft)
                nft_box_del(n);
        n->in_nft = false;
        if (n->link_made)
                delete_link(n->host_if);
        n->link_made = false;
}

void net_teardown(struct box_net *n)
{
        struct drain *d;

        if (n->in_nft)
                nft_box_del(n);
        n->in_nft = false;
        if (!n->link_made)
                return;
        n->link_made = false;
        d = calloc(1, sizeof(*d));
        if (!d || drain_watch() < 0) {
                /* Cannot wait for the kernel: delete it now, the slow way. */
                free(d);
                delete_link(n->host_if);
                return;
        }
        d->net = *n;
        d->deadline = now_usec() + DRAIN_GRACE_MS * 1000ULL;
        d->next = drains;
        drains = d;
        n_drains++;
        drain_check();
}
