/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A long-lived PAM application: N full cycles of pam_start, open_session,
 * close_session, pam_end for one user in one process, as a daemon that
 * opens many sessions would.  Prints its fd count and resident memory after
 * the warm-up and at the end, so a test can see whether they grow, and the
 * namespaces it is in before the first session and after the last.
 *
 *   pamloop SERVICE USER CYCLES
 *
 * PAMLOOP_RHOST and PAMLOOP_TTY set those items (any bytes a remote peer or
 * a login could send); PAMLOOP_HOLD=SECONDS keeps each session open that
 * long, for a test to look at it. */
#include <dirent.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int silent_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        (void)n, (void)msg, (void)data;
        *resp = NULL;
        return PAM_CONV_ERR;
}

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        while (readdir(d))
                n++;
        closedir(d);
        return n - 3; /* ".", "..", and the directory itself */
}

static long rss_kib(void)
{
        char line[256];
        long kib = -1;
        FILE *f = fopen("/proc/self/status", "re");

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        kib = strtol(line + 6, NULL, 10);
        if (f)
                fclose(f);
        return kib;
}

/* The namespaces the process is in, as one line of their ids. */
static void print_namespaces(const char *when)
{
        static const char *const kinds[] = { "mnt", "uts", "ipc", "pid_for_children", "net", "cgroup", "user" };

        printf("%s", when);
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                char path[64], id[64];
                ssize_t n;

                snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
                n = readlink(path, id, sizeof(id) - 1);
                id[n < 0 ? 0 : n] = '\0';
                printf(" %s", n < 0 ? "?" : id);
        }
        printf("\n");
}

int main(int argc, char **argv)
{
        struct pam_conv conv = { silent_conv, NULL };
        int cycles, warmup;

        if (argc != 4)
                return 2;
        cycles = atoi(argv[3]);
        warmup = cycles / 10;
        print_namespaces("ns-before");
        for (int i = 0; i < cycles; i++) {
                pam_handle_t *pamh = NULL;

                if (pam_start(argv[1], argv[2], &conv, &pamh) != PAM_SUCCESS)
                        return 3;
                if (getenv("PAMLOOP_RHOST"))
                        pam_set_item(pamh, PAM_RHOST, getenv("PAMLOOP_RHOST"));
                if (getenv("PAMLOOP_TTY"))
                        pam_set_item(pamh, PAM_TTY, getenv("PAMLOOP_TTY"));
                if (pam_open_session(pamh, 0) != PAM_SUCCESS) {
                        fprintf(stderr, "cycle %d: open_session failed\n", i);
                        return 4;
                }
                if (getenv("PAMLOOP_HOLD"))
                        sleep((unsigned)atoi(getenv("PAMLOOP_HOLD")));
                if (pam_close_session(pamh, 0) != PAM_SUCCESS) {
                        fprintf(stderr, "cycle %d: close_session failed\n", i);
                        return 5;
                }
                pam_end(pamh, PAM_SUCCESS);
                if (i + 1 == warmup)
                        printf("warm fds=%d rss_kib=%ld\n", count_fds(), rss_kib());
        }
        print_namespaces("ns-after");
        printf("end fds=%d rss_kib=%ld\n", count_fds(), rss_kib());
        return 0;
}
