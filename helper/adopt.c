/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taking over the boxes a helper before us left (crashed, killed, stopped
 * for an upgrade).
 *
 * Each running box has a file in /run/nsbox/boxes (root's alone), named by
 * its id: its init's pid, that process's start time, and the box's token,
 * a secret that only this file and the init's memory hold.  A new helper,
 * for each file:
 *
 *   - opens a pidfd for the pid and reads the start time only then, so that
 *     a pid given to another process since is told apart (and that process
 *     is left alone);
 *   - takes the helper's end of the init's link from the init (fd 5, with
 *     pidfd_getfd: root's ptrace right, which nobody else has over an
 *     init), and wants a unix socket pair that root made;
 *   - asks the init (MSG_ADOPT) for its record, spec and sessions, and wants
 *     the record to carry the file's id and token: a process that is no
 *     init of ours knows neither, and a file swapped for another box's
 *     names another id;
 *   - wants the spec valid, for the user the init runs as.
 *
 * The inits are asked all at once and answer within ADOPT_TIMEOUT_MS
 * together.  A box that fails is refused with one line; one whose init is
 * ours but does not answer (stopped by its user) is killed, since nobody
 * could manage it or know its addresses.  Every file left is removed. */
#include "adopt.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/param.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>

#include "util.h"

#define BOXES_DIR NSBOX_RUNDIR "/boxes"
#define ADOPT_TIMEOUT_MS 5000
#define MAX_FILES 65536
#define MAX_CLAIMS 1024
#define SPARE_FD 5      /* the helper's end of the link, in the init */

static int dir_fd = -1;

int adopt_open(void)
{
        int r = open_root_dir(BOXES_DIR, 0700, 077, &dir_fd, NULL);

        if (r == -EPERM)
                syslog(LOG_ERR, "%s is not root's alone; refusing to use it", BOXES_DIR);
        return r;
}

/* /proc/PID/NAME, NUL-terminated, in buf. */
static int read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return read_short(fd, buf, size);
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot.  With the pid, it names one process for the machine's uptime. */
static int proc_starttime(pid_t pid, unsigned long long *ret)
{
        char buf[1024], *p;
        int r = read_proc(pid, "stat", buf, sizeof(buf));

        if (r < 0)
                return r;
        p = strrchr(buf, ')');  /* the name may hold anything */
        if (!p)
                return -EBADMSG;
        /* p + 2 is field 3; the start time is 19 fields on. */
        return sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", ret) ==
                               1
                       ? 0
                       : -EBADMSG;
}

static int proc_uid(pid_t pid, uid_t *ret)
{
        char buf[4096], *p;
        unsigned u;
        int r = read_proc(pid, "status", buf, sizeof(buf));

        if (r < 0)
                return r;
        p = strstr(buf, "\nUid:");
        if (!p || sscanf(p + 5, "%u", &u) != 1)
                return -EBADMSG;
        *ret = u;
        return 0;
}

static void hex(const uint8_t *v, size_t n, char *out)
{
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", v[i]);
}

static int unhex(const char *s, uint8_t *v, size_t n)
{
        if (strlen(s) != 2 * n)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                unsigned x;

                if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
                    sscanf(s + 2 * i, "%2x", &x) != 1)
                        return -EBADMSG;
                v[i] = (uint8_t)x;
        }
        return 0;
}

int state_write(const char *id, pid_t pid, const uint8_t token[NSBOX_TOKEN_LEN])
{
        char tmp[32], line[128], t[2 * NSBOX_TOKEN_LEN + 1];
        unsigned long long start;
        _cleanup_close_ int fd = -1;
        int r, n;

        if (dir_fd < 0)
                return -EBADF;
        r = proc_starttime(pid, &start);
        if (r < 0)
                return r;
        hex(token, NSBOX_TOKEN_LEN, t);
        n = snprintf(line, sizeof(line), "nsbox-box 1 %d %llu %s\n", (int)pid, start, t);
        snprintf(tmp, sizeof(tmp), ".new-%s", id);
        (void)unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, line, (size_t)n);
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, id) < 0)
                r = negative_errno();
        if (r < 0)
                (void)unlinkat(dir_fd, tmp, 0);
        return r;
}

void adopt_close(void)
{
        if (dir_fd < 0)
                return;
        closep(&dir_fd);
        (void)rmdir(BOXES_DIR);         /* only when empty */
}

void state_remove(const char *id)
{
        if (dir_fd >= 0 && id[0])
                (void)unlinkat(dir_fd, id, 0);
}

/* ---- taking the boxes over ------------------------------------------------ */

struct candidate {
        struct adoptee a;
        unsigned long long start;
        bool have_record, have_spec, done;
        bool renamed;           /* its file had another box's name */
        const char *refused;    /* why, once refused */
        bool kill;              /* an init of ours that cannot be taken over */
};

static void candidate_done(struct candidate *c)
{
        closep(&c->a.pidfd);
        closep(&c->a.link);
        for (size_t i = 0; i < c->a.n_claims; i++)
                closep(&c->a.claims[i].pidfd);
        free(c->a.claims);
        c->a.claims = NULL;
        c->a.n_claims = 0;
        box_spec_done(&c->a.spec);
}

static bool id_valid(const char *s)
{
        if (strlen(s) != NSBOX_ID_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
                        return false;
        return true;
}

/* The file: root's, 0600, small, one line. */
static const char *read_state(const char *name, struct candidate *c)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        char buf[160], t[2 * NSBOX_TOKEN_LEN + 2], end;
        unsigned version;
        struct stat st;
        int pid;

        if (!id_valid(name))
                return "not a box's file";
        if (fd < 0 || fstat(fd, &st) < 0)
                return "cannot be opened";
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) || st.st_size >= (off_t)sizeof(buf))
                return "not a small regular file of root's alone";
        if (read_short(fd, buf, sizeof(buf)) < 0)
                return "cannot be read";
        if (sscanf(buf, "nsbox-box %u %d %llu %33s%c", &version, &pid, &c->start, t, &end) != 5 || end != '\n' ||
            version != 1 || pid <= 1 || unhex(t, c->a.token, NSBOX_TOKEN_LEN) < 0)
                return "malformed";
        snprintf(c->a.id, sizeof(c->a.id), "%s", name);
        c->a.pid = pid;
        return NULL;
}

/* Is the process what the file says, and may we talk to it?  NULL when
 * so; a reason, with c->a.pidfd -1 when the process is gone. */
static const char *approach(struct candidate *c, struct msg *m)
{
        unsigned long long start;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int type = 0;
        socklen_t tlen = sizeof(type);

        c->a.pidfd = (int)syscall(SYS_pidfd_open, c->a.pid, 0);
        if (c->a.pidfd < 0)
                return errno == ESRCH ? "gone" : "no pidfd";
        if (proc_starttime(c->a.pid, &start) < 0 || pidfd_send_signal(c->a.pidfd, 0, NULL, 0) < 0)
                return "gone";
        if (start != c->start)
                return "its pid is another process's now";
        c->a.link = (int)syscall(SYS_pidfd_getfd, c->a.pidfd, SPARE_FD, 0);
        if (c->a.link < 0)
                return errno == EPERM ? "its link cannot be taken (ptrace denied)" : "it holds no link";
        (void)fcntl(c->a.link, F_SETFD, FD_CLOEXEC);
        if (getsockopt(c->a.link, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET ||
            getsockopt(c->a.link, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
                return "its link is no helper's";
        c->kill = true;         /* from here on it is an init of ours */
        if (fcntl(c->a.link, F_SETFL, O_NONBLOCK) < 0)
                return "its link cannot be used";
        msg_init(m, MSG_ADOPT);
        return msg_send(c->a.link, m, -1) < 0 ? "it cannot be asked" : NULL;
}

static const char *take_record(struct candidate *c, const struct msg *m)
{
        static char buf[NSBOX_RECORD_MAX];
        char id[NSBOX_ID_LEN + 1];
        uint8_t token[NSBOX_TOKEN_LEN];
        size_t n;

        if (proto_parse_record(m, id, token, buf, sizeof(buf), &n) < 0)
                return "its record is malformed";
        if (memcmp(token, c->a.token, sizeof(token)) != 0)
                return "its token is not the file's";
        /* The init knows its token, so it is the box the file's line names;
         * only the file's name is wrong (a file moved or swapped).  The
         * init's own id wins, and its file is written again under it. */
        if (strcmp(id, c->a.id) != 0) {
                syslog(LOG_WARNING, "event=adopt-misnamed file=%s/%s box=%s pid=%d", BOXES_DIR, c->a.id, id,
                       (int)c->a.pid);
                state_remove(c->a.id);
                memcpy(c->a.id, id, sizeof(c->a.id));
                c->renamed = true;
        }
        memcpy(&c->a.rec, buf, MIN(n, sizeof(c->a.rec)));
        if (n < sizeof(c->a.rec) || c->a.rec.version != BOX_RECORD_VERSION || c->a.rec.size != sizeof(c->a.rec))
                return "its record is of another version";
        c->have_record = true;
        return NULL;
}

static const char *take_spec(struct candidate *c, const struct msg *m)
{
        const char *why = NULL;
        uid_t uid;

        if (proto_parse_spec(m, &c->a.spec) < 0 || box_spec_validate(&c->a.spec, &why) < 0)
                return "its spec is malformed";
        /* Read by pid, so the process must still be the one we hold. */
        if (proc_uid(c->a.pid, &uid) < 0 || pidfd_send_signal(c->a.pidfd, 0, NULL, 0) < 0 || uid != c->a.spec.uid)
                return "it runs as another user than its spec's";
        c->have_spec = true;
        return NULL;
}

static const char *take_claim(struct candidate *c, const struct msg *m, int *fd)
{
        struct adopt_claim cl = { .pidfd = -1 };
        struct adopt_claim *v;

        if (*fd < 0 || proto_parse_claim(m, cl.cookie, &cl.se) < 0 || c->a.n_claims >= MAX_CLAIMS)
                return "a session of it is malformed";
        v = reallocarray(c->a.claims, c->a.n_claims + 1, sizeof(*v));
        if (!v)
                return "out of memory";
        cl.pidfd = TAKE_FD(*fd);
        v[c->a.n_claims++] = cl;
        c->a.claims = v;
        return NULL;
}

/* One message from an init: the record first (what came before it is what
 * the old helper left unread), then the spec, the claims, the end. */
static const char *on_reply(struct candidate *c, const struct msg *m, int *fd)
{
        uint32_t n;

        switch (msg_type(m)) {
        case MSG_RECORD:
                return c->have_record ? "it spoke out of turn" : take_record(c, m);
        case MSG_SPEC:
                return !c->have_record || c->have_spec ? "it spoke out of turn" : take_spec(c, m);
        case MSG_CLAIM:
                return !c->have_spec ? "it spoke out of turn" : take_claim(c, m, fd);
        case MSG_ADOPT_END:
                if (!c->have_record)
                        return "it never ran under a helper";
                if (!c->have_spec || proto_parse_adopt_end(m, &n, &c->a.unclaimed_usec) < 0 || n != c->a.n_claims)
                        return "its answer is malformed";
                c->done = true;
                return NULL;
        default:
                return c->have_record ? "it spoke out of turn" : NULL;
        }
}

static void read_replies(struct candidate *c, struct msg *m)
{
        while (!c->done && !c->refused) {
                int fd = -1, r = msg_recv(c->a.link, m, &fd);

                if (r == -EAGAIN)
                        return;
                c->refused = r < 0 ? "its link failed" : on_reply(c, m, &fd);
                closep(&fd);
        }
}

/* Until every init has answered, or the time is up. */
static void gather(struct candidate *v, size_t n, struct msg *m)
{
        unsigned long long deadline = now_usec() + ADOPT_TIMEOUT_MS * 1000ULL;
        _cleanup_free_ struct pollfd *p = calloc(n + 1, sizeof(*p));

        if (!p) {
                for (size_t i = 0; i < n; i++)
                        v[i].refused = v[i].refused ?: "out of memory";
                return;
        }
        for (;;) {
                size_t k = 0;
                unsigned long long now = now_usec();

                for (size_t i = 0; i < n; i++)
                        p[i] = (struct pollfd){ .fd = v[i].done || v[i].refused ? -1 : v[i].a.link, .events = POLLIN };
                for (size_t i = 0; i < n; i++)
                        k += p[i].fd >= 0;
                if (k == 0 || now >= deadline)
                        break;
                if (poll(p, n, (int)((deadline - now) / 1000 + 1)) < 0 && errno != EINTR)
                        break;
                for (size_t i = 0; i < n; i++)
                        if (p[i].revents)
                                read_replies(&v[i], m);
        }
        for (size_t i = 0; i < n; i++)
                if (!v[i].done && !v[i].refused)
                        v[i].refused = "it did not answer in time";
}

static int list_files(struct candidate **ret, size_t *ret_n)
{
        DIR *d = fdopendir(dup(dir_fd));
        struct candidate *v = NULL;
        size_t n = 0, size = 0;
        struct dirent *e;

        if (!d)
                return negative_errno();
        rewinddir(d);
        while ((e = readdir(d)) && n < MAX_FILES) {
                struct candidate *w;
                const char *why;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (n == size) {
                        size = size ? 2 * size : 64;
                        w = reallocarray(v, size, sizeof(*v));
                        if (!w)
                                break;
                        v = w;
                }
                v[n] = (struct candidate){ .a = { .pidfd = -1, .link = -1 } };
                why = read_state(e->d_name, &v[n]);
                if (why) {
                        syslog(LOG_WARNING, "event=adopt-refused file=%s/%s reason=\"%s\"", BOXES_DIR, e->d_name, why);
                        (void)unlinkat(dir_fd, e->d_name, 0);
                        continue;
                }
                n++;
        }
        closedir(d);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int by_pid(const void *x, const void *y)
{
        const struct candidate *a = x, *b = y;

        return (a->a.pid > b->a.pid) - (a->a.pid < b->a.pid);
}

/* The init watches us from now on. */
static const char *tell_adopted(struct candidate *c, struct msg *m)
{
        _cleanup_close_ int self = (int)syscall(SYS_pidfd_open, getpid(), 0);

        msg_init(m, MSG_ADOPTED);
        return self < 0 || msg_send(c->a.link, m, self) < 0 ? "it cannot be told" : NULL;
}

/* A refused box: said once; an init of ours is killed, another process
 * left alone. */
static void refuse(struct candidate *c)
{
        bool gone = strcmp(c->refused, "gone") == 0;

        syslog(gone ? LOG_INFO : LOG_WARNING, "event=%s box=%s pid=%d reason=\"%s\"%s",
               gone ? "adopt-gone" : "adopt-refused", c->a.id, (int)c->a.pid, c->refused,
               c->kill ? " action=killed" : "");
        if (c->kill && c->a.pidfd >= 0)
                pidfd_send_signal(c->a.pidfd, SIGKILL, NULL, 0);
        state_remove(c->a.id);
        candidate_done(c);
}

unsigned adopt_all(int (*take)(struct adoptee *a))
{
        _cleanup_free_ struct msg *m = malloc(sizeof(*m));
        struct candidate *v = NULL;
        size_t n = 0;
        unsigned taken = 0;

        if (!m || dir_fd < 0 || list_files(&v, &n) < 0 || n == 0) {
                free(v);
                return 0;
        }
        /* One process, one box: a second file that names it is refused
         * before anyone asks the process anything. */
        qsort(v, n, sizeof(*v), by_pid);
        for (size_t i = 0; i < n; i++)
                v[i].refused = i > 0 && v[i].a.pid == v[i - 1].a.pid ? "another file names its process too"
                                                                    : approach(&v[i], m);
        gather(v, n, m);
        for (size_t i = 0; i < n; i++) {
                if (!v[i].refused)
                        v[i].refused = tell_adopted(&v[i], m);
                if (!v[i].refused) {
                        struct adoptee a = v[i].a;

                        v[i].a = (struct adoptee){ .pidfd = -1, .link = -1 };
                        if (take(&a) == 0) {
                                memcpy(v[i].a.id, a.id, sizeof(a.id));
                                memcpy(v[i].a.token, a.token, sizeof(a.token));
                                v[i].a.pid = a.pid;
                                taken++;
                                continue;
                        }
                        v[i].refused = "it could not be taken over";
                        v[i].a = a;
                }
                refuse(&v[i]);
        }
        /* Once every refused file is gone, which may have had the name. */
        for (size_t i = 0; i < n; i++)
                if (v[i].renamed && !v[i].refused)
                        (void)state_write(v[i].a.id, v[i].a.pid, v[i].a.token);
        free(v);
        return taken;
}
