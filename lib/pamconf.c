/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pamconf.h"

#include <dirent.h>
#include <fcntl.h>

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

bool pam_stack_has_module(const char *dir, const char *skip)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        bool found = false;

        if (!d)
                return false;
        while (!found && (e = readdir(d)))
                if (e->d_name[0] != '.' && (!skip || strcmp(e->d_name, skip) != 0))
                        found = file_has_module(dirfd(d), e->d_name);
        closedir(d);
        return found;
}
