/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's two sockets: root's, for the module and the CLI, and the
 * user socket, for `nsbox root` and the user manager's wrapper.  One
 * request per connection, each checked against its peer, answered by
 * box.c. */
#pragma once

#include <stdbool.h>

/* Start accepting on the listening sockets (user_fd may be -1). */
int server_start(int root_fd, int user_fd);
/* Close the connections past their deadline: the milliseconds to the
 * next one, or -1 when none is pending. */
int server_expire(void);
unsigned server_connections(void);
/* From now on, logins are refused: the helper is stopping. */
void server_stop(void);
