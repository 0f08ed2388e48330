/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the helper changes on the host itself, and only this: forwarding,
 * switched on when a routed box needs it (nat = yes, or isolate = no), and
 * IPv6 router advertisements kept.
 *
 * Switching net.ipv6.conf.all.forwarding on makes every interface a router,
 * and a router ignores router advertisements unless its accept_ra is 2: a
 * host whose kernel takes its IPv6 address and default route from them
 * would lose them (the kernel even drops the routes it learnt).  So every
 * interface that takes them (accept_ra = 1), and the default for new ones,
 * is set to 2 first.
 *
 * Every change is logged, and undone when the last box that needed it is
 * gone, where nobody changed the value since.  They are also written to
 * /run/nsbox/host-changes before they are made: a helper that was killed
 * or stopped leaves that list behind, and the next one undoes them when it
 * starts, or takes them over with the boxes that need them. */
#include <dirent.h>
#include <fcntl.h>
#include <syslog.h>

#include "daemon.h"
#include "util.h"

#define CHANGES_FILE NSBOX_RUNDIR "/host-changes"
#define MAX_CHANGES 256

struct change {
        char path[320];
        char from[8];
        char to[8];
};

static struct change changes[MAX_CHANGES];
static size_t n_changes;

static int read_value(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r = fd < 0 ? negative_errno() : read_short(fd, buf, size);

        if (r == 0)
                buf[strcspn(buf, "\n")] = '\0';
        return r;
}

static int write_value(const char *path, const char *value)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(value);

        if (fd < 0)
                return negative_errno();
        if (write(fd, value, len) != (ssize_t)len)
                return negative_errno();
        return 0;
}

/* The list on disk, rewritten whole (it is a few lines). */
static void save_changes(void)
{
        _cleanup_fclose_ FILE *f = NULL;

        if (n_changes == 0) {
                unlink(CHANGES_FILE);
                return;
        }
        f = fopen(CHANGES_FILE ".new", "we");
        if (!f)
                return;
        for (size_t i = 0; i < n_changes; i++)
                fprintf(f, "%s %s %s\n", changes[i].path, changes[i].from, changes[i].to);
        if (fflush(f) == 0)
                rename(CHANGES_FILE ".new", CHANGES_FILE);
}

/* Set path to value unless it is so already, remembering what it was. */
static int change(const char *path, const char *value, const char *why)
{
        struct change *c;
        char now[8];
        int r;

        r = read_value(path, now, sizeof(now));
        if (r < 0 || strcmp(now, value) == 0)
                return r;
        if (n_changes >= MAX_CHANGES)
                return -E2BIG;
        c = &changes[n_changes++];
        snprintf(c->path, sizeof(c->path), "%s", path);
        snprintf(c->from, sizeof(c->from), "%s", now);
        snprintf(c->to, sizeof(c->to), "%s", value);
        save_changes();
        r = write_value(path, value);
        if (r < 0) {
                n_changes--;
                save_changes();
                return r;
        }
        syslog(LOG_NOTICE, "event=host-change object=%s from=%s to=%s reason=%s", path, c->from, value, why);
        return 0;
}

/* Every interface that takes router advertisements keeps taking them as a
 * router: accept_ra 1 -> 2, for the default of new interfaces too. */
static int keep_router_advertisements(const char *why)
{
        DIR *d = opendir("/proc/sys/net/ipv6/conf");
        struct dirent *e;
        int r = 0;

        if (!d)
                return negative_errno();
        while (r >= 0 && (e = readdir(d))) {
                char path[320], v[8];

                if (e->d_name[0] == '.' || strcmp(e->d_name, "all") == 0 || strcmp(e->d_name, "lo") == 0 ||
                    strncmp(e->d_name, "nsb", 3) == 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", e->d_name);
                if (read_value(path, v, sizeof(v)) == 0 && strcmp(v, "1") == 0)
                        r = change(path, "2", why);
        }
        closedir(d);
        return r;
}

int host_forwarding_on(bool ipv6, const char *why, struct step_error *err)
{
        int r = change("/proc/sys/net/ipv4/ip_forward", "1", why);

        if (r >= 0 && ipv6) {
                char v[8] = "";

                if (read_value("/proc/sys/net/ipv6/conf/all/forwarding", v, sizeof(v)) == 0 && strcmp(v, "1") != 0)
                        r = keep_router_advertisements(why);
                if (r >= 0)
                        r = change("/proc/sys/net/ipv6/conf/all/forwarding", "1", why);
        }
        return r < 0 ? step_fail(err, "forwarding", ipv6 ? "ip_forward, ipv6 forwarding" : "ip_forward", r) : r;
}

/* Undo, newest first (forwarding off before accept_ra goes back), what is
 * still as we set it. */
static void undo(struct change *list, size_t n)
{
        while (n > 0) {
                const struct change *c = &list[--n];
                char now[8];

                if (read_value(c->path, now, sizeof(now)) < 0 || strcmp(now, c->to) != 0)
                        continue;
                if (write_value(c->path, c->from) == 0)
                        syslog(LOG_NOTICE, "event=host-restore object=%s from=%s to=%s", c->path, c->to, c->from);
        }
}

void host_restore(void)
{
        undo(changes, n_changes);
        n_changes = 0;
        save_changes();
}

/* A helper before us left changes made: undone now, before any box of
 * ours needs them again -- or, when it left boxes that we took over, kept
 * as ours, to be undone when the last of them is gone. */
void host_recover(bool keep)
{
        _cleanup_fclose_ FILE *f = fopen(CHANGES_FILE, "re");
        struct change *old;
        size_t n = 0;

        if (!f)
                return;
        old = calloc(MAX_CHANGES, sizeof(*old));
        if (!old)
                return;
        while (n < MAX_CHANGES && fscanf(f, "%319s %7s %7s", old[n].path, old[n].from, old[n].to) == 3)
                /* Only the files we write. */
                if (strncmp(old[n].path, "/proc/sys/net/", 14) == 0 && !strstr(old[n].path, ".."))
                        n++;
        if (keep) {
                memcpy(changes, old, n * sizeof(*old));
                n_changes = n;
        } else {
                undo(old, n);
                unlink(CHANGES_FILE);
        }
        free(old);
}
