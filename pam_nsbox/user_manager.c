/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_nsbox.so user_manager, in the systemd-user stack: the session of
 * systemd --user (user@UID.service) is opened in the process that systemd
 * then executes the manager in.  Its box is asked for as for a login, but
 * not joined here: systemd's own code between PAM and exec needs the
 * host's /proc, where this process is.  nsbox-user-manager, which
 * user@.service runs in place of the manager (conf/systemd/), joins the
 * box and starts the manager inside its PID namespace. */
#include <dirent.h>
#include <fcntl.h>
#include <security/pam_ext.h>
#include <syslog.h>

#include "module.h"
#include "util.h"

/* Does this line of a PAM service file put pam_nsbox in its session stack? */
static bool session_line_has_module(const char *line)
{
        const char *p = line + strspn(line, " \t"), *end, *hit;

        if (*p == '-')
                p++;
        if (strncmp(p, "session", 7) != 0 || (p[7] != ' ' && p[7] != '\t'))
                return false;
        end = p + strcspn(p, "#\n");
        for (hit = strstr(p, "pam_nsbox.so"); hit && hit < end; hit = strstr(hit + 1, "pam_nsbox.so")) {
                char before = hit[-1], after = hit[12];

                if ((before == ' ' || before == '\t' || before == '/' || before == ']') &&
                    (after == ' ' || after == '\t' || after == '\n' || after == '\0' || after == '#'))
                        return true;
        }
        return false;
}

static bool file_has_module(int dir, const char *name)
{
        _cleanup_fclose_ FILE *f = NULL;
        char line[1024];
        int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0)
                return false;
        f = fdopen(fd, "re");
        if (!f) {
                close(fd);
                return false;
        }
        while (fgets(line, sizeof(line), f))
                if (session_line_has_module(line))
                        return true;
        return false;
}

/* The user manager is boxed as the user's logins are: only while pam_nsbox
 * is in the session stack of some login service.  The package puts the
 * module into the systemd-user stack, because the manager must be boxed
 * from its start, but enabling boxes for logins is the admin's step
 * (pam-auth-update --enable nsbox, or a line in a service's file); until
 * then the user manager is left alone too.  Includes are not followed: the
 * enabling line is in common-session or in the service's own file. */
static bool enabled_for_logins(void)
{
        DIR *d = opendir("/etc/pam.d");
        struct dirent *e;
        bool found = false;

        if (!d)
                return false;
        while (!found && (e = readdir(d)))
                if (e->d_name[0] != '.' && strcmp(e->d_name, "systemd-user") != 0)
                        found = file_has_module(dirfd(d), e->d_name);
        closedir(d);
        return found;
}

bool user_manager_boxed(pam_handle_t *pamh, const char *user, bool debug)
{
        const void *v = NULL;
        const char *service = pam_get_item(pamh, PAM_SERVICE, &v) == PAM_SUCCESS && v ? v : "-";

        if (strcmp(service, "systemd-user") != 0) {
                pam_syslog(pamh, LOG_WARNING, "the argument user_manager is for the systemd-user stack, not %s: ignored",
                           service);
                return false;
        }
        if (!enabled_for_logins()) {
                if (debug)
                        pam_syslog(pamh, LOG_DEBUG, "event=not-boxed user=%s reason=not-enabled-for-logins", user);
                return false;
        }
        return true;
}
