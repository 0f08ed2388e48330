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

/* Each well-formed range of PATH, until cb returns non-zero (which is
 * returned).  No file: 0. */
static int subid_each(const char *path, int (*cb)(const char *who, uint32_t start, uint32_t count, void *ud), void *ud)
{
        _cleanup_free_ char *why = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t cap = 0;
        int fd, r;

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
                if (parse_u32(start, &s) < 0 || parse_u32(count, &c) < 0 || c == 0)
                        continue;
                r = cb(who, s, c, ud);
                if (r)
                        return r;
        }
        return 0;
}

struct lookup {
        const char *name;
        char idstr[16];
        uint32_t start, count;
};

static int lookup_cb(const char *who, uint32_t start, uint32_t count, void *ud)
{
        struct lookup *l = ud;

        if (strcmp(who, l->name) != 0 && strcmp(who, l->idstr) != 0)
                return 0;
        l->start = start;
        l->count = count;
        return 1;
}

int subid_lookup(const char *path, const char *name, uint32_t id, uint32_t *ret_start, uint32_t *ret_count)
{
        struct lookup l = { .name = name };
        int r;

        snprintf(l.idstr, sizeof(l.idstr), "%u", id);
        r = subid_each(path, lookup_cb, &l);
        *ret_start = l.start;
        *ret_count = l.count;
        return r < 0 ? r : 0;
}

struct owner {
        uint32_t id;
        char *name;
        size_t size;
};

static int owner_cb(const char *who, uint32_t start, uint32_t count, void *ud)
{
        struct owner *o = ud;

        if (o->id < start || o->id - start >= count)
                return 0;
        snprintf(o->name, o->size, "%s", who);
        return 1;
}

int subid_owner(const char *path, uint32_t id, char *ret_name, size_t size)
{
        struct owner o = { .id = id, .name = ret_name, .size = size };

        return subid_each(path, owner_cb, &o);
}
