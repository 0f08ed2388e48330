/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the helper's request decoder, and every other parser of the
 * wire protocol. */
#include <stdint.h>

#include "proto.h"
#include "util.h"

static int ignore_box(const struct box_info *bi, void *userdata)
{
        (void)bi, (void)userdata;
        return 0;
}

static int ignore_time(const struct step_time *st, void *userdata)
{
        (void)st, (void)userdata;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct msg m;
        struct box_spec s;
        struct session_info si;
        struct show_reply sr;
        struct box_reply br;
        struct error_reply er;
        uint8_t cookie[NSBOX_COOKIE_LEN];
        struct manager_reply mr;
        char id[NSBOX_ID_LEN + 1];
        uint32_t flags;

        if (size > sizeof(m.buf))
                return 0;
        memcpy(m.buf, data, size);
        /* What the transport lets through: one whole message. */
        if (msg_check_frame(&m, size) < 0)
                return 0;
        if (proto_parse_spec(&m, &s) == 0)
                box_spec_done(&s);
        if (proto_parse_open(&m, &s, &si) == 0) {
                const char *why = NULL;
                (void)box_spec_validate(&s, &why);
                box_spec_done(&s);
                session_info_done(&si);
        }
        if (proto_parse_show(&m, &sr) == 0)
                show_reply_done(&sr);
        (void)proto_parse_box(&m, &br);
        (void)proto_parse_manager(&m, &mr);
        (void)proto_parse_error(&m, &er);
        (void)proto_parse_cookie(&m, cookie);
        (void)proto_parse_list(&m, ignore_box, NULL, NULL);
        (void)proto_parse_timings(&m, ignore_time, NULL);
        (void)proto_parse_box_request(&m, msg_type(&m), id, &flags);
        (void)proto_parse_empty(&m);
        /* What a helper, an init and the CLI say to each other of adoption
         * and of parts. */
        {
                static uint8_t rec[NSBOX_RECORD_MAX];
                uint8_t token[NSBOX_TOKEN_LEN];
                struct session_entry se;
                uint64_t usec;
                size_t n;

                (void)proto_parse_claim(&m, cookie, &se);
                (void)proto_parse_release(&m, cookie);
                (void)proto_parse_record(&m, id, token, rec, sizeof(rec), &n);
                (void)proto_parse_adopt_end(&m, &flags, &usec);
                (void)proto_parse_list_request(&m, id);
                (void)proto_parse_show_request(&m, id, &flags);
        }
        return 0;
}
