/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networks made ahead of logins: for each kind of veth network that live
 * boxes have (the policy's network keys), up to prepared_networks of them,
 * each a net namespace with its veth pair, addresses, routes, sysctls and
 * nftables elements, ready for a new box to be started in.  The expensive
 * kernel work (a net namespace, links, and the host's route tables that
 * each link change walks) is done while the helper is idle, off the
 * login path, from a second after a kind's first box on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "net.h"

/* A veth box of this kind has started, or been taken over / has ended.
 * The kind's networks are kept while such a box lives, and go with the
 * last. */
void prepared_box_started(const struct box_spec *s);
void prepared_box_ended(const struct box_spec *s);
/* A prepared network for a new box of spec's kind: the id the box takes
 * (its host end's name), its network, and its net namespace, now the
 * caller's.  False when none is ready. */
bool prepared_take(const struct box_spec *s, char id[NSBOX_ID_LEN + 1], struct box_net *net, int *ret_netns);
/* Give every lease back at once (a login found its pool full). */
bool prepared_drop_all(void);
/* Is a network to be made, and make it (one per call). */
bool prepared_wanted(void);
/* When one will be (a kind's boxes have lived long enough, or a failure's
 * wait is over): milliseconds, or -1. */
int prepared_next_ms(void);
void prepared_make_one(void);
/* For leases and names: how many there are, their addresses (up to two
 * each), and whether one holds this box id. */
size_t prepared_count(void);
size_t prepared_addresses(struct addr *out);
bool prepared_has(const char *id);
