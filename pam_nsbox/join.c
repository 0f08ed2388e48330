/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The login process into its box and back.  It joins the box's namespaces
 * with setns() on the pidfd of the box's init and stays in the initial
 * user namespace with its host root; only its mount, pid-for-children,
 * uts, ipc, net and cgroup namespaces change, so every process it forks
 * afterwards lands in the box. */
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "caps.h"
#include "module.h"
#include "util.h"

struct session_state *session_state_new(const struct box_reply *br)
{
        struct session_state *st = calloc(1, sizeof(*st));

        if (!st)
                return NULL;
        memcpy(st->cookie, br->cookie, sizeof(st->cookie));
        memcpy(st->id, br->id, sizeof(st->id));
        st->saved_cwd = st->saved_mnt = st->saved_uts = st->saved_ipc = st->saved_pid = st->saved_net =
                st->saved_cgroup = -1;
        return st;
}

void session_state_free(struct session_state *st)
{
        closep(&st->saved_mnt);
        closep(&st->saved_uts);
        closep(&st->saved_ipc);
        closep(&st->saved_pid);
        closep(&st->saved_net);
        closep(&st->saved_cgroup);
        closep(&st->saved_cwd);
        free(st);
}

static int save_ns(const char *name, int *ret)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
        *ret = open(path, O_RDONLY | O_CLOEXEC);
        return *ret < 0 ? negative_errno() : 0;
}

/* Those the join changes (flags), and the cgroup one, which it may. */
static int save_namespaces(struct session_state *st, int flags)
{
        int r = save_ns("mnt", &st->saved_mnt);

        if (r == 0 && (flags & CLONE_NEWUTS))
                r = save_ns("uts", &st->saved_uts);
        if (r == 0 && (flags & CLONE_NEWIPC))
                r = save_ns("ipc", &st->saved_ipc);
        if (r == 0 && (flags & CLONE_NEWPID))
                r = save_ns("pid_for_children", &st->saved_pid);
        if (r == 0 && (flags & CLONE_NEWNET))
                r = save_ns("net", &st->saved_net);
        r = r ?: save_ns("cgroup", &st->saved_cgroup);
        /* A working directory that cannot be opened is not gone back to. */
        st->saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return r;
}

int session_leave(struct session_state *st)
{
        static const int types[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET,
                                     CLONE_NEWCGROUP };
        const int fds[] = { st->saved_mnt, st->saved_uts, st->saved_ipc, st->saved_pid, st->saved_net,
                            st->saved_cgroup };
        int r = 0;

        /* Each one saved is tried; the first failure is what is reported. */
        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
                if (fds[i] >= 0 && setns(fds[i], types[i]) < 0 && r == 0)
                        r = negative_errno();
        if (st->saved_cwd >= 0 && fchdir(st->saved_cwd) < 0 && r == 0)
                r = negative_errno();
        return r;
}

/* The login's own cgroup v2 directory, to know it again in the box; -1
 * when there is none to know. */
static int own_cgroup(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        _cleanup_close_ int root = -1;
        char line[512];

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "0::/", 4) == 0 && line[4] != '\n') {
                        line[strcspn(line, "\n")] = '\0';
                        root = open("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        return root < 0 ? -1 : openat(root, line + 4, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
        return -1;
}

/* Does the box show that very cgroup at /sys/fs/cgroup (the helper's view
 * for a box of one login)? */
static bool box_shows(int cgroup)
{
        struct stat a, b;

        return cgroup >= 0 && fstat(cgroup, &a) == 0 && stat("/sys/fs/cgroup", &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

static int join_box(int pidfd, unsigned ns)
{
        _cleanup_close_ int cgroup = own_cgroup();
        _cleanup_free_ char *cwd = getcwd(NULL, 0);

        /* A thread that shares its filesystem context cannot change mount
         * namespace; unsharing it affects only this thread. */
        if (unshare(CLONE_FS) < 0)
                return negative_errno();
        if (setns(pidfd, namespaces_clone_flags(ns)) < 0)
                return negative_errno();
        /* Where the box shows the login's own cgroup at /sys/fs/cgroup, the
         * login roots a cgroup namespace there, so that /proc/self/cgroup
         * agrees with it; owned by the initial user namespace, as the login
         * process that makes it is. */
        if (box_shows(cgroup) && unshare(CLONE_NEWCGROUP) < 0)
                return negative_errno();
        /* Joining a mount namespace moves us to its root: go back to where
         * the application was, if that place exists in the box. */
        if ((!cwd || chdir(cwd) < 0) && chdir("/") < 0)
                return negative_errno();
        return 0;
}

int session_join(struct session_state *st, int pidfd, unsigned namespaces, const char **ret_step)
{
        int r = save_namespaces(st, namespaces_clone_flags(namespaces));

        *ret_step = "save-namespaces";
        if (r < 0)
                return r;
        st->joined = true;
        *ret_step = "join";
        return join_box(pidfd, namespaces);
}

/* Set on the login process itself, so that everything it starts for the
 * session inherits them.  Neither takes anything from the process's own
 * capabilities: sshd's monitor and login's parent keep working. */
int session_privileges(const struct box_spec *s)
{
        int r = s->cap_bounding ? caps_bound(s->cap_keep) : 0;

        if (r == 0 && s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = negative_errno();
        return r;
}
