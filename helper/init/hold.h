/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the init holds for the helper, and for the next one (hold.c). */
#pragma once

#include <stdbool.h>

#include "transport.h"

/* The spec the box was built from (kept as it came, for a new helper), the
 * box's linger, and the helper's pidfd. */
void hold_init(const struct msg *spec, unsigned linger, int helper_pidfd);

enum { HOLD_AGAIN, HOLD_SIGNAL, HOLD_END };
/* Waits for the next thing to do: a signal to read (HOLD_SIGNAL), or the
 * box's end, decided with no helper there (HOLD_END). */
int hold_wait(int sync_fd, int signal_fd);
