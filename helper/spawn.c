/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spec.h"
#include "util.h"

/* The box's PID 1 is started the way posix_spawn starts a program: a child
 * that shares our memory (CLONE_VM) while we wait (CLONE_VFORK), and does
 * nothing but put its two fds in place and execute nsbox-init.  No copy of
 * the helper's memory is made, or torn down again at exec, and nothing the
 * child does can hang the helper: the views, which open admin-given paths,
 * are built by nsbox-init after the helper has moved on.
 *
 * It shares our fd table too (CLONE_FILES), and first takes a private one
 * holding only fds 0..spawn_top: the kernel copies just those, where a
 * plain copy, then the close-on-exec pass at exec, would cost time in
 * proportion to the fds we hold for every live box.  What the child needs
 * is placed beforehand in two low slots reserved at start. */
enum { SLOT_LINK, SLOT_USERNS, SLOT_SPARE, SLOT_HELPER, _SLOT_MAX };
static int init_exe = -1, spawn_slot[_SLOT_MAX] = { -1, -1, -1, -1 }, spawn_null = -1, spawn_top = -1;
/* A prepared net namespace, entered by the child before it executes: not
 * passed on to the init. */
static int spawn_netns = -1;

int spawn_prepare(int exe)
{
        init_exe = exe;
        spawn_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (spawn_null < 0)
                return negative_errno();
        spawn_netns = fcntl(spawn_null, F_DUPFD_CLOEXEC, 0);
        if (spawn_netns < 0)
                return negative_errno();
        spawn_top = MAX(MAX(spawn_null, init_exe), spawn_netns);
        for (int i = 0; i < _SLOT_MAX; i++) {
                /* The helper's own pidfd, for every init to watch, stays. */
                spawn_slot[i] = i == SLOT_HELPER ? (int)syscall(SYS_pidfd_open, getpid(), 0)
                                                 : fcntl(spawn_null, F_DUPFD_CLOEXEC, 0);
                if (spawn_slot[i] < 0)
                        return negative_errno();
                if (i == SLOT_HELPER)
                        (void)fcntl(spawn_slot[i], F_SETFD, FD_CLOEXEC);
                spawn_top = MAX(spawn_top, spawn_slot[i]);
        }
        return 0;
}

struct child_args {
        bool userns, netns, prepared;
};

static int spawn_child(void *arg)
{
        const struct child_args *a = arg;
        const bool userns = a->userns;
        char *argv[] = { (char *)"nsbox-init", a->prepared ? (char *)"--prepared" : NULL, NULL }, *envp[] = { NULL };
        int high[_SLOT_MAX], exe;

        /* Until this returns, the table is the helper's own: touch nothing. */
        if (close_range((unsigned)spawn_top + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0 && unshare(CLONE_FILES) < 0)
                _exit(126);
        if (a->netns && setns(spawn_netns, CLONE_NEWNET) < 0)
                _exit(126);
        /* Move them all high, then each into place (slot i to fd 3 + i);
         * everything else is close-on-exec already. */
        exe = fcntl(init_exe, F_DUPFD_CLOEXEC, 10);
        if (exe < 0)
                _exit(126);
        for (int i = 0; i < _SLOT_MAX; i++) {
                high[i] = i == SLOT_USERNS && !userns ? -1 : fcntl(spawn_slot[i], F_DUPFD_CLOEXEC, 10);
                if (high[i] < 0 && !(i == SLOT_USERNS && !userns))
                        _exit(126);
        }
        for (int i = 0; i < _SLOT_MAX; i++) {
                if (high[i] < 0)
                        close(3 + i);
                else if (dup2(high[i], 3 + i) < 0)
                        _exit(126);
        }
        execveat(exe, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
}

pid_t spawn_init(unsigned namespaces, int userns_fd, int netns_fd, bool prepared, int *ret_pidfd, int *ret_link)
{
        /* Used by one child at a time: we are stopped until it has exec'd. */
        static char stack[16384] __attribute__((aligned(16)));
        struct child_args a = { .userns = userns_fd >= 0, .netns = netns_fd >= 0, .prepared = prepared };
        int flags = namespaces_clone_flags(namespaces), sv[2];
        pid_t pid;
        int e;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        /* Room for all a new helper asks of it at once, so that the init
         * never blocks on a helper that stopped reading. */
        (void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &(int){ 4 << 20 }, sizeof(int));
        if (a.netns)
                flags &= ~CLONE_NEWNET;
        if (dup3(sv[1], spawn_slot[SLOT_LINK], O_CLOEXEC) < 0 || dup3(sv[0], spawn_slot[SLOT_SPARE], O_CLOEXEC) < 0 ||
            (a.userns && dup3(userns_fd, spawn_slot[SLOT_USERNS], O_CLOEXEC) < 0) ||
            (a.netns && dup3(netns_fd, spawn_netns, O_CLOEXEC) < 0))
                pid = -1;
        else
                pid = clone(spawn_child, stack + sizeof(stack),
                            CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | flags | SIGCHLD, &a, ret_pidfd);
        e = errno;
        /* The slots must not keep the init's ends of its link open. */
        (void)dup3(spawn_null, spawn_slot[SLOT_LINK], O_CLOEXEC);
        (void)dup3(spawn_null, spawn_slot[SLOT_SPARE], O_CLOEXEC);
        (void)dup3(spawn_null, spawn_slot[SLOT_USERNS], O_CLOEXEC);
        (void)dup3(spawn_null, spawn_netns, O_CLOEXEC);
        close(sv[1]);
        if (pid < 0)
                close(sv[0]);
        else
                *ret_link = sv[0];
        errno = e;
        return pid;
}
