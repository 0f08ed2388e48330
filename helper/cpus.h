/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "resources.h"

#define CPU_USEC_PER_SEC 1000000ULL     /* cpu_max of one whole CPU */

/* How many CPUs a box's cpu_max is, when it is a whole number of them and
 * fewer than the helper may use; else 0 (no cpuset). */
unsigned cpus_whole(const struct box_limits *l);
/* n CPUs where the fewest boxes run, held until cpus_release(). */
int cpus_take(unsigned n, cpu_set_t *ret);
/* One more box on a set taken already (a box that shares its user's). */
void cpus_hold(const cpu_set_t *set);
void cpus_release(const cpu_set_t *set);
/* The set as systemd's AllowedCPUs= takes it on the bus (bit i of byte
 * i/8 for CPU i); returns the bytes used. */
size_t cpus_mask(const cpu_set_t *set, uint8_t *buf, size_t size);
/* "0-1,4", for records. */
const char *cpus_format(const cpu_set_t *set, char *buf, size_t size);
