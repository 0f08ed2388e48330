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
};

/* Addresses for a new box: the lowest free block of each pool. */
int net_lease(const struct box_spec *s, bool (*taken)(const struct addr *block, void *), void *userdata,
              struct box_net *ret, struct step_error *err);

/* Configure the box's network.  netns_fd is the box's net namespace. */
int net_setup(const struct box_spec *s, const char *id, int netns_fd, struct box_net *n, struct step_error *err);

/* Take the box out of nftables, and keep its lease until the kernel has
 * removed its veth pair (with the box's net namespace). */
void net_teardown(struct box_net *n);

/* Does an ended box whose pair still exists hold this block or this name? */
bool net_draining(const struct cidr *block, const char *host_if);
unsigned net_drain_count(void);

/* nft.c */
int nft_box_add(const struct box_spec *s, struct box_net *n, struct step_error *err);
void nft_box_del(const struct box_net *n);
