/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox root: root of your own box's user namespace, without setuid. */
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cli.h"
#include "util.h"

/* Ask the helper, over the socket any user may reach, for our box's user
 * namespace.  The helper checks who we are and where we call from. */
static int fetch_userns(int *ret_fd, struct error_reply *ret_err)
{
        struct msg *m = malloc(sizeof(*m));
        int r, nsfd = -1;

        if (!m)
                return -ENOMEM;
        msg_init(m, MSG_ROOT);
        r = helper_call(NSBOX_USER_SOCKET, CLI_REPLY_TIMEOUT_SEC, m, m, &nsfd);
        if (r == -ENOENT || r == -ECONNREFUSED)
                snprintf(ret_err->object, sizeof(ret_err->object), "no helper is running; are you in a box?");
        else if (r == -ETIMEDOUT)
                snprintf(ret_err->object, sizeof(ret_err->object), "the helper did not answer within %d s",
                         CLI_REPLY_TIMEOUT_SEC);
        if (r == 0 && msg_type(m) == MSG_ERROR) {
                r = proto_parse_error(m, ret_err);
                r = r < 0 ? r : -ret_err->error;
        } else if (r == 0 && (msg_type(m) != MSG_USERNS || proto_parse_empty(m) < 0 || nsfd < 0))
                r = -EBADMSG;
        if (r == 0)
                *ret_fd = TAKE_FD(nsfd);
        closep(&nsfd);
        free(m);
        return r;
}

int cmd_root(int argc, char **argv)
{
        struct error_reply err = {};
        struct mount_attr priv = { .propagation = MS_PRIVATE };
        _cleanup_close_ int nsfd = -1;
        char *shell_argv[2] = {};
        struct passwd *pw;
        char **cmd;
        int r;

        if (argc >= 2 && strcmp(argv[1], "--") != 0)
                return usage_of("root", stderr, EXIT_USAGE);
        pw = getpwuid(getuid());
        if (!pw) {
                fprintf(stderr, "nsbox root: who are you? (uid %u has no passwd entry)\n", (unsigned)getuid());
                return EXIT_INVALID;
        }
        r = fetch_userns(&nsfd, &err);
        if (r < 0) {
                fprintf(stderr, "nsbox root: %s: %s\n", err.object[0] ? err.object : "helper", strerror(-r));
                return EXIT_INVALID;
        }
        /* We own the box's user namespace (it was made as us): entering it
         * needs no privilege.  A mount namespace of our own follows, so that
         * what we mount stays here; the box's views come along, locked. */
        if (setns(nsfd, CLONE_NEWUSER) < 0 || unshare(CLONE_NEWNS) < 0 ||
            mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &priv, sizeof(priv)) < 0 || setresgid(0, 0, 0) < 0 ||
            setresuid(0, 0, 0) < 0) {
                fprintf(stderr, "nsbox root: cannot enter the box's user namespace: %m\n");
                return EXIT_INVALID;
        }
        if (argc >= 3)
                cmd = argv + 2;
        else {
                shell_argv[0] = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : (char *)"/bin/sh";
                cmd = shell_argv;
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "nsbox root: %s: %m\n", cmd[0]);
        return 127;
}
