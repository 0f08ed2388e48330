/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes one line to a login's terminal (PAM_TTY's "/dev/pts/3", "tty1"),
 * as write(1) does: the device, found below /dev without following
 * anything, must be a terminal its user owns, and the write never waits.
 * -ENOTTY for a login with no terminal, -EPERM for one that is no longer
 * the user's, else 0 or -errno. */
int tty_tell(const char *tty, uid_t uid, const char *line);
/* A terminal's name below /dev as logins give PAM_TTY ("/dev/pts/3",
 * "pts/3", "tty1"), or NULL for what names none ("ssh", "", "x11:0"). */
const char *tty_name(const char *tty);
/* The controlling terminal of a process, as a name below /dev ("pts/3"),
 * or -ENOTTY. */
int tty_of_pid(pid_t pid, char *buf, size_t size);
/* The controlling terminal of a process or of its nearest descendant
 * that has one, down to depth generations, breadth first. */
int tty_of_descendants(pid_t pid, unsigned depth, char *buf, size_t size);
