/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On a host that runs systemd, every box's PID 1 gets a unit of its own:
 * a transient scope, nsbox-ID.scope in nsbox.slice, asked of systemd
 * through its own bus (sd-bus, on systemd's private socket when it can, the
 * system bus otherwise).  systemd then manages the box's cgroup: it shows in
 * systemd-cgls and systemctl status, the kernel's accounting is systemd's,
 * and nothing writes cgroupfs behind its back.  The helper itself runs in
 * nsbox-helper.service, started by its sockets (conf/systemd/).
 *
 * The calls are asynchronous: a login never waits for systemd.  Until the
 * scope's start job is done the init's PID must not be freed, or systemd
 * could move whatever process gets the number next; an init that exits
 * while its job runs is reaped only once the job is over (box.c). */
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "daemon.h"
#include "util.h"

#define CALL_TIMEOUT_USEC (10 * 1000 * 1000ULL)

static sd_bus *bus;
static struct watch bus_watch = { .fd = -1 }, bus_timer = { .fd = -1 };
static struct unit_job *jobs;   /* started, their JobRemoved not yet seen */
static uint32_t watched_events;

static void bus_drop(void);

static void job_unlink(struct unit_job *j)
{
        for (struct unit_job **p = &jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        j->next = NULL;
        j->slot = sd_bus_slot_unref(j->slot);
}

static void job_done(struct unit_job *j, const char *failure)
{
        if (!j->pending)
                return;
        j->pending = false;
        j->started = !failure;
        job_unlink(j);
        if (failure)
                syslog(LOG_WARNING, "event=unit-failed unit=%s: %s; the box's init stays in the helper's cgroup",
                       j->name, failure);
        j->done(j);
}

/* Poll events and the next timeout as sd-bus wants them now. */
static void bus_rearm(void)
{
        uint64_t usec = 0;
        int events;

        if (!bus)
                return;
        events = sd_bus_get_events(bus);
        if (events >= 0 && (uint32_t)events != watched_events && loop_mod(&bus_watch, (uint32_t)events) == 0)
                watched_events = (uint32_t)events;
        if (sd_bus_get_timeout(bus, &usec) >= 0 && usec != UINT64_MAX) {
                struct itimerspec its = { .it_value = { .tv_sec = (time_t)(usec / 1000000),
                                                        .tv_nsec = (long)(usec % 1000000) * 1000 } };

                /* sd-bus gives an absolute CLOCK_MONOTONIC time; 0 means now. */
                if (usec == 0)
                        its.it_value.tv_nsec = 1;
                timerfd_settime(bus_timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
        } else {
                struct itimerspec off = {};

                timerfd_settime(bus_timer.fd, 0, &off, NULL);
        }
}

static void bus_run(void)
{
        int r;

        while (bus && (r = sd_bus_process(bus, NULL)) > 0)
                ;
        if (bus && r < 0) {
                syslog(LOG_WARNING, "systemd's bus: %s; boxes started from now on stay in the helper's cgroup",
                       strerror(-r));
                bus_drop();
                return;
        }
        bus_rearm();
}

static void on_bus(struct watch *w, uint32_t events)
{
        (void)w;
        (void)events;
        bus_run();
}

static void on_bus_timer(struct watch *w, uint32_t events)
{
        uint64_t n;

        (void)events;
        if (read(w->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
                return;
        bus_run();
}

/* JobRemoved(u id, o job, s unit, s result): the scope's start job is over. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const char *path, *unit, *result;
        uint32_t id;

        (void)userdata;
        (void)error;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        for (struct unit_job *j = jobs; j; j = j->next)
                if (strcmp(j->name, unit) == 0) {
                        job_done(j, strcmp(result, "done") == 0 ? NULL : result);
                        break;
                }
        return 0;
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct unit_job *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        (void)error;
        /* The slot is done with; JobRemoved, matched by name, ends the job. */
        j->slot = sd_bus_slot_unref(j->slot);
        if (e)
                job_done(j, e->message ? e->message : e->name);
        return 0;
}

static void bus_drop(void)
{
        /* Whatever was waiting for systemd waits no longer. */
        while (jobs)
                job_done(jobs, "systemd's bus went away");
        if (bus_watch.fd >= 0)
                loop_del(&bus_watch);
        bus_watch.fd = -1;
        bus = sd_bus_flush_close_unref(bus);
        watched_events = 0;
}

static int bus_open(void)
{
        _cleanup_(sd_bus_unrefp) sd_bus *b = NULL;
        int r;

        /* systemd's private socket needs no D-Bus daemon; the system bus
         * is the fallback, as for systemctl. */
        r = sd_bus_new(&b);
        if (r >= 0)
                r = sd_bus_set_address(b, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(b);
        if (r < 0) {
                b = sd_bus_unref(b);
                r = sd_bus_open_system(&b);
        }
        if (r < 0)
                return r;
        r = sd_bus_match_signal(b, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL);
        if (r < 0)
                return r;
        /* Signals are sent only to subscribers. */
        r = sd_bus_call_method_async(b, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0)
                return r;
        bus_watch = (struct watch){ .fd = sd_bus_get_fd(b), .cb = on_bus };
        if (bus_watch.fd < 0 || loop_add(&bus_watch, EPOLLIN) < 0) {
                bus_watch.fd = -1;
                return -EIO;
        }
        watched_events = EPOLLIN;
        bus = TAKE_PTR(b);
        return 0;
}

bool units_enabled(void)
{
        return sd_booted() > 0;
}

int units_init(void)
{
        int r;

        if (!units_enabled())
                return 0;
        bus_timer = (struct watch){ .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
                                    .cb = on_bus_timer };
        if (bus_timer.fd < 0 || loop_add(&bus_timer, EPOLLIN) < 0)
                return negative_errno();
        r = bus_open();
        if (r < 0) {
                syslog(LOG_WARNING, "cannot reach systemd's bus: %s; boxes stay in the helper's cgroup",
                       strerror(-r));
                return 0;
        }
        bus_rearm();
        return 0;
}

/* StartTransientUnit("nsbox-ID.scope", "fail", properties, no auxiliaries). */
int units_start_scope(struct unit_job *j, const char *box_id, const char *user, pid_t pid)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char desc[128];
        int r;

        if (!bus && units_enabled() && bus_timer.fd >= 0)
                (void)bus_open();       /* systemd may have come back */
        if (!bus)
                return -ENOTCONN;
        snprintf(j->name, sizeof(j->name), "nsbox-%s.scope", box_id);
        snprintf(desc, sizeof(desc), "pam_nsbox box %s of %s", box_id, user);
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", j->name, "fail");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sv)", 4, "Description", "s", desc, "Slice", "s", NSBOX_SLICE,
                                          "CollectMode", "s", "inactive-or-failed", "PIDs", "au", 1,
                                          (uint32_t)pid);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r >= 0)
                r = sd_bus_call_async(bus, &j->slot, m, on_start_reply, j, CALL_TIMEOUT_USEC);
        if (r < 0)
                return r;
        j->pending = true;
        j->next = jobs;
        jobs = j;
        bus_rearm();
        return 0;
}

/* The box has ended.  Its scope normally goes by itself, when systemd sees
 * its cgroup empty; but an init that died while its start job ran was
 * attached as a zombie, and its cgroup never was populated, so that
 * systemd would keep the scope "running" forever.  It is stopped, always:
 * for a scope that went already, systemd just says there is none, and
 * one whose start job is still queued never starts. */
void units_forget(struct unit_job *j)
{
        bool asked = j->pending || j->started;

        if (j->pending) {
                j->pending = false;
                job_unlink(j);
        }
        /* A start job still queued is replaced by the stop job. */
        if (asked && bus)
                (void)sd_bus_call_method_async(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                               "org.freedesktop.systemd1.Manager", "StopUnit", NULL, NULL, "ss",
                                               j->name, "replace");
        j->started = false;
        bus_rearm();
}
