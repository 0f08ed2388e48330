/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The live boxes, through the helper, and nsbox enter and nsbox stop. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <poll.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "policy.h"
#include "util.h"

#define STOP_WAIT_MS 10000

static int collect(const struct box_info *bi, void *userdata)
{
        struct box_list *l = userdata;

        if (l->n == l->size) {
                size_t size = l->size ? 2 * l->size : 64;
                struct box_info *n = reallocarray(l->v, size, sizeof(*n));

                if (!n)
                        return -ENOMEM;
                l->v = n;
                l->size = size;
        }
        l->v[l->n++] = *bi;
        return 0;
}

/* Every live box; none when no helper runs.  The helper answers a part at
 * a time, in the order of the boxes' ids: each request goes on after the
 * last id of the part before. */
int fetch_boxes(struct box_list *ret)
{
        struct msg *m = malloc(sizeof(*m));
        struct box_list l = {};
        char after[NSBOX_ID_LEN + 1] = "";
        bool more = true;
        int r = m ? 0 : -ENOMEM;

        while (r == 0 && more) {
                size_t had = l.n;

                msg_init(m, MSG_LIST);
                if (after[0])
                        r = proto_put_box_id(m, after);
                if (r == 0)
                        r = helper_request(m, m, NULL);
                if ((r == -ENOENT || r == -ECONNREFUSED) && !after[0]) {
                        r = 0;  /* no helper: no box */
                        break;
                }
                if (r == 0)
                        r = proto_parse_list(m, collect, &l, &more);
                /* A part that does not move on would be asked for forever. */
                if (r == 0 && more && (l.n == had || strcmp(l.v[l.n - 1].id, after) <= 0))
                        r = -EBADMSG;
                if (r == 0 && l.n > 0)
                        snprintf(after, sizeof(after), "%s", l.v[l.n - 1].id);
        }
        free(m);
        if (r < 0) {
                free(l.v);
                return r;
        }
        *ret = l;
        return 0;
}

int report(const char *cmd, int r)
{
        if (r == -EACCES || r == -EPERM)
                fprintf(stderr, "nsbox %s: %s: permission denied (run as root)\n", cmd, NSBOX_SOCKET);
        else if (r == -ETIMEDOUT)
                fprintf(stderr, "nsbox %s: the helper did not answer within %d s\n", cmd, CLI_REPLY_TIMEOUT_SEC);
        else
                fprintf(stderr, "nsbox %s: %s\n", cmd, strerror(-r));
        return EXIT_INVALID;
}

static bool looks_like_id(const char *s)
{
        if (strlen(s) != NSBOX_ID_LEN)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

/* A box named by its id, asked of the helper alone: with thousands of
 * boxes, a stop or an enter must not fetch the whole list.  1 when found. */
static int resolve_id(const char *id, struct box_info **ret)
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        struct show_reply sr = {};
        int r = m ? box_request(MSG_SHOW, id, 0, m, NULL) : -ENOMEM;

        if (r == 0)
                r = proto_parse_show(m, &sr);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        *ret = malloc(sizeof(**ret));
        if (*ret)
                **ret = sr.info;
        show_reply_done(&sr);
        return *ret ? 1 : -ENOMEM;
}

int resolve_boxes(const char *cmd, const char *target, struct box_info **ret, size_t *ret_n)
{
        struct box_list l = {}, m = {};
        int r = looks_like_id(target) ? resolve_id(target, ret) : 0;

        if (r != 0) {
                if (r < 0)
                        return report(cmd, r);
                *ret_n = 1;
                return EXIT_OK;
        }
        r = fetch_boxes(&l);

        if (r < 0)
                return report(cmd, r);
        for (size_t i = 0; r == 0 && i < l.n; i++)
                if (strcmp(l.v[i].id, target) == 0 || strcmp(l.v[i].user, target) == 0)
                        r = collect(&l.v[i], &m);
        free(l.v);
        if (r < 0) {
                free(m.v);
                return report(cmd, r);
        }
        if (m.n == 0) {
                fprintf(stderr, "nsbox %s: no box is called or belongs to '%s'\n", cmd, target);
                return EXIT_INVALID;
        }
        *ret = m.v;
        *ret_n = m.n;
        return EXIT_OK;
}

/* One request about one box; m holds the reply.  -ENOENT when the helper
 * answers with an error (the box is gone). */
int box_request(int type, const char *id, uint32_t flags, struct msg *m, int *ret_fd)
{
        int r;

        msg_init(m, type);
        r = proto_put_box_id(m, id);
        if (r == 0 && flags)
                r = proto_put_flags(m, flags);
        if (r == 0)
                r = helper_request(m, m, ret_fd);
        if (r == 0 && msg_type(m) == MSG_ERROR)
                r = -ENOENT;
        return r;
}

/* ---- enter ---------------------------------------------------------------- */

/* A user's command never gets root's terminal: a process it leaves behind
 * could read what root types next, or push input into root's shell
 * (TIOCSTI).  As su --pty and machinectl shell do, it runs in a session of
 * its own on a new pseudo-terminal, which we relay to root's. */
struct relay {
        int master, slave;
        bool tty[3];            /* which of fds 0, 1, 2 were root's terminal: the pty takes their place */
        bool raw;
        struct termios saved;
};

static int relay_open(struct relay *r)
{
        char *name;

        *r = (struct relay){ .master = -1, .slave = -1 };
        for (int fd = 0; fd < 3; fd++)
                r->tty[fd] = isatty(fd);
        if (!r->tty[0] && !r->tty[1] && !r->tty[2])
                return 0;       /* no terminal of root's to protect: setsid() suffices */
        r->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->master < 0 || grantpt(r->master) < 0 || unlockpt(r->master) < 0 || !(name = ptsname(r->master)))
                return negative_errno();
        r->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->slave < 0)
                return negative_errno();
        if (r->tty[0]) {
                struct winsize ws;
                struct termios raw;

                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        (void)ioctl(r->slave, TIOCSWINSZ, &ws);
                if (tcgetattr(STDIN_FILENO, &r->saved) == 0) {
                        (void)tcsetattr(r->slave, TCSANOW, &r->saved);
                        raw = r->saved;
                        cfmakeraw(&raw);
                        r->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
                }
        }
        return 0;
}

/* In the child: a session of its own, the pty as its terminal, in place
 * of each of its stdio fds that was root's terminal (a pipe or a file stays
 * what it is). */
static int relay_child(struct relay *r)
{
        if (setsid() < 0)
                return -errno;
        if (r->slave < 0)
                return 0;
        if (ioctl(r->slave, TIOCSCTTY, 0) < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                if (r->tty[fd] && dup2(r->slave, fd) < 0)
                        return -errno;
        return 0;
}

static void relay_copy(int from, int to, bool *open)
{
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        *open = false;
                return;
        }
        if (write_all(to, buf, (size_t)n) < 0)
                *open = false;
}

/* Relay until the command exits; what it left running on the pty keeps
 * the pty, not root's terminal.  Returns the wait status. */
static int relay_run(struct relay *r, pid_t pid)
{
        sigset_t mask;
        int sfd, status = 0, out = r->tty[1] ? STDOUT_FILENO : STDERR_FILENO;
        bool in_open = r->tty[0], out_open = true;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        closep(&r->slave);
        for (;;) {
                struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
                                       { .fd = r->master, .events = out_open ? POLLIN : 0 },
                                       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                struct signalfd_siginfo si;

                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
                        if (si.ssi_signo == SIGWINCH) {
                                struct winsize ws;
                                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                        (void)ioctl(r->master, TIOCSWINSZ, &ws);
                        }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
                        relay_copy(r->master, out, &out_open);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
                        relay_copy(STDIN_FILENO, r->master, &in_open);
        }
        /* What the command wrote last, as far as it is there now. */
        fcntl(r->master, F_SETFL, O_NONBLOCK);
        for (char buf[4096]; out_open;) {
                ssize_t n = read(r->master, buf, sizeof(buf));

                if (n <= 0 || write_all(out, buf, (size_t)n) < 0)
                        break;
        }
        if (r->raw)
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &r->saved);
        closep(&r->master);
        closep(&sfd);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return status;
}

/* Into the namespaces of the one box target names.  The helper hands over
 * the init's pidfd: it names that very box, whatever happened to PIDs
 * meanwhile. */
static int enter_box(const char *target)
{
        _cleanup_free_ struct box_info *boxes = NULL;
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        _cleanup_close_ int pidfd = -1;
        size_t n = 0;
        int r = m ? resolve_boxes("enter", target, &boxes, &n) : EXIT_INVALID;

        if (r != EXIT_OK)
                return r;
        if (n > 1) {
                fprintf(stderr, "nsbox enter: %s has %zu boxes; name one:", target, n);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, " %s", boxes[i].id);
                fprintf(stderr, "\n");
                return EXIT_INVALID;
        }
        r = box_request(MSG_ENTER, boxes[0].id, 0, m, &pidfd);
        if (r == 0 && (msg_type(m) != MSG_OK || pidfd < 0))
                r = -ENOENT;
        if (r == 0 && setns(pidfd, namespaces_clone_flags(boxes[0].namespaces)) < 0)
                r = negative_errno();
        if (r < 0) {
                fprintf(stderr, "nsbox enter: box %s: %s\n", boxes[0].id, strerror(-r));
                return EXIT_INVALID;
        }
        setenv("NSBOX_ID", boxes[0].id, 1);
        return EXIT_OK;
}

/* The child: pw's command (or shell) in the box, on its own terminal when
 * pw is not root. */
static void run_as(const struct passwd *pw, struct relay *rl, char **cmd) _noreturn_;
static void run_as(const struct passwd *pw, struct relay *rl, char **cmd)
{
        char *shell_argv[2] = { pw->pw_shell && *pw->pw_shell ? pw->pw_shell : (char *)"/bin/sh", NULL };

        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        if (pw->pw_uid != 0 && relay_child(rl) < 0) {
                fprintf(stderr, "nsbox enter: cannot give %s a terminal of its own: %m\n", pw->pw_name);
                _exit(EXIT_INVALID);
        }
        if (rl->master >= 0)
                close(rl->master);
        if (rl->slave >= 0)
                close(rl->slave);
        if (chdir("/") < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
            setuid(pw->pw_uid) < 0) {
                fprintf(stderr, "nsbox enter: cannot become %s: %m\n", pw->pw_name);
                _exit(EXIT_INVALID);
        }
        setenv("HOME", pw->pw_dir, 1);
        setenv("USER", pw->pw_name, 1);
        setenv("LOGNAME", pw->pw_name, 1);
        setenv("SHELL", shell_argv[0], 1);
        if (!cmd)
                cmd = shell_argv;
        execvp(cmd[0], cmd);
        fprintf(stderr, "nsbox enter: %s: %m\n", cmd[0]);
        _exit(127);
}

int cmd_enter(int argc, char **argv)
{
        const char *target = NULL, *as = NULL;
        struct relay rl = { .master = -1, .slave = -1 };
        struct passwd *pw;
        char **cmd = NULL;
        int status, r;
        pid_t pid;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        cmd = argv + i + 1;
                        break;
                } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
                        as = argv[++i];
                else if (!target && argv[i][0] != '-')
                        target = argv[i];
                else
                        return usage_of("enter", stderr, EXIT_USAGE);
        }
        if (!target || (cmd && !cmd[0]))
                return usage_of("enter", stderr, EXIT_USAGE);
        if (geteuid() != 0) {
                fprintf(stderr, "nsbox enter: only root may enter a box\n");
                return EXIT_INVALID;
        }
        /* Who to be is looked up in the host's view, before entering. */
        pw = getpwnam(as ? as : "root");
        if (!pw) {
                fprintf(stderr, "nsbox enter: no such user '%s'\n", as ? as : "root");
                return EXIT_INVALID;
        }
        r = enter_box(target);
        if (r != EXIT_OK)
                return r;
        /* The pty is opened in the box, whose /dev/pts is the host's. */
        if (pw->pw_uid != 0 && (r = relay_open(&rl)) < 0) {
                fprintf(stderr, "nsbox enter: cannot open a terminal for %s: %s\n", pw->pw_name, strerror(-r));
                return EXIT_INVALID;
        }
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        pid = fork();
        if (pid == 0)
                run_as(pw, &rl, cmd);
        if (pid > 0 && rl.master >= 0)
                status = relay_run(&rl, pid);
        else if (pid < 0 || waitpid(pid, &status, 0) < 0) {
                fprintf(stderr, "nsbox enter: %m\n");
                return EXIT_INVALID;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- stop ----------------------------------------------------------------- */

/* Asked of the box alone, as resolve_id does: not the whole list. */
static bool box_alive(const char *id)
{
        struct box_info *bi = NULL;
        bool alive = resolve_id(id, &bi) > 0;

        free(bi);
        return alive;
}

int cmd_stop(int argc, char **argv)
{
        struct box_info *boxes = NULL;
        const char *target = NULL;
        bool force = false;
        size_t n = 0;
        int r, ret = EXIT_OK;

        if (!parse_target(argc, argv, "--force", &force, &target))
                return usage_of("stop", stderr, EXIT_USAGE);
        r = resolve_boxes("stop", target, &boxes, &n);
        if (r != EXIT_OK)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ struct msg *m = malloc(sizeof(*m));

                r = m ? box_request(MSG_STOP, boxes[i].id, force ? F_FORCE : 0, m, NULL) : -ENOMEM;
                if (r == 0 && msg_type(m) != MSG_OK)
                        r = -ENOENT;
                if (r < 0) {
                        fprintf(stderr, "nsbox stop: box %s: %s\n", boxes[i].id, strerror(-r));
                        ret = EXIT_INVALID;
                }
        }
        /* Wait for the end, so that what follows sees the box gone. */
        for (size_t i = 0; i < n; i++) {
                unsigned long long deadline = now_usec() + STOP_WAIT_MS * 1000ULL;

                while (box_alive(boxes[i].id) && now_usec() < deadline)
                        usleep(20 * 1000);
                if (box_alive(boxes[i].id)) {
                        fprintf(stderr, "nsbox stop: box %s is still there after %d s\n", boxes[i].id,
                                STOP_WAIT_MS / 1000);
                        ret = EXIT_INVALID;
                } else
                        printf("stopped box %s (%s)\n", boxes[i].id, boxes[i].user);
        }
        free(boxes);
        return ret;
}
