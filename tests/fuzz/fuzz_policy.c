/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the policy reader (iniparser plus our checks), and resolving
 * and expanding what it accepts. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char *groups[] = { (char *)"alice", (char *)"dev", NULL };
        struct ident id = { .name = (char *)"alice", .uid = 2001, .gid = 2001, .group = (char *)"alice",
                            .home = (char *)"/home/alice", .groups = groups, .n_groups = 2 };
        struct policy p = {};
        int fd = memfd_create("policy", MFD_CLOEXEC);

        if (fd < 0)
                return 0;
        if (write_all(fd, data, size) == 0 && policy_load_fd(&p, fd, "fuzz.conf") == 0 && p.n_errors == 0) {
                struct resolved r;
                struct box_spec s = {};
                char *why = NULL;

                policy_resolve(&p, &id, &r);
                (void)policy_is_exempt(&p, &id);
                if (policy_build_spec(&r, &id, &s, &why) == 0) {
                        const char *w = NULL;
                        (void)box_spec_validate(&s, &w);
                        box_spec_done(&s);
                }
                free(why);
        }
        policy_done(&p);
        close(fd);
        return 0;
}
