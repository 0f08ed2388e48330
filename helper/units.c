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
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "cpus.h"
#include "daemon.h"
#include "resources.h"
#include "usage.h"
#include "util.h"

#define CALL_TIMEOUT_USEC (10 * 1000 * 1000ULL)

static sd_bus *bus;
static struct watch bus_watch = { .fd = -1 }, bus_timer = { .fd = -1 };
static struct unit_job *jobs;   /* started, their JobRemoved not yet seen */
static struct unit_call *calls; /* sent, their reply not yet seen */
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

/* The call is answered or given up: out of the list, its slot freed. */
static void call_unlink(struct unit_call *c)
{
        for (struct unit_call **p = &calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        c->next = NULL;
        c->slot = sd_bus_slot_unref(c->slot);
        c->pending = false;
}

static void call_done(struct unit_call *c, const sd_bus_error *e)
{
        call_unlink(c);
        if (e)
                snprintf(c->failure, sizeof(c->failure), "systemd: %s", e->message ? e->message : e->name);
        else
                c->failure[0] = '\0';
        c->done(c);
}

void units_call_cancel(struct unit_call *c)
{
        if (c->pending)
                call_unlink(c);
}

static void bus_drop(void)
{
        static const sd_bus_error gone = SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_DISCONNECTED, "systemd's bus went away");

        /* Whatever was waiting for systemd waits no longer. */
        while (jobs)
                job_done(jobs, "systemd's bus went away");
        while (calls)
                call_done(calls, &gone);
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

/* A call of systemd's manager object, to be filled in and sent. */
static int manager_call(const char *method, sd_bus_message **ret)
{
        return sd_bus_message_new_method_call(bus, ret, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                              "org.freedesktop.systemd1.Manager", method);
}

/* The limits as systemd's properties, appended to an open a(sv), and the
 * box's CPUs when it has a set of them. */
static int append_limits(sd_bus_message *m, const struct box_limits *l, const cpu_set_t *cpus)
{
        uint8_t mask[CPU_SETSIZE / 8];
        size_t n;
        int r = 0;

        for (int i = 0; r >= 0 && i < _L_MAX; i++)
                if (l->v[i] != LIMIT_UNSET)
                        r = sd_bus_message_append(m, "(sv)", limit_defs[i].property, "t", l->v[i]);
        if (r < 0 || !cpus)
                return r;
        n = cpus_mask(cpus, mask, sizeof(mask));
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "AllowedCPUs");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "ay");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', mask, n);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static struct claim *claim_of(const char *unit);
static void pin(struct unit_job *j, const struct box_unit *u);

/* StartTransientUnit("nsbox-ID.scope", "fail", properties, no auxiliaries).
 * A box with limits lives in its user's slice, beside the user's sessions
 * and user manager, and carries the limits itself too.  A login that is no
 * session of the user's (login != 0) starts in it with the init: one job,
 * where a move after it would be a second call. */
int units_start_scope(struct unit_job *j, const struct box_unit *u, pid_t pid, pid_t login)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char desc[128], slice[64];
        bool limited = limits_any(u->limits);
        int r;

        if (!bus && units_enabled() && bus_timer.fd >= 0)
                (void)bus_open();       /* systemd may have come back */
        if (!bus)
                return -ENOTCONN;
        snprintf(j->name, sizeof(j->name), "nsbox-%s.scope", u->box_id);
        snprintf(desc, sizeof(desc), "pam_nsbox box %s of %s", u->box_id, u->user);
        if (limited)
                user_slice_unit(u->uid, slice, sizeof(slice));
        else
                snprintf(slice, sizeof(slice), "%s", NSBOX_SLICE);
        r = manager_call("StartTransientUnit", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", j->name, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", desc, "Slice", "s", slice,
                                          "CollectMode", "s", "inactive-or-failed");
        if (r >= 0 && login > 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 2, (uint32_t)pid, (uint32_t)login);
        else if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
        /* Delegated to root alone, so that a login which is no session of
         * the user's can be moved in (systemd moves processes only into
         * delegated units); nothing creates cgroups below it. */
        if (r >= 0 && limited)
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
        if (r >= 0 && limited)
                pin(j, u);
        if (r >= 0)
                r = append_limits(m, u->limits, j->pinned ? &j->cpus : NULL);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
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

static int on_limit_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        (void)error;
        call_done(userdata, sd_bus_message_get_error(m));
        return 0;
}

/* Where a login's processes will live: logind's scope of one of the user's
 * own sessions, as the kernel reports the opener's cgroup ("0::/user.slice/
 * user-UID.slice/session-N.scope"), or the user's manager, user@UID.service.
 * Anything else -- su or runuser from another user's session, a service --
 * is no session of the user's. */
static int login_unit(pid_t pid, uid_t uid, char *ret_unit, size_t size)
{
        char path[256], manager[32];
        const char *unit;

        if (cgroup_of_pid(pid, path, sizeof(path)) < 0)
                return -ESRCH;
        unit = cgroup_users_unit(path, uid);
        snprintf(manager, sizeof(manager), "user@%u.service", (unsigned)uid);
        if (!unit || (strcmp(unit, manager) != 0 && !unit_is_session_scope(unit)))
                return -ENOENT;
        snprintf(ret_unit, size, "%s", unit);
        return 0;
}

bool units_login_is_users(pid_t pid, uid_t uid)
{
        char unit[64];

        return login_unit(pid, uid, unit, sizeof(unit)) == 0;
}

/* A user's own unit that boxes set limits on: their slice, or their
 * manager's service.  Neither is transient, so systemd keeps what
 * SetUnitProperties sets as drop-ins, /run/systemd/system.control/UNIT.d/
 * 50-SETTING.conf, which would outlive the boxes and apply again at the
 * unit's next start, limits or not.  They are removed when the last box
 * that set them ends; systemd keeps the values it has until the unit
 * stops (or a daemon-reload), and the unit starts afresh from its own
 * configuration.  Two boxes that set one limit: the tighter value holds. */
struct claim {
        char unit[64];
        unsigned boxes;
        struct box_limits set;  /* the values set, LIMIT_UNSET for none */
        bool pinned;            /* AllowedCPUs set, to the first box's CPUs */
        cpu_set_t cpus;
        struct claim *next;
};
static struct claim *claims;

#define CONTROL_DIR "/run/systemd/system.control"

static struct claim *claim_of(const char *unit)
{
        for (struct claim *c = claims; c; c = c->next)
                if (strcmp(c->unit, unit) == 0)
                        return c;
        return NULL;
}

/* The box j claims unit for limits l; returns the values to set there. */
static struct claim *claim(struct unit_job *j, const char *unit, const struct box_limits *l)
{
        struct claim *c = claim_of(unit);

        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c)
                        return NULL;
                snprintf(c->unit, sizeof(c->unit), "%s", unit);
                limits_init(&c->set);
                c->next = claims;
                claims = c;
        }
        if (strcmp(j->claimed, unit) != 0) {
                snprintf(j->claimed, sizeof(j->claimed), "%s", unit);
                c->boxes++;
        }
        for (int i = 0; i < _L_MAX; i++)
                if (l->v[i] < c->set.v[i])
                        c->set.v[i] = l->v[i];
        if (j->pinned && !c->pinned) {
                c->pinned = true;
                c->cpus = j->cpus;
        }
        return c;
}

/* A box whose cpu_max is a whole number of CPUs runs on that many: those
 * of its user's slice when a box of theirs set them there already, else
 * those where the fewest boxes run. */
static void pin(struct unit_job *j, const struct box_unit *u)
{
        unsigned n = cpus_whole(u->limits);
        char slice[64];
        struct claim *c;

        if (!n || j->pinned)
                return;
        user_slice_unit(u->uid, slice, sizeof(slice));
        c = u->share_user ? claim_of(slice) : NULL;
        if (c && c->pinned) {
                j->cpus = c->cpus;
                cpus_hold(&j->cpus);
        } else if (cpus_take(n, &j->cpus) < 0)
                return;
        j->pinned = true;
}

static void remove_dropins(const struct claim *c)
{
        _cleanup_close_ int dir = open(CONTROL_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), sub = -1;
        char name[80];

        snprintf(name, sizeof(name), "%s.d", c->unit);
        if (dir >= 0)
                sub = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        for (int i = 0; sub >= 0 && i <= _L_MAX; i++) {
                const char *setting = i == _L_MAX ? "AllowedCPUs" : limit_defs[i].setting;
                char file[64];

                if (i == _L_MAX ? !c->pinned : c->set.v[i] == LIMIT_UNSET)
                        continue;
                snprintf(file, sizeof(file), "50-%s.conf", setting);
                if (unlinkat(sub, file, 0) < 0 && errno != ENOENT)
                        syslog(LOG_WARNING, "event=limits-left unit=%s file=%s/%s/%s: %m", c->unit, CONTROL_DIR,
                               name, file);
        }
        if (sub >= 0)
                (void)unlinkat(dir, name, AT_REMOVEDIR);        /* when nothing else is in it */
        closep(&sub);
}

static void unclaim(struct unit_job *j)
{
        struct claim *c = j->claimed[0] ? claim_of(j->claimed) : NULL, **p;

        j->claimed[0] = '\0';
        if (!c || --c->boxes > 0)
                return;
        remove_dropins(c);
        for (p = &claims; *p != c; p = &(*p)->next)
                ;
        *p = c->next;
        free(c);
}

/* A login joins a box with limits: the unit that holds its processes gets
 * them -- the user's slice for a shared box (every session of the user,
 * the user manager and the box's PID 1 are below it), the login's own
 * session scope for a box of one session.  A login that is no session of
 * the user's is moved into the box's own scope instead, which carries the
 * limits too.  Returns -EAGAIN when that scope is not started yet: the
 * caller asks again once it is. */
int units_limit_login(const struct box_unit *u, struct unit_job *box_scope, pid_t pid, struct unit_call *call)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const struct box_limits *l = u->limits;
        const cpu_set_t *cpus = box_scope->pinned ? &box_scope->cpus : NULL;
        char unit[64];
        int r;

        if (!bus)
                return -ENOTCONN;
        r = login_unit(pid, u->uid, unit, sizeof(unit));
        if (r == 0 && u->share_user)
                user_slice_unit(u->uid, unit, sizeof(unit));
        /* Session scopes are transient: their drop-ins go with them. */
        if (r == 0 && strncmp(unit, "session-", 8) != 0) {
                struct claim *c = claim(box_scope, unit, u->limits);

                if (!c)
                        return -ENOMEM;
                l = &c->set;
                cpus = c->pinned ? &c->cpus : NULL;
        }
        if (r == 0) {
                r = manager_call("SetUnitProperties", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "sb", unit, 1);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sv)");
                if (r >= 0)
                        r = append_limits(m, l, cpus);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        } else {
                if (!box_scope->started)
                        return -EAGAIN;
                r = manager_call("AttachProcessesToUnit", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "ssau", box_scope->name, "", 1, (uint32_t)pid);
        }
        if (r >= 0)
                r = sd_bus_call_async(bus, &call->slot, m, on_limit_reply, call, CALL_TIMEOUT_USEC);
        if (r >= 0) {
                call->pending = true;
                call->next = calls;
                calls = call;
        }
        bus_rearm();
        return r;
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

        unclaim(j);
        if (j->pinned)
                cpus_release(&j->cpus);
        j->pinned = false;
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

/* A box a helper before us started: its scope exists, and so does the
 * claim its limits made on a unit of the user's, with its CPUs. */
void units_adopt(struct unit_job *j, const char *scope, const char *claimed, const struct box_limits *l,
                 const cpu_set_t *cpus)
{
        snprintf(j->name, sizeof(j->name), "%s", scope);
        j->started = true;
        if (cpus) {
                j->pinned = true;
                j->cpus = *cpus;
                cpus_hold(&j->cpus);
        }
        if (claimed[0] && !claim(j, claimed, l))
                syslog(LOG_WARNING, "event=limits-left box-unit=%s unit=%s: out of memory; its drop-ins stay", scope,
                       claimed);
}
