/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

int xvasprintf(char **ret, const char *fmt, va_list ap)
{
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int xasprintf(char **ret, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = xvasprintf(ret, fmt, ap);
        va_end(ap);
        return r;
}

int xstrdup(char **ret, const char *s)
{
        char *d = strdup(s);

        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv;
        char *d;

        d = strdup(s);
        if (!d)
                return -ENOMEM;
        nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(d);
                return -ENOMEM;
        }
        nv[(*n)++] = d;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

int parse_bool(const char *s)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ARRAY_SIZE(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        unsigned long v = 0;

        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                if (v > (max - (unsigned long)(*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned long)(*p - '0');
        }
        *ret = v;
        return 0;
}

int split_words(const char *s, char ***ret, size_t *ret_n)
{
        char **v = NULL;
        size_t n = 0;
        int r;

        while (*s) {
                const char *e;
                char *w;

                while (*s && isspace((unsigned char)*s))
                        s++;
                if (!*s)
                        break;
                for (e = s; *e && !isspace((unsigned char)*e); e++)
                        ;
                w = strndup(s, (size_t)(e - s));
                if (!w) {
                        strv_free(v);
                        return -ENOMEM;
                }
                r = strv_push(&v, &n, w);
                free(w);
                if (r < 0) {
                        strv_free(v);
                        return r;
                }
                s = e;
        }
        if (!v) {
                v = calloc(1, sizeof(char *));
                if (!v)
                        return -ENOMEM;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int read_short(int fd, char *buf, size_t size)
{
        ssize_t n = read(fd, buf, size - 1);

        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

unsigned long long now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
}

int ms_until(unsigned long long deadline)
{
        unsigned long long now = now_usec();

        return deadline <= now ? 0 : (int)((deadline - now + 999) / 1000);
}

const char *log_value(const char *in, char *out, size_t size)
{
        size_t i = 0;

        for (; in && in[i] && i + 1 < size; i++) {
                char ch = in[i];
                bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                          strchr("._:/@+=,-", ch);
                out[i] = ok ? ch : '_';
        }
        out[i] = '\0';
        return i ? out : "-";
}

int open_root_dir(const char *path, mode_t mode, mode_t forbidden, int *ret_fd, struct stat *ret_st)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid != 0 || (st.st_mode & forbidden))
                return -EPERM;
        if (ret_st)
                *ret_st = st;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
