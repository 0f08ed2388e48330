/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The box's user namespace.
 *
 * It is created by a short-lived child that has become the user, so that
 * the user owns it: that is what lets `nsbox root` (no setuid bit anywhere)
 * enter it later.  Its maps are written from outside, by us, as root: box
 * uid 0 is the user, box uids 1..N the user's subordinate range.  The
 * session's own namespaces are not owned by it; they stay owned by the
 * initial user namespace, where the user has no capability. */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
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

int userns_create(const struct box_spec *s, int *ret_fd, struct step_error *err)
{
        int ready[2], go[2], r = 0;
        char map[128], path[64], c;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return negative_errno();
        if (pipe2(go, O_CLOEXEC) < 0) {
                r = negative_errno();
                close(ready[0]);
                close(ready[1]);
                return r;
        }
        pid = fork();
        if (pid == 0) {
                close(ready[0]);
                close(go[1]);
                if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
                    setresuid(s->uid, s->uid, s->uid) < 0 || unshare(CLONE_NEWUSER) < 0)
                        _exit(1);
                if (write(ready[1], "u", 1) != 1)
                        _exit(1);
                /* Stay until the maps are written and the namespace is held. */
                if (read(go[0], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(ready[1]);
        close(go[0]);
        if (pid < 0) {
                r = negative_errno();
                close(ready[0]);
                close(go[1]);
                err->step = "userns";
                return r;
        }
        if (read(ready[0], &c, 1) != 1) {
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
        close(ready[0]);
        close(go[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0 && err->object[0] == '\0')
                snprintf(err->object, sizeof(err->object), "uid %u", (unsigned)s->uid);
        return r;
}
