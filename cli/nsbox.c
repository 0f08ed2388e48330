/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox: the admin's view of pam_nsbox.  One form for every command,
 * `nsbox COMMAND [OPTIONS]`, --help on each, exit codes 0 (ok), 1 (not found
 * or invalid), 2 (usage). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "policy.h"
#include "util.h"

static const struct command commands[] = {
        { "check", "check [-c FILE]",
          "Validate the policy (default " NSBOX_DEFAULT_CONFIG ") and its nsbox.d drop-ins as the\n"
          "module reads them; warn about what is valid but probably wrong.",
          cmd_check },
        { "explain", "explain [-c FILE] USER", "Print every key as it applies to USER, and where its value comes from.",
          cmd_explain },
        { "list", "list [--json]", "List the live boxes: id, user, sessions, age, namespaces, init PID, addresses.",
          cmd_list },
        { "show", "show BOX|USER [--json]",
          "Show a box in full: its resolved policy, sessions, mounts as seen inside, processes.", cmd_show },
        { "enter", "enter BOX|USER [--user NAME] [-- CMD...]",
          "Run CMD (default a shell) inside all of the box's namespaces, as root or as NAME.\n"
          "Root only.",
          cmd_enter },
        { "stop", "stop BOX|USER [--force]",
          "End a box (every box of USER): its sessions end, its processes get TERM, then\n"
          "KILL after a grace period; with --force, KILL at once.",
          cmd_stop },
        { "root", "root [-- CMD...]",
          "Run CMD (default your shell) as root of your own box's user namespace, in a\n"
          "mount namespace of its own.  Needs user_root = yes; for the box's own user.",
          cmd_root },
};

int command_usage(const struct command *c, FILE *f, int code)
{
        fprintf(f, "Usage: nsbox %s\n\n%s\n", c->synopsis, c->help);
        return code;
}

int usage_of(const char *name, FILE *f, int code)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return command_usage(&commands[i], f, code);
        return code;
}

static int usage(FILE *f, int code)
{
        fprintf(f, "Usage: nsbox COMMAND [OPTIONS]\n\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  nsbox %s\n", commands[i].synopsis);
        fprintf(f, "\n`nsbox COMMAND --help` says more; `nsbox --version` the release.  Exit codes: 0 ok, 1 not found or invalid, 2 usage.\n");
        return code;
}

bool wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        return false;
}

bool parse_target(int argc, char **argv, const char *flag, bool *ret_flag, const char **ret_target)
{
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], flag) == 0)
                        *ret_flag = true;
                else if (!*ret_target && argv[i][0] != '-')
                        *ret_target = argv[i];
                else
                        return false;
        }
        return *ret_target != NULL;
}

int helper_request(const struct msg *req, struct msg *reply, int *ret_fd)
{
        return helper_call(NSBOX_SOCKET, CLI_REPLY_TIMEOUT_SEC, req, reply, ret_fd);
}

void print_clean(FILE *f, const char *s)
{
        if (!s || !*s) {
                fputc('-', f);
                return;
        }
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x21 || c >= 0x7f || c == '\\')
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage(stderr, EXIT_USAGE);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
                return usage(stdout, EXIT_OK);
        if (strcmp(argv[1], "--version") == 0) {
                printf("nsbox %s\n", NSBOX_VERSION);
                return EXIT_OK;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(argv[1], commands[i].name) == 0) {
                        if (wants_help(argc - 1, argv + 1))
                                return command_usage(&commands[i], stdout, EXIT_OK);
                        return commands[i].run(argc - 1, argv + 1);
                }
        fprintf(stderr, "nsbox: unknown command '%s'\n", argv[1]);
        return usage(stderr, EXIT_USAGE);
}
