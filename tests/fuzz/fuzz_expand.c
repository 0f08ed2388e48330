/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: identity checks, section matching and ${...} expansion.  The
 * input is "USER\nGROUP GROUP...\nHOME\nTEMPLATE". */
#include <stdint.h>

#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = strndup((const char *)data, size), *parts[4] = {}, *save = NULL, *out = NULL, *why = NULL;
        struct ident id = { .uid = 1234, .gid = 1234 };
        size_t n = 0;

        if (!buf)
                return 0;
        for (char *t = strtok_r(buf, "\n", &save); t && n < 4; t = strtok_r(NULL, "\n", &save))
                parts[n++] = t;
        if (n < 4 || !ident_name_valid(parts[0]) || !path_is_clean(parts[2])) {
                free(buf);
                return 0;
        }
        id.name = parts[0];
        id.group = parts[0];
        id.home = parts[2];
        if (split_words(parts[1], &id.groups, &id.n_groups) == 0) {
                if (expand(parts[3], &id, &out, &why) == 0) {
                        (void)path_is_clean(out);
                        (void)hostname_valid(out);
                }
                free(out);
                free(why);
                strv_free(id.groups);
        }
        free(buf);
        return 0;
}
