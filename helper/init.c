/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The start of a box's PID 1.  Forked by the helper straight into new mount,
 * pid, uts and ipc namespaces, it builds the view while it is still root,
 * then executes nsbox-init (helper/init/), which drops every privilege and
 * stays as the box's reaper. */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"
#include "util.h"

#define MAX_TIMINGS 64

static struct step_time timings[MAX_TIMINGS];
static size_t n_timings;

void timing_add(const char *step, const char *object, unsigned long long usec)
{
        if (n_timings >= MAX_TIMINGS)
                return;
        snprintf(timings[n_timings].step, sizeof(timings[n_timings].step), "%s", step);
        snprintf(timings[n_timings].object, sizeof(timings[n_timings].object), "%s", object);
        timings[n_timings++].usec = usec;
}

static _Noreturn void report_and_die(int sync_fd, const struct step_error *e)
{
        (void)proto_send_error(sync_fd, e->error, e->step, e->object);
        _exit(1);
}

_Noreturn void box_init_run(const struct box_spec *s, int sync_fd, int userns_fd, int init_exe)
{
        struct step_error err = {};
        char uid[16], gid[16];
        char *argv[] = { "nsbox-init", uid, gid, NULL }, *envp[] = { NULL };
        int r;

        /* Keep only the link to the helper, the user namespace and the init
         * program, at known numbers (moved high first so that the dups
         * cannot collide); the first two are inherited by nsbox-init. */
        sync_fd = fcntl(sync_fd, F_DUPFD_CLOEXEC, 64);
        if (userns_fd >= 0)
                userns_fd = fcntl(userns_fd, F_DUPFD_CLOEXEC, 64);
        init_exe = fcntl(init_exe, F_DUPFD_CLOEXEC, 64);
        if (sync_fd < 0 || init_exe < 0 || dup2(sync_fd, 3) < 0 || dup3(init_exe, 5, O_CLOEXEC) < 0)
                _exit(1);
        sync_fd = 3;
        init_exe = 5;
        if (userns_fd >= 0 && dup2(userns_fd, 4) < 0)
                _exit(1);
        close_range(6, ~0U, 0);
        if (userns_fd < 0)
                close(4);
        prctl(PR_SET_NAME, "nsbox-init", 0, 0, 0);
        umask(0022);

        unsigned long long t = now_usec();

        r = views_apply(s, &err);
        if (r < 0)
                report_and_die(sync_fd, &err);
        t = now_usec();
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
                err = (struct step_error){ .step = "hostname", .error = errno };
                snprintf(err.object, sizeof(err.object), "%s", s->hostname);
                report_and_die(sync_fd, &err);
        }
        if (setsid() < 0 || chdir("/") < 0) {
                err = (struct step_error){ .step = "setsid", .error = errno };
                report_and_die(sync_fd, &err);
        }
        if (s->debug && s->hostname)
                timing_add("hostname", s->hostname, now_usec() - t);
        if (s->debug && n_timings > 0) {
                struct msg *m = malloc(sizeof(*m));

                if (!m)
                        _exit(1);
                msg_init(m, MSG_PROGRESS);
                for (size_t i = 0; i < n_timings; i++)
                        if (proto_put_timing(m, &timings[i]) < 0)
                                break;
                if (msg_send(sync_fd, m, -1) < 0)
                        _exit(1);
        }

        /* Still root, still in the initial user namespace: the new image
         * stays ours (the user cannot trace it), and drops privileges. */
        snprintf(uid, sizeof(uid), "%u", (unsigned)s->uid);
        snprintf(gid, sizeof(gid), "%u", (unsigned)s->gid);
        execveat(init_exe, "", argv, envp, AT_EMPTY_PATH);
        err = (struct step_error){ .step = "exec-init", .error = errno };
        snprintf(err.object, sizeof(err.object), "nsbox-init");
        report_and_die(sync_fd, &err);
}
