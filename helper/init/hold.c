/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a box's init holds so that the box outlives its helper.
 *
 * The helper tells the init of every session (MSG_CLAIM, with a pidfd of
 * the login process) and of every close (MSG_RELEASE), and gives it its
 * record of the box (MSG_RECORD) once the box runs.  The init keeps them,
 * and the spec it was built from, and watches the helper through a pidfd.
 *
 * While a helper lives, it decides when the box ends.  When it is gone
 * (killed, crashed, stopped for an upgrade) the init decides alone, as the
 * helper would have: the box ends when its last login process has exited
 * and the linger is over.  A new helper takes the box over (MSG_ADOPT): the
 * init gives back the record, the spec and each claim with its pidfd, and
 * from MSG_ADOPTED on watches that helper instead.
 *
 * The link is never at EOF: the init holds the helper's end too (fd 5), so
 * that a new helper can take it (pidfd_getfd, which needs root's ptrace
 * rights over this process: nobody else has them), and what the old helper
 * sent before it died is still read. */
#include <limits.h>
#include <poll.h>
#include <sys/param.h>
#include <sys/socket.h>

#include "hold.h"
#include "proto.h"
#include "util.h"

#define MAX_CLAIMS 1024

struct claim {
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct session_entry se;
        int pidfd;
};

static struct claim *claims;
static size_t n_claims;
static void *spec_raw, *record_raw;
static size_t spec_len, record_len;
static int helper_pidfd = -1;
static unsigned linger_sec;
static unsigned long long unclaimed_since;     /* µs, when the last claim ended; 0 while one holds */
static bool link_gone;

void hold_init(const struct msg *spec, unsigned linger, int helper)
{
        spec_len = msg_len(spec);
        spec_raw = malloc(spec_len);
        if (spec_raw)
                memcpy(spec_raw, spec->buf, spec_len);
        linger_sec = linger;
        helper_pidfd = helper;
        unclaimed_since = now_usec();
}

static void claim_drop(size_t i)
{
        closep(&claims[i].pidfd);
        claims[i] = claims[--n_claims];
        if (n_claims == 0)
                unclaimed_since = now_usec();
}

static void claim_add(const struct msg *m, int fd)
{
        struct claim c = { .pidfd = fd };
        struct claim *v;

        if (fd < 0 || proto_parse_claim(m, c.cookie, &c.se) < 0 || n_claims >= MAX_CLAIMS) {
                closep(&fd);
                return;
        }
        v = reallocarray(claims, n_claims + 1, sizeof(*v));
        if (!v) {
                close(fd);
                return;
        }
        claims = v;
        claims[n_claims++] = c;
        unclaimed_since = 0;
}

static void claim_release(const struct msg *m)
{
        uint8_t cookie[NSBOX_COOKIE_LEN];

        if (proto_parse_release(m, cookie) < 0)
                return;
        for (size_t i = 0; i < n_claims; i++)
                if (memcmp(claims[i].cookie, cookie, sizeof(cookie)) == 0) {
                        claim_drop(i);
                        return;
                }
}

static void keep_record(const struct msg *m)
{
        char id[NSBOX_ID_LEN + 1];
        uint8_t token[NSBOX_TOKEN_LEN];
        static char buf[NSBOX_RECORD_MAX];
        size_t n;
        void *copy;

        if (proto_parse_record(m, id, token, buf, sizeof(buf), &n) < 0 || !(copy = malloc(msg_len(m))))
                return;
        memcpy(copy, m->buf, msg_len(m));
        free(record_raw);
        record_raw = copy;
        record_len = msg_len(m);
}

static int send_raw(int sock, struct msg *m, const void *raw, size_t len)
{
        memcpy(m->buf, raw, len);
        return msg_send(sock, m, -1);
}

/* Everything a new helper needs, in order: the record, the spec, each
 * claim with its pidfd, and the end.  Without a record (the box never ran
 * under a helper) only the end: the helper refuses such a box. */
static void tell_adopter(int sock)
{
        struct msg *m = malloc(sizeof(*m));
        unsigned long long idle = unclaimed_since ? now_usec() - unclaimed_since : 0;
        int r = m ? 0 : -ENOMEM;

        if (r == 0 && record_raw && spec_raw) {
                r = send_raw(sock, m, record_raw, record_len);
                if (r == 0)
                        r = send_raw(sock, m, spec_raw, spec_len);
                for (size_t i = 0; r == 0 && i < n_claims; i++) {
                        msg_init(m, MSG_CLAIM);
                        r = proto_put_claim(m, claims[i].cookie, &claims[i].se);
                        if (r == 0)
                                r = msg_send(sock, m, claims[i].pidfd);
                }
        }
        if (r == 0) {
                msg_init(m, MSG_ADOPT_END);
                r = proto_put_adopt_end(m, record_raw ? (uint32_t)n_claims : 0, idle);
                if (r == 0)
                        (void)msg_send(sock, m, -1);
        }
        free(m);
}

/* One message from the helper.  Anything else than these is dropped. */
static void on_message(int sock)
{
        struct msg *m = malloc(sizeof(*m));
        int fd = -1, r;

        r = m ? msg_recv(sock, m, &fd) : -ENOMEM;
        if (r == -ECONNRESET)
                link_gone = true;       /* only if nobody holds the helper's end */
        if (r < 0) {
                free(m);
                return;
        }
        switch (msg_type(m)) {
        case MSG_CLAIM:
                claim_add(m, TAKE_FD(fd));
                break;
        case MSG_RELEASE:
                claim_release(m);
                break;
        case MSG_RECORD:
                keep_record(m);
                break;
        case MSG_ADOPT:
                if (proto_parse_empty(m) == 0)
                        tell_adopter(sock);
                break;
        case MSG_ADOPTED:
                if (fd >= 0 && proto_parse_empty(m) == 0) {
                        closep(&helper_pidfd);
                        helper_pidfd = TAKE_FD(fd);
                }
                break;
        }
        closep(&fd);
        free(m);
}

static bool orphaned(void)
{
        return helper_pidfd < 0 || link_gone;
}

/* With no helper: read what it sent before it went, first -- a claim it
 * made just before may still be on its way --, then say whether the box
 * ends now, or in how many ms (-1: not while a claim holds). */
static int orphan_deadline(int sync_fd, int *ret_timeout)
{
        struct pollfd q = { .fd = sync_fd, .events = POLLIN };
        unsigned long long end, now;

        *ret_timeout = -1;
        while (!link_gone && poll(&q, 1, 0) > 0)
                on_message(sync_fd);
        /* A box that no helper ever recorded had no login: it ends. */
        if (!record_raw)
                return HOLD_END;
        if (n_claims > 0)
                return HOLD_AGAIN;
        end = unclaimed_since + linger_sec * 1000000ULL;
        now = now_usec();
        if (now >= end)
                return HOLD_END;
        *ret_timeout = (int)MIN((end - now + 999) / 1000, (unsigned long long)INT_MAX);
        return HOLD_AGAIN;
}

int hold_wait(int sync_fd, int signal_fd)
{
        _cleanup_free_ struct pollfd *p = NULL;
        int timeout = -1, k;
        size_t n;

        if (orphaned() && orphan_deadline(sync_fd, &timeout) == HOLD_END)
                return HOLD_END;
        n = n_claims + 3;
        p = calloc(n, sizeof(*p));
        if (!p)
                return HOLD_END;        /* cannot watch: as if the helper were gone with no claim */
        p[0] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = link_gone ? -1 : sync_fd, .events = POLLIN };
        p[2] = (struct pollfd){ .fd = helper_pidfd, .events = POLLIN };
        for (size_t i = 0; i < n_claims; i++)
                p[3 + i] = (struct pollfd){ .fd = claims[i].pidfd, .events = POLLIN };
        k = poll(p, n, timeout);
        if (k < 0)
                return errno == EINTR ? HOLD_AGAIN : HOLD_END;
        /* The claims first, from the last: a dropped one takes the last's place. */
        for (size_t i = n_claims; i-- > 0;)
                if (p[3 + i].revents)
                        claim_drop(i);
        if (p[2].revents)
                closep(&helper_pidfd);
        if (p[1].revents)
                on_message(sync_fd);
        return p[0].revents ? HOLD_SIGNAL : HOLD_AGAIN;
}
