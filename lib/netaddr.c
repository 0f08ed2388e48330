/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

size_t addr_len(int family)
{
        return family == AF_INET ? 4 : 16;
}

int addr_parse(const char *s, struct addr *ret)
{
        struct addr a = {};

        if (inet_pton(AF_INET, s, a.a) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, a.a) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

int cidr_parse(const char *s, struct cidr *ret)
{
        _cleanup_free_ char *copy = NULL;
        struct cidr c = {};
        unsigned long prefix;
        char *slash;
        size_t bits;

        if (xstrdup(&copy, s) < 0)
                return -ENOMEM;
        slash = strchr(copy, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        if (addr_parse(copy, &c.base) < 0)
                return -EINVAL;
        bits = addr_len(c.base.family) * 8;
        if (parse_uint(slash + 1, bits, &prefix) < 0)
                return -EINVAL;
        c.prefix = (unsigned)prefix;
        for (size_t i = c.prefix; i < bits; i++)
                if (c.base.a[i / 8] & (0x80 >> (i % 8)))
                        return -EINVAL; /* host bits set */
        *ret = c;
        return 0;
}

void addr_format(const struct addr *a, char *buf, size_t size)
{
        if (!inet_ntop(a->family, a->a, buf, (socklen_t)size))
                snprintf(buf, size, "?");
}

bool addr_equal(const struct addr *x, const struct addr *y)
{
        return x->family == y->family && memcmp(x->a, y->a, addr_len(x->family)) == 0;
}

bool addr_is_loopback(const struct addr *a)
{
        static const uint8_t v6lo[16] = { [15] = 1 };

        return (a->family == AF_INET && a->a[0] == 127) || (a->family == AF_INET6 && memcmp(a->a, v6lo, 16) == 0);
}

bool cidr_contains(const struct cidr *c, const struct addr *a)
{
        if (a->family != c->base.family)
                return false;
        for (unsigned i = 0; i < c->prefix; i++) {
                uint8_t m = 0x80 >> (i % 8);
                if ((a->a[i / 8] & m) != (c->base.a[i / 8] & m))
                        return false;
        }
        return true;
}

uint64_t pool_blocks(const struct cidr *pool)
{
        unsigned bits = (unsigned)addr_len(pool->base.family) * 8;
        unsigned free_bits = bits - pool->prefix;

        if (free_bits < BLOCK_SHIFT)
                return 0;
        free_bits -= BLOCK_SHIFT;
        /* More blocks than any machine will lease: cap to keep arithmetic simple. */
        return free_bits >= 32 ? (1ULL << 32) : (1ULL << free_bits);
}

/* a += n, for n below 2^40 (enough for block offsets), big-endian bytes. */
static void addr_add(struct addr *a, uint64_t n)
{
        for (int i = (int)addr_len(a->family) - 1; i >= 0 && n; i--) {
                uint64_t v = a->a[i] + (n & 0xff);
                a->a[i] = (uint8_t)v;
                n = (n >> 8) + (v >> 8);
        }
}

int pool_addr(const struct cidr *pool, uint64_t index, unsigned off, struct addr *ret)
{
        struct addr a = pool->base;

        if (index >= pool_blocks(pool) || off > 3)
                return -ERANGE;
        addr_add(&a, (index << BLOCK_SHIFT) + off);
        *ret = a;
        return 0;
}

/* The block of the pool that holds a, if a is in one of its first
 * pool_blocks() blocks. */
static bool block_of(const struct cidr *pool, const struct addr *a, uint64_t *ret)
{
        size_t len = addr_len(pool->base.family);
        uint64_t off = 0;
        int borrow = 0;

        if (!cidr_contains(pool, a))
                return false;
        /* a - base, big-endian; only the low 8 bytes may differ for an
         * index that fits. */
        for (int i = (int)len - 1; i >= 0; i--) {
                int d = (int)a->a[i] - (int)pool->base.a[i] - borrow;

                borrow = d < 0;
                d += borrow ? 256 : 0;
                if (i < (int)len - 8) {
                        if (d != 0)
                                return false;
                } else
                        off |= (uint64_t)d << (8 * (len - 1 - (size_t)i));
        }
        off >>= BLOCK_SHIFT;
        if (off >= pool_blocks(pool))
                return false;
        *ret = off;
        return true;
}

/* The lowest block neither avoided nor used.  It is at most n_used + 1
 * (there are only so many taken), so a bitmap of that many answers it in
 * one pass, without sorting. */
int pool_alloc(const struct cidr *pool, const struct addr *avoid, const struct addr *used, size_t n_used,
               uint64_t *ret_index)
{
        size_t room = n_used + 2;
        _cleanup_free_ uint64_t *taken = calloc((room + 63) / 64, sizeof(uint64_t));
        uint64_t n = pool_blocks(pool), idx;

        if (!taken)
                return -ENOMEM;
        if (avoid && block_of(pool, avoid, &idx) && idx < room)
                taken[idx / 64] |= 1ULL << (idx % 64);
        for (size_t i = 0; i < n_used; i++)
                if (used[i].family == pool->base.family && block_of(pool, &used[i], &idx) && idx < room)
                        taken[idx / 64] |= 1ULL << (idx % 64);
        for (idx = 0; idx < room && (taken[idx / 64] >> (idx % 64)) & 1; idx++)
                ;
        if (idx >= n)
                return -ENOSPC;
        *ret_index = idx;
        return 0;
}
