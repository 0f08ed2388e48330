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
 *   nat4/6    box addresses to masquerade (nat = yes) */
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>

#include "daemon.h"
#include "net.h"
#include "util.h"

#define TABLE_LINGER_SEC 2

static struct nft_ctx *nft;
static unsigned n_members;
static struct watch linger = { .fd = -1 };
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

static void ctx_free(void)
{
        nft_ctx_free(nft);
        nft = NULL;
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
        if (!now && linger.fd < 0) {
                linger = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                         .cb = on_linger };
                if (linger.fd >= 0 && loop_add(&linger, EPOLLIN) < 0)
                        closep(&linger.fd);
        }
        if (now || linger.fd < 0 || timerfd_settime(linger.fd, 0, &its, NULL) < 0)
                drop_table();
}


/* The "add" or "delete" commands for a box's set elements: its host end in
 * ifaces; with isolation, in isolated and with its addresses in src4/src6;
 * with nat, its addresses in nat4/nat6. */
static int elements_cmd(const char *verb, const struct box_net *n, char *cmd, size_t size)
{
        char b4[64], b6[64];
        size_t len = 0;

        addr_format(&n->box4, b4, sizeof(b4));
        addr_format(&n->box6, b6, sizeof(b6));
#define PUT(...) len += (size_t)snprintf(cmd + len, len < size ? size - len : 0, __VA_ARGS__)
        PUT("%s element inet nsbox ifaces { \"%s\" }\n", verb, n->host_if);
        if (n->nft_isolated) {
                PUT("%s element inet nsbox isolated { \"%s\" }\n", verb, n->host_if);
                PUT("%s element inet nsbox src4 { \"%s\" . %s }\n", verb, n->host_if, b4);
                if (n->has6)
                        PUT("%s element inet nsbox src6 { \"%s\" . %s }\n", verb, n->host_if, b6);
        }
        if (n->nft_nat) {
                PUT("%s element inet nsbox nat4 { %s }\n", verb, b4);
                if (n->has6)
                        PUT("%s element inet nsbox nat6 { %s }\n", verb, b6);
        }
#undef PUT
        return len < size ? 0 : -E2BIG;
}

int nft_box_add(const struct box_spec *s, struct box_net *n, struct step_error *err)
{
        char cmd[1024];
        int r;

        n->nft_isolated = s->isolate;
        n->nft_nat = s->nat;
        if (elements_cmd("add", n, cmd, sizeof(cmd)) < 0)
                return -E2BIG;

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
        }
        n_members++;
        r = nft_apply(cmd, err);
        if (r < 0) {
                n_members--;
                drop_table_if_unused(false);
        }
        return r;
}

void nft_box_del(const struct box_net *n)
{
        struct step_error err = {};
        char cmd[1024];
        int r;

        /* Exactly what nft_box_add put in, in one transaction: the table may
         * linger and be used again, by boxes that get these addresses. */
        n_members--;
        r = elements_cmd("delete", n, cmd, sizeof(cmd));
        r = r < 0 ? step_fail(&err, "nftables", "command", r) : nft_apply(cmd, &err);
        if (r < 0) {
                /* The table cannot be trusted to hold only live boxes: drop
                 * it now if it is unused, and say so either way, once. */
                syslog(LOG_ERR, "event=nft-failed step=remove-elements object=%s: %s", n->host_if, err.object);
                drop_table_if_unused(true);
                return;
        }
        drop_table_if_unused(false);
}

int nft_adopt(const struct box_net *const *nets, size_t n)
{
        _cleanup_free_ char *cmd = NULL;
        struct step_error err = {};
        size_t size = 0;
        FILE *f = open_memstream(&cmd, &size);
        int r = f ? 0 : -ENOMEM;

        /* "add" first, so that "delete" always has a table to delete. */
        if (f)
                fputs("add table inet nsbox\ndelete table inet nsbox\n", f);
        if (f && n > 0)
                fputs(table_def, f);
        for (size_t i = 0; f && i < n && r == 0; i++) {
                char one[1024];

                r = elements_cmd("add", nets[i], one, sizeof(one));
                fputs(one, f);
        }
        if (f && fclose(f) != 0)
                r = -ENOMEM;
        if (r == 0)
                r = nft_apply(cmd, &err);
        if (r < 0) {
                syslog(LOG_ERR, "event=nft-failed step=adopt object=\"table inet nsbox\" boxes=%zu: %s", n,
                       err.object[0] ? err.object : strerror(-r));
                n_members = 0;
                return r;
        }
        n_members = (unsigned)n;
        if (n == 0)
                ctx_free();
        return 0;
}

void nft_exit(void)
{
        if (n_members == 0 && nft)
                drop_table();
}
