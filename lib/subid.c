/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subid.h"

#include <fcntl.h>

#include "paths.h"
#include "util.h"

static int parse_u32(const char *s, uint32_t *ret)
{
        unsigned long v;
        int r = parse_uint(s, UINT32_MAX, &v);

        if (r < 0)
                return r;
        *ret = (uint32_t)v;
        return 0;
}

int subid_lookup(const char *path, const char *name, uint32_t id, uint32_t *ret_start, uint32_t *ret_count)
{
        _cleanup_free_ char *why = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char idstr[16];
        size_t cap = 0;
        int fd, r;

        *ret_start = *ret_count = 0;
        r = open_trusted(path, O_RDONLY, &fd, &why);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        snprintf(idstr, sizeof(idstr), "%u", id);
        while (getline(&line, &cap, f) > 0) {
                char *who = line, *start, *count, *end;
                uint32_t s, c;

                line[strcspn(line, "\n")] = '\0';
                start = strchr(who, ':');
                if (!start)
                        continue;
                *start++ = '\0';
                count = strchr(start, ':');
                if (!count)
                        continue;
                *count++ = '\0';
                end = strchr(count, ':');
                if (end)
                        continue;
                if (strcmp(who, name) != 0 && strcmp(who, idstr) != 0)
                        continue;
                if (parse_u32(start, &s) < 0 || parse_u32(count, &c) < 0 || c == 0)
                        continue;
                *ret_start = s;
                *ret_count = c;
                return 0;
        }
        return 0;
}
