/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's one event loop: an epoll set of watches, each an fd and
 * what to call when it is ready. */
#pragma once

#include <stdint.h>

struct watch {
        int fd;
        void (*cb)(struct watch *w, uint32_t events);
};

int loop_init(void);
int loop_add(struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
/* Out of the loop, and out of the batch being dispatched: a callback may
 * free what a later event of the same batch points to. */
void loop_del(struct watch *w);
/* Wait up to timeout_ms (-1: for ever) and dispatch what is ready: the
 * number of events, 0 when the time ran out, or -errno. */
int loop_dispatch(int timeout_ms);
