/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and the lease pools: each veth box gets one block of a pool, a
 * /30 of pool4 (host end .1, box .2) and a /126 of pool6 (::1 and ::2). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addr {
        int family;             /* AF_INET or AF_INET6 */
        uint8_t a[16];
};

struct cidr {
        struct addr base;
        unsigned prefix;
};

int addr_parse(const char *s, struct addr *ret);
int cidr_parse(const char *s, struct cidr *ret);        /* host bits must be zero */
void addr_format(const struct addr *a, char *buf, size_t size);
/* The bytes of an address of the family: 4 for AF_INET, else 16. */
size_t addr_len(int family);
bool addr_equal(const struct addr *x, const struct addr *y);
bool addr_is_loopback(const struct addr *a);
bool cidr_contains(const struct cidr *c, const struct addr *a);

/* Blocks of 4 addresses (a /30 or a /126) in a pool. */
#define BLOCK_SHIFT 2
uint64_t pool_blocks(const struct cidr *pool);
/* The address at offset `off` (0..3) of block `index`. */
int pool_addr(const struct cidr *pool, uint64_t index, unsigned off, struct addr *ret);

/* The lowest block that holds none of the n_used addresses (those of live
 * leases, of any pool and family) and not `avoid` (a gateway inside the
 * pool), if given.  O(n log n).  -ENOSPC when full. */
int pool_alloc(const struct cidr *pool, const struct addr *avoid, const struct addr *used, size_t n_used,
               uint64_t *ret_index);
