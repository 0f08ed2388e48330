/* A stand-in for what systemd does to start user@UID.service, for the test
 * world (which has no systemd):
 *
 *   usermgr USER WRAPPER MANAGER [ARGS...]
 *
 * As root: pam_start("systemd-user", USER), pam_open_session; a child that
 * becomes the user and closes the session once we are gone (systemd's
 * "(sd-pam)"); then, in this process, the user's groups and ids with
 * CAP_SYS_ADMIN, CAP_SYS_CHROOT and CAP_SETPCAP kept as ambient capabilities
 * (AmbientCapabilities= of the drop-in), the PAM environment, and an exec
 * of WRAPPER MANAGER ARGS -- as user@.service with pam_nsbox's drop-in. */
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        (void)n, (void)msg, (void)resp, (void)data;
        return PAM_CONV_ERR;
}

int main(int argc, char **argv)
{
        static const cap_value_t keep[] = { CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SETPCAP };
        struct pam_conv c = { conv, NULL };
        pam_handle_t *pamh = NULL;
        struct passwd *pw;
        char **env;
        cap_t caps;
        pid_t parent = getpid();
        int r;

        if (argc < 4) {
                fprintf(stderr, "usage: usermgr USER WRAPPER MANAGER [ARGS...]\n");
                return 2;
        }
        pw = getpwnam(argv[1]);
        if (!pw)
                return 2;
        r = pam_start("systemd-user", argv[1], &c, &pamh);
        if (r == PAM_SUCCESS)
                r = pam_open_session(pamh, 0);
        if (r != PAM_SUCCESS) {
                fprintf(stderr, "usermgr: pam_open_session: %s\n", pam_strerror(pamh, r));
                return 1;
        }
        env = pam_getenvlist(pamh);
        if (fork() == 0) {
                /* (sd-pam): the user, waiting for the manager to go. */
                if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(1);
                while (getppid() == parent)
                        usleep(20000);
                pam_close_session(pamh, 0);
                pam_end(pamh, PAM_SUCCESS);
                _exit(0);
        }
        if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
                perror("usermgr: becoming the user");
                return 1;
        }
        caps = cap_init();
        if (!caps || cap_set_flag(caps, CAP_PERMITTED, 3, keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_EFFECTIVE, 3, keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_INHERITABLE, 3, keep, CAP_SET) < 0 || cap_set_proc(caps) < 0) {
                perror("usermgr: capabilities");
                return 1;
        }
        for (int i = 0; i < 3; i++)
                if (cap_set_ambient(keep[i], CAP_SET) < 0) {
                        perror("usermgr: ambient capabilities");
                        return 1;
                }
        if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
                return 1;
        for (char **e = env; e && *e; e++)
                putenv(*e);
        execv(argv[2], argv + 2);
        perror("usermgr: exec");
        return 127;
}
