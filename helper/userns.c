/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The box's user namespace.
 *
 * It is created by a clone() made while our effective ids are the user's,
 * so that the user owns it: that is what lets `nsbox root` (no setuid bit
 * anywhere) enter it later.  Its maps are written from outside, by us, as
 * root: box uid 0 is the user, box uids 1..N the user's subordinate range.  The
 * session's own namespaces are not owned by it; they stay owned by the
 * initial user namespace, where the user has no capability. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/param.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "helper.h"
#include "util.h"

static int write_proc(pid_t pid, const char *file, const char *text)
{
        char path[64];
        _cleanup_close_ int fd = -1;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        /* A map is written once, whole, in a single write(). */
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return negative_errno();
        return 0;
}

static void format_map(char *buf, size_t sz, uint32_t own, uint32_t start, uint32_t count)
{
        if (count)
                snprintf(buf, sz, "0 %u 1\n1 %u %u\n", own, start, count);
        else
                snprintf(buf, sz, "0 %u 1\n", own);
}

/* The namespace's first process only waits until its maps are written and
 * the namespace is held by an fd; then it is killed.  Usually it shares our memory and fd
 * table: no copy of either is made, nor torn down when it exits, where both
 * grow with the number of boxes; see clone_as(). */
struct holder {
        int go[2];
        int ready[2];
        int pidfd;
        pid_t helper;
        const struct box_spec *spec;
        bool own_memory;
};

/* Close every fd from 3 up but a and b. */
static void close_all_but(int a, int b)
{
        int lo = MIN(a, b), hi = MAX(a, b);

        if (lo > 3)
                close_range(3, (unsigned)lo - 1, 0);
        if (hi > lo + 1)
                close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
        close_range((unsigned)hi + 1, ~0U, 0);
}

static int hold_child(void *arg)
{
        struct holder *h = arg;
        const struct box_spec *s = h->spec;
        char c = 'u';

        if (h->own_memory) {
                /* A copy of our memory and fds: keep only the two pipe ends,
                 * become the user wholly, and make the namespace from there,
                 * as a process of the user's own. */
                close_all_but(h->go[0], h->ready[1]);
                if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
                    setresuid(s->uid, s->uid, s->uid) < 0 || unshare(CLONE_NEWUSER) < 0)
                        return 1;
        } else {
                /* Our fd table is the helper's: should the helper die, the
                 * write end stays open here, so go with it. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != h->helper)
                        c = 'x';
        }
        if (write(h->ready[1], &c, 1) != 1 || c != 'u')
                return 1;
        /* Until the helper, done with us, kills us; EOF if it is gone. */
        (void)!read(h->go[0], &c, 1);
        return 0;
}

/* A child sharing our memory runs with our real and saved uid 0 and is
 * owned, as a namespace member, by the user: only a non-dumpable mm keeps
 * the user from ptrace()ing it and so writing to the helper.  That holds
 * unless fs.suid_dumpable is 1 ("debug", documented as insecure), where we
 * take the slower way of a copied child that becomes the user. */
static bool may_share_memory(void)
{
        _cleanup_close_ int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
        char c = '1';

        if (fd < 0 || read(fd, &c, 1) != 1)
                return false;
        return c == '0' || c == '2';
}

/* A user namespace is owned by the effective ids of its creator: become the
 * user for the one clone() that makes it, then root again at once. */
static pid_t clone_as(struct holder *h)
{
        static char stack[8192] __attribute__((aligned(16)));
        const struct box_spec *s = h->spec;
        pid_t pid;
        int e;

        h->own_memory = !may_share_memory();
        h->helper = getpid();
        if (h->own_memory)
                return clone(hold_child, stack + sizeof(stack), CLONE_PIDFD | SIGCHLD, h, &h->pidfd);
        if (setresgid((gid_t)-1, s->gid, (gid_t)-1) < 0)
                return -1;
        if (setresuid((uid_t)-1, s->uid, (uid_t)-1) < 0) {
                e = errno;
                if (setresgid((gid_t)-1, 0, (gid_t)-1) < 0)
                        abort();
                errno = e;
                return -1;
        }
        pid = clone(hold_child, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD,
                    h, &h->pidfd);
        e = errno;
        /* Staying the user would build every later box as the user. */
        if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0)
                abort();
        /* The id changes reset the mm's dumpable flag to fs.suid_dumpable. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        errno = e;
        return pid;
}

/* The holder's pipes and the child's pidfd. */
static void holder_close(struct holder *h)
{
        closep(&h->pidfd);
        closep(&h->go[0]);
        closep(&h->go[1]);
        closep(&h->ready[0]);
        closep(&h->ready[1]);
}

/* How long a child that becomes the user wholly may take to make its
 * namespace.  It is the user's own process from its setresuid() on, which
 * the user may stop: the wait is bounded, and what stops is killed. */
#define HOLDER_TIMEOUT_MS 2000

/* The child's word, or -ECHILD if it died first (the user may kill it),
 * -ETIMEDOUT if it said nothing in time (the user may stop it). */
static int wait_ready(struct holder *h, char *c)
{
        struct pollfd p[2] = { { .fd = h->ready[0], .events = POLLIN }, { .fd = h->pidfd, .events = POLLIN } };
        unsigned long long deadline = now_usec() + HOLDER_TIMEOUT_MS * 1000ULL;
        int n;

        for (;;) {
                int ms = ms_until(deadline);

                if (ms == 0)
                        return -ETIMEDOUT;
                n = poll(p, 2, ms);
                if (n > 0)
                        break;
                if (n < 0 && errno != EINTR)
                        return negative_errno();
        }
        if (!(p[0].revents & POLLIN) || read(h->ready[0], c, 1) != 1)
                return -ECHILD;
        return 0;
}

/* The child's end: it is killed, not asked, so that nothing it may be made
 * to do (stopped, traced by root, starved) holds up the helper.  SIGKILL
 * ends a stopped process too, and reaping it then takes no time. */
static void holder_end(struct holder *h, pid_t pid)
{
        if (h->pidfd >= 0)
                (void)pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0);
        else
                (void)kill(pid, SIGKILL);
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
                ;
}

int userns_create(const struct box_spec *s, int *ret_fd, struct step_error *err)
{
        struct holder h = { .go = { -1, -1 }, .ready = { -1, -1 }, .pidfd = -1, .spec = s };
        char map[128], path[64], c;
        pid_t pid;
        int r = 0;

        if (pipe2(h.go, O_CLOEXEC) < 0)
                return negative_errno();
        if (pipe2(h.ready, O_CLOEXEC) < 0) {
                r = negative_errno();
                holder_close(&h);
                return r;
        }
        pid = clone_as(&h);
        if (pid < 0) {
                r = negative_errno();
                holder_close(&h);
                return step_failf(err, "userns", r, "uid %u", (unsigned)s->uid);
        }
        /* A child with a copy of our fds has its own ends: ours must go
         * for EOF to tell of either side's death.  It makes the namespace
         * itself, so we wait for its word, for a while.  A child sharing
         * our memory was made in the namespace by clone(): there is
         * nothing to wait for, whatever the user does to it. */
        if (h.own_memory) {
                closep(&h.go[0]);
                closep(&h.ready[1]);
                r = wait_ready(&h, &c);
                if (r < 0 || c != 'u') {
                        r = step_failf(err, "userns", r == -ETIMEDOUT ? r : -ECHILD, "uid %u: its first process %s",
                                       (unsigned)s->uid, r == -ETIMEDOUT ? "was stopped" : "died");
                        goto out;
                }
        }
        /* setgroups stays allowed only when the admin gave the user
         * subordinate gids: else dropping groups could bypass a negative
         * group permission (CVE-2018-7169). */
        if (!s->subgid_count) {
                r = write_proc(pid, "setgroups", "deny");
                if (r < 0) {
                        r = step_failf(err, "setgroups-deny", r, "uid %u", (unsigned)s->uid);
                        goto out;
                }
        }
        format_map(map, sizeof(map), s->uid, s->subuid_start, s->subuid_count);
        r = write_proc(pid, "uid_map", map);
        if (r < 0) {
                r = step_fail(err, "uid_map", map, r);
                goto out;
        }
        format_map(map, sizeof(map), s->gid, s->subgid_start, s->subgid_count);
        r = write_proc(pid, "gid_map", map);
        if (r < 0) {
                r = step_fail(err, "gid_map", map, r);
                goto out;
        }
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        *ret_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*ret_fd < 0)
                r = step_fail(err, "userns", path, negative_errno());
out:
        holder_end(&h, pid);
        holder_close(&h);
        return r;
}
