/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The box's user namespace.
 *
 * It is created by a clone() made while our effective ids are the user's,
 * so that the user owns it: that is what lets `nsbox root` (no setuid bit
 * anywhere) enter it later.  Its maps are written from outside, by us, as root: box
 * uid 0 is the user, box uids 1..N the user's subordinate range.  The
 * session's own namespaces are not owned by it; they stay owned by the
 * initial user namespace, where the user has no capability. */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
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
 * the namespace is held by an fd.  Usually it shares our memory (no copy of
 * the helper's, which grows with the number of boxes); see clone_as(). */
struct holder {
        int go[2];
        int ready[2];
        const struct box_spec *spec;
        bool own_memory;
};

static int hold_child(void *arg)
{
        struct holder *h = arg;
        const struct box_spec *s = h->spec;
        char c = 'u';

        /* With a copy of our memory, become the user wholly and make the
         * namespace from there, as a process of the user's own. */
        if (h->own_memory && (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
                              setresuid(s->uid, s->uid, s->uid) < 0 || unshare(CLONE_NEWUSER) < 0))
                return 1;
        /* Our own copy of the fd table: without the write end, the read
         * ends when the helper closes its own. */
        close(h->go[1]);
        close(h->ready[0]);
        if (write(h->ready[1], &c, 1) != 1)
                return 1;
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
        if (h->own_memory)
                return clone(hold_child, stack + sizeof(stack), SIGCHLD, h);
        if (setresgid((gid_t)-1, s->gid, (gid_t)-1) < 0)
                return -1;
        if (setresuid((uid_t)-1, s->uid, (uid_t)-1) < 0) {
                e = errno;
                if (setresgid((gid_t)-1, 0, (gid_t)-1) < 0)
                        abort();
                errno = e;
                return -1;
        }
        pid = clone(hold_child, stack + sizeof(stack), CLONE_VM | CLONE_NEWUSER | SIGCHLD, h);
        e = errno;
        /* Staying the user would build every later box as the user. */
        if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0)
                abort();
        /* The id changes reset the mm's dumpable flag to fs.suid_dumpable. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        errno = e;
        return pid;
}

int userns_create(const struct box_spec *s, int *ret_fd, struct step_error *err)
{
        struct holder h = { .spec = s };
        char map[128], path[64], c;
        pid_t pid;
        int r = 0;

        if (pipe2(h.go, O_CLOEXEC) < 0)
                return negative_errno();
        if (pipe2(h.ready, O_CLOEXEC) < 0) {
                r = negative_errno();
                close(h.go[0]);
                close(h.go[1]);
                return r;
        }
        pid = clone_as(&h);
        if (pid < 0)
                r = negative_errno();
        close(h.go[0]);
        close(h.ready[1]);
        if (pid < 0) {
                close(h.go[1]);
                close(h.ready[0]);
                err->step = "userns";
                snprintf(err->object, sizeof(err->object), "uid %u", (unsigned)s->uid);
                return r;
        }
        if (read(h.ready[0], &c, 1) != 1) {
                r = -ECHILD;
                err->step = "userns";
                goto out;
        }
        /* setgroups stays allowed only when the admin gave the user
         * subordinate gids: else dropping groups could bypass a negative
         * group permission (CVE-2018-7169). */
        if (!s->subgid_count) {
                r = write_proc(pid, "setgroups", "deny");
                if (r < 0) {
                        err->step = "setgroups-deny";
                        goto out;
                }
        }
        format_map(map, sizeof(map), s->uid, s->subuid_start, s->subuid_count);
        r = write_proc(pid, "uid_map", map);
        if (r < 0) {
                err->step = "uid_map";
                snprintf(err->object, sizeof(err->object), "%s", map);
                goto out;
        }
        format_map(map, sizeof(map), s->gid, s->subgid_start, s->subgid_count);
        r = write_proc(pid, "gid_map", map);
        if (r < 0) {
                err->step = "gid_map";
                snprintf(err->object, sizeof(err->object), "%s", map);
                goto out;
        }
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        *ret_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*ret_fd < 0) {
                r = negative_errno();
                err->step = "userns";
        }
out:
        close(h.go[1]);
        close(h.ready[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0 && err->object[0] == '\0')
                snprintf(err->object, sizeof(err->object), "uid %u", (unsigned)s->uid);
        return r;
}
