/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the module, the helper and the CLI: cleanup
 * attributes in the style of systemd, fd hand-off, and checked string
 * building.  Internal functions return 0 or -errno. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Close and forget: a closed number left in a struct would later close
 * whatever the kernel reused it for. */
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
                *fd = -1;
        }
}

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline int take_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}
#define TAKE_FD(fd) take_fd(&(fd))
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })

static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

/* asprintf that returns 0 or -ENOMEM and leaves *ret untouched on failure. */
int xasprintf(char **ret, const char *fmt, ...) _printf_(2, 3);
int xvasprintf(char **ret, const char *fmt, va_list ap) _printf_(2, 0);

/* strdup that returns 0 or -ENOMEM. */
int xstrdup(char **ret, const char *s);

/* Append one string to a NULL-terminated vector. */
int strv_push(char ***v, size_t *n, const char *s);
void strv_free(char **v);
static inline void strv_freep(char ***v)
{
        strv_free(*v);
}

bool streq_ptr(const char *a, const char *b);

/* Parse yes/no/true/false/on/off/1/0. Returns 0/1, or -EINVAL. */
int parse_bool(const char *s);

/* Parse a decimal unsigned value within [0, max]. */
int parse_uint(const char *s, unsigned long max, unsigned long *ret);

/* Split on ASCII whitespace into a new vector. */
int split_words(const char *s, char ***ret, size_t *ret_n);

/* Write all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* One read of a short file (procfs, sysfs, cgroupfs) into buf, NUL-ended. */
int read_short(int fd, char *buf, size_t size);
/* Make (mode) or open the directory path, root's, with none of the
 * forbidden mode bits: its fd in *ret_fd (its stat in *ret_st if given),
 * or -EPERM when it is someone else's or too open. */
int open_root_dir(const char *path, mode_t mode, mode_t forbidden, int *ret_fd, struct stat *ret_st);

/* Monotonic clock in microseconds. */
unsigned long long now_usec(void);
/* Milliseconds from now to a now_usec() deadline, rounded up, for poll()
 * and epoll_wait(): 0 once it has passed. */
int ms_until(unsigned long long deadline);

/* A value fit for a key=value log record: what a login or a peer says of
 * itself (its tty, its remote host) may hold blanks, newlines or escape
 * sequences; each such byte becomes '_'.  Never empty ("-"). */
const char *log_value(const char *in, char *out, size_t size);
