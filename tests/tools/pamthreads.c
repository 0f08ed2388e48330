/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small multithreaded PAM application, shaped like a display manager: it
 * has a helper thread running (as GLib programs do) while it opens the
 * session, then forks the session's command, waits, and closes.
 *
 *   pamthreads SERVICE USER COMMAND...
 * Exit status: the command's, or 100 + the failing step. */
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int silent_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        (void)n, (void)msg, (void)data;
        *resp = NULL;
        return PAM_CONV_ERR;
}

static void *idle_thread(void *arg)
{
        (void)arg;
        for (;;)
                pause();
        return NULL;
}

int main(int argc, char **argv)
{
        struct pam_conv conv = { silent_conv, NULL };
        pam_handle_t *pamh = NULL;
        struct passwd *pw;
        pthread_t t;
        pid_t pid;
        int status = 0;

        if (argc < 4)
                return 2;
        pw = getpwnam(argv[2]);
        if (!pw || pthread_create(&t, NULL, idle_thread, NULL) != 0)
                return 101;
        if (pam_start(argv[1], argv[2], &conv, &pamh) != PAM_SUCCESS)
                return 102;
        if (pam_open_session(pamh, 0) != PAM_SUCCESS)
                return 103;
        pid = fork();
        if (pid == 0) {
                char **env = pam_getenvlist(pamh);
                if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                        _exit(104);
                execve(argv[3], argv + 3, env);
                _exit(105);
        }
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return 106;
        if (pam_close_session(pamh, 0) != PAM_SUCCESS)
                return 107;
        pam_end(pamh, PAM_SUCCESS);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 108;
}
