/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsbox, the admin CLI: shared pieces. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "client.h"
#include "proto.h"

/* Exit codes of every command. */
enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

struct command {
        const char *name;
        const char *synopsis;
        const char *help;
        int (*run)(int argc, char **argv);
};

/* Print the command's usage to f and return code. */
int command_usage(const struct command *c, FILE *f, int code);
int usage_of(const char *name, FILE *f, int code);
/* argv is one BOX or USER, and flag perhaps: false for anything else. */
bool parse_target(int argc, char **argv, const char *flag, bool *ret_flag, const char **ret_target);
/* True when argv asks for --help or -h (anywhere before "--"). */
bool wants_help(int argc, char **argv);

/* One request to the helper's root-only socket.  -ENOENT/-ECONNREFUSED when
 * no helper runs (there are no boxes then). */
int helper_request(const struct msg *req, struct msg *reply, int *ret_fd);
/* How long the CLI waits for the helper's answer: -ETIMEDOUT after. */
#define CLI_REPLY_TIMEOUT_SEC 10
/* Print s for a terminal: anything but printable ASCII as \xNN. */
void print_clean(FILE *f, const char *s);

/* The live boxes matching BOX (an id) or USER (a user name).  Prints a
 * one-line error and returns EXIT_INVALID when nothing matches. */
int resolve_boxes(const char *cmd, const char *target, struct box_info **ret, size_t *ret_n);

/* boxes.c: every live box (none when no helper runs), and one request
 * about one box (m holds the reply; -ENOENT when the helper answers with
 * an error: the box is gone). */
struct box_list {
        struct box_info *v;
        size_t n, size;         /* size: room in v, which grows by doubling */
};
int fetch_boxes(struct box_list *ret);
int box_request(int type, const char *id, uint32_t flags, struct msg *m, int *ret_fd);
/* A failed request, said once on stderr: EXIT_INVALID. */
int report(const char *cmd, int r);

int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_enter(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_root(int argc, char **argv);
