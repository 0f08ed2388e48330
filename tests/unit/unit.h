/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared bits of the cmocka unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util.h"

/* A root-owned scratch directory under $TMPDIR (the test world's /run). */
static inline char *scratch_dir(void)
{
        const char *base = getenv("TMPDIR");
        char *d = NULL;

        assert_int_equal(xasprintf(&d, "%s/unit.XXXXXX", base ? base : "/tmp"), 0);
        assert_non_null(mkdtemp(d));
        assert_int_equal(chmod(d, 0755), 0);
        return d;
}

static inline void write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
        char *p = NULL;
        FILE *f;

        assert_int_equal(xasprintf(&p, "%s/%s", dir, name), 0);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        assert_int_equal(chmod(p, mode), 0);
        free(p);
}
