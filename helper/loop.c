/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "loop.h"

#include <sys/epoll.h>

#include "util.h"

static int epfd = -1;

/* The batch epoll_wait returned, while its events are dispatched: one
 * event's callback may free what a later event of the same batch points
 * to (a CLOSE and the login's exit arrive together), so a watch taken out
 * of the loop is also taken out of the rest of the batch. */
static struct epoll_event *batch;
static int batch_n, batch_i;

int loop_init(void)
{
        epfd = epoll_create1(EPOLL_CLOEXEC);
        return epfd < 0 ? negative_errno() : 0;
}

int loop_add(struct watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
                return negative_errno();
        return 0;
}

int loop_mod(struct watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
                return negative_errno();
        return 0;
}

void loop_del(struct watch *w)
{
        if (w->fd >= 0)
                epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
        for (int i = batch_i + 1; batch && i < batch_n; i++)
                if (batch[i].data.ptr == w)
                        batch[i].data.ptr = NULL;
}

int loop_dispatch(int timeout_ms)
{
        struct epoll_event ev[32];
        int n = epoll_wait(epfd, ev, ARRAY_SIZE(ev), timeout_ms);

        if (n < 0)
                return errno == EINTR ? 1 : negative_errno();
        batch = ev;
        batch_n = n;
        for (batch_i = 0; batch_i < n; batch_i++) {
                struct watch *w = ev[batch_i].data.ptr;

                if (w)
                        w->cb(w, ev[batch_i].events);
        }
        batch = NULL;
        return n;
}
