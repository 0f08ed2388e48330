/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boxes made ahead of logins: for each kind of box that live boxes have
 * (the policy's namespaces and network keys), up to prepared_boxes of
 * them, each an nsbox-init waiting in the box's new namespaces for its
 * spec, and for a veth box in a net namespace with its veth pair,
 * addresses, routes, sysctls and nftables elements.  The expensive kernel
 * work (namespaces, an exec, links, and the host's route tables that each
 * link change walks) is done while the helper is idle, off the login
 * path.  A kind's boxes are kept while its boxes live, and prepared_linger
 * after the last. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net.h"

/* A prepared box's init: its pid and pidfd, and the helper's end of its
 * link.  It waits for its spec (with the user namespace, if any). */
struct prepared_init {
        pid_t pid;
        int pidfd, sync;
};

/* The /proc/self/mountinfo watch, once at start: with none, no box is
 * made ahead. */
int prepared_watch_mounts(void);
/* A box of this kind has started, or been taken over (true: it is
 * counted, and its end must be said), or has ended. */
bool prepared_box_started(const struct box_spec *s);
void prepared_box_ended(const struct box_spec *s);
/* A prepared box for a new box of spec's kind: its init, now the
 * caller's, and for a veth box the id the box takes (its host end's name)
 * and its network.  False when none is ready. */
bool prepared_take(const struct box_spec *s, char id[NSBOX_ID_LEN + 1], struct box_net *net,
                   struct prepared_init *ret_init);
/* Give every lease back at once (a login found its pool full). */
bool prepared_drop_all(void);
/* Is a box to be made, and make it (one per call). */
bool prepared_wanted(void);
/* When there is something to do (a failure's or a mount change's wait is
 * over, a kind's linger runs out): milliseconds, or -1. */
int prepared_next_ms(void);
void prepared_make_one(void);
/* Are boxes kept, or a kind lingering: the helper stays for them. */
bool prepared_lingering(void);
/* For leases and names: how many there are, their addresses (up to two
 * each), and whether one holds this box id. */
size_t prepared_count(void);
size_t prepared_addresses(struct addr *out);
bool prepared_has(const char *id);
