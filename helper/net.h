/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's network: the veth pair, its addresses and routes (rtnetlink with
 * libmnl), and its place in the project's nftables table (libnftables). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "helper.h"
#include "netaddr.h"

struct box_net {
        char host_if[16];       /* "nsb<ID>", the host end */
        bool has4, has6;
        struct addr host4, box4, host6, box6;
        unsigned prefix4, prefix6;      /* the box's prefix lengths */
        bool link_made;
        bool in_nft;
        bool nft_isolated, nft_nat;     /* the sets it is in */
        unsigned long long usec_links, usec_nft;        /* for debug: what setup cost */
};

/* Addresses for a new box: the lowest block of each pool that holds none
 * of the used addresses (those of the live boxes) nor any of an ended box
 * whose pair still exists. */
int net_lease(const struct box_spec *s, const struct addr *used, size_t n_used, struct box_net *ret,
              struct step_error *err);
/* The addresses that name a box's lease, one per pool (up to 2): its host
 * end's; the box's own are in the same block. */
size_t net_lease_addresses(const struct box_net *n, struct addr out[2]);

/* A new net namespace, made here but not entered: its fd. */
int net_new_namespace(int *ret);

/* Configure the box's network.  netns_fd is the box's net namespace. */
int net_setup(const struct box_spec *s, const char *id, int netns_fd, struct box_net *n, struct step_error *err);

/* Take the box out of nftables, and keep its lease until the kernel has
 * removed its veth pair (with the box's net namespace). */
void net_teardown(struct box_net *n);

/* The same, and the pair deleted at once, its lease free on return: for a
 * network that nothing runs in. */
void net_teardown_now(struct box_net *n);

/* At start, after the takeover: the host ends that no box owns (the
 * networks a killed helper had made ahead, pairs of boxes that ended while
 * no helper ran), which the kernel is still removing or someone holds,
 * keep their leases as an ended box's pair does, and go after its grace. */
void net_sweep(bool (*owned)(const char *host_if));

/* Does an ended box whose pair still exists hold this name? */
bool net_draining(const char *host_if);
unsigned net_drain_count(void);

/* host.c: forwarding on the host, for routed boxes; undone when none is
 * left (host_restore), or by the next helper (host_recover), which keeps
 * them when it takes boxes over. */
int host_forwarding_on(bool ipv6, const char *why, struct step_error *err);
void host_restore(void);
void host_recover(bool keep);

/* nft.c */
int nft_box_add(const struct box_spec *s, struct box_net *n, struct step_error *err);
void nft_box_del(const struct box_net *n);
/* At start: the table made anew, in one transaction, with the elements of
 * the boxes taken over (none: a table a helper before us left goes). */
/* At start, before any other fd: the low fd libnftables' socket will take. */
void nft_reserve(void);
int nft_adopt(const struct box_net *const *nets, size_t n);
/* At exit: the table goes unless boxes that need it stay. */
void nft_exit(void);
