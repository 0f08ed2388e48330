/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The helper's wire protocol: what is sent is what is received, and the
 * decoder rejects every malformed message. */
#include "unit.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "proto.h"

static void sample_spec(struct box_spec *s)
{
        *s = (struct box_spec){ .uid = 2001, .gid = 2001, .namespaces = NS_ALL, .share = SHARE_USER, .linger = 7,
                                .propagation = PROP_PRIVATE, .private_tmp = true, .hide_homes = true,
                                .x11 = X11_NONE, .display = 3 };
        assert_int_equal(xstrdup(&s->user, "alice"), 0);
        assert_int_equal(xstrdup(&s->home, "/home/alice"), 0);
        assert_int_equal(xstrdup(&s->hostname, "box-alice"), 0);
        assert_int_equal(spec_path_push(&s->read_only, &s->n_read_only, "/srv/ro", false), 0);
        assert_int_equal(spec_path_push(&s->read_only, &s->n_read_only, "/opt", true), 0);
        assert_int_equal(spec_path_push(&s->inaccessible, &s->n_inaccessible, "/secret", false), 0);
        assert_int_equal(spec_bind_push(s, "/a", "/b", true, false), 0);
        assert_int_equal(spec_bind_push(s, "/c", "/d", false, true), 0);
        assert_int_equal(spec_path_push(&s->tmp_keep, &s->n_tmp_keep, "/tmp/.font-unix", true), 0);
        assert_int_equal(xstrdup(&s->tmpfs_size, "10%"), 0);
        assert_int_equal(xstrdup(&s->tmpfs_inodes, "100k"), 0);
        limits_init(&s->limits);
        s->limits.v[L_TASKS_MAX] = 100;
        s->limits.v[L_CPU_MAX] = 2000000;
}

static void test_open_roundtrip(void **state)
{
        struct box_spec s, r = {};
        struct session_info si = { .service = (char *)"sshd", .tty = (char *)"ssh", .rhost = (char *)"127.0.0.1" }, rsi = {};
        struct msg *m = malloc(sizeof(*m));
        (void)state;

        sample_spec(&s);
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        assert_int_equal(proto_parse_open(m, &r, &rsi), 0);
        assert_string_equal(r.user, "alice");
        assert_int_equal(r.uid, 2001);
        assert_string_equal(r.home, "/home/alice");
        assert_int_equal(r.namespaces, NS_ALL);
        assert_int_equal(r.share, SHARE_USER);
        assert_int_equal(r.linger, 7);
        assert_int_equal(r.propagation, PROP_PRIVATE);
        assert_true(r.private_tmp && r.hide_homes);
        assert_int_equal(r.n_read_only, 2);
        assert_true(r.read_only[1].optional);
        assert_string_equal(r.read_only[1].path, "/opt");
        assert_int_equal(r.n_binds, 2);
        assert_true(r.binds[0].ro && !r.binds[0].optional);
        assert_true(!r.binds[1].ro && r.binds[1].optional);
        assert_string_equal(r.hostname, "box-alice");
        assert_int_equal(r.x11, X11_NONE);
        assert_int_equal(r.display, 3);
        assert_int_equal(r.n_tmp_keep, 1);
        assert_true(r.tmp_keep[0].optional);
        assert_string_equal(r.tmp_keep[0].path, "/tmp/.font-unix");
        assert_string_equal(r.tmpfs_size, "10%");
        assert_string_equal(r.tmpfs_inodes, "100k");
        assert_int_equal(r.limits.v[L_TASKS_MAX], 100);
        assert_int_equal(r.limits.v[L_CPU_MAX], 2000000);
        assert_true(r.limits.v[L_MEMORY_MAX] == LIMIT_UNSET && r.limits.v[L_IO_WEIGHT] == LIMIT_UNSET);
        assert_true(box_spec_same_policy(&s, &r));
        {
                const char *why = NULL;

                /* The sample lacks a network pool, which is checked after. */
                (void)box_spec_validate(&r, &why);
                assert_true(!why || strcmp(why, "cgroup view") != 0);
                assert_int_equal(xstrdup(&r.cgroup_view, "/user.slice/../system.slice"), 0);
                assert_int_equal(box_spec_validate(&r, &why), -EINVAL);
                assert_string_equal(why, "cgroup view");
        }
        r.limits.v[L_TASKS_MAX] = 101;
        assert_false(box_spec_same_policy(&s, &r));
        assert_string_equal(rsi.service, "sshd");
        assert_string_equal(rsi.rhost, "127.0.0.1");
        box_spec_done(&s);
        box_spec_done(&r);
        session_info_done(&rsi);
        free(m);
}

/* No display is sent as no attribute, and read back as -1. */
static void test_no_display(void **state)
{
        struct box_spec s, r = {};
        struct session_info rsi = {};
        struct msg *m = malloc(sizeof(*m));
        (void)state;

        sample_spec(&s);
        s.display = -1;
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, NULL), 0);
        assert_int_equal(proto_parse_open(m, &r, &rsi), 0);
        assert_int_equal(r.display, -1);
        box_spec_done(&s);
        box_spec_done(&r);
        session_info_done(&rsi);
        free(m);
}

/* A message is the same whatever its buffer held before: every byte it
 * sends, attribute padding included, is written as it is built.  Built
 * twice, into a buffer of zeros and one of 0xff. */
static void build_messages(struct msg *m, int fill, size_t *lens)
{
        struct session_info si = { .service = (char *)"sshd", .tty = (char *)"pts/1", .rhost = (char *)"::1" };
        struct error_reply e = { .error = ENOENT };
        struct step_time st = { .usec = 5 };
        struct box_spec s;

        sample_spec(&s);
        snprintf(e.step, sizeof(e.step), "%s", "views");
        snprintf(e.object, sizeof(e.object), "%s", "/srv/a");
        snprintf(st.step, sizeof(st.step), "%s", "bind");
        snprintf(st.object, sizeof(st.object), "%s", "/srv/d");
        memset(&m[0], fill, sizeof(m[0]) * 4);
        msg_init(&m[0], MSG_OPEN);
        assert_int_equal(proto_put_open(&m[0], &s, &si), 0);
        msg_init(&m[1], MSG_SPEC);
        assert_int_equal(proto_put_spec(&m[1], &s), 0);
        msg_init(&m[2], MSG_ERROR);
        assert_int_equal(proto_put_error(&m[2], &e), 0);
        msg_init(&m[3], MSG_OK);
        assert_int_equal(proto_put_timing(&m[3], &st), 0);
        for (int i = 0; i < 4; i++)
                lens[i] = msg_len(&m[i]);
        box_spec_done(&s);
}

static void test_no_stale_bytes(void **state)
{
        struct msg *zero = malloc(4 * sizeof(*zero)), *ones = malloc(4 * sizeof(*ones));
        size_t lz[4], lo[4];
        (void)state;

        assert_non_null(zero);
        assert_non_null(ones);
        build_messages(zero, 0x00, lz);
        build_messages(ones, 0xff, lo);
        for (int i = 0; i < 4; i++) {
                assert_int_equal(lz[i], lo[i]);
                assert_memory_equal(zero[i].buf, ones[i].buf, lz[i]);
        }
        free(zero);
        free(ones);
}

/* The offsets of a message's string attributes, nested ones included. */
static bool is_string_attr(uint16_t t)
{
        static const uint16_t strings[] = { A_USER, A_HOME, A_READ_ONLY, A_INACCESSIBLE, A_BIND_SRC,
                                            A_BIND_DST, A_HOSTNAME, A_SERVICE, A_TTY, A_RHOST, A_TMP_KEEP,
                                            A_TMPFS_SIZE, A_TMPFS_INODES, A_CGROUP_VIEW };

        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                if (t == strings[i])
                        return true;
        return false;
}

static size_t string_attrs(const struct msg *m, size_t *off, size_t max)
{
        const struct nlmsghdr *h = (const struct nlmsghdr *)m->buf;
        const struct nlattr *a, *b;
        size_t n = 0;

        mnl_attr_for_each(a, h, 0) {
                if (is_string_attr(mnl_attr_get_type(a)) && n < max)
                        off[n++] = (const char *)a - m->buf;
                if (mnl_attr_get_type(a) != A_BIND && mnl_attr_get_type(a) != A_SESSION)
                        continue;
                mnl_attr_for_each_nested(b, a)
                        if (is_string_attr(mnl_attr_get_type(b)) && n < max)
                                off[n++] = (const char *)b - m->buf;
        }
        return n;
}

static void test_rejects_malformed(void **state)
{
        struct box_spec s, r;
        struct session_info si = { .service = (char *)"sshd", .tty = (char *)"pts/1", .rhost = (char *)"::1" }, rsi;
        struct msg *m = malloc(sizeof(*m)), *c = malloc(sizeof(*c));
        struct nlmsghdr *h;
        (void)state;

        sample_spec(&s);
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);

        /* Every truncation, as received from a socket, is refused there. */
        {
                int sv[2];

                assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
                for (size_t len = 1; len < msg_len(m); len++) {
                        assert_int_equal(write(sv[0], m->buf, len), (ssize_t)len);
                        assert_int_equal(msg_recv(sv[1], c, NULL), -EBADMSG);
                        assert_int_equal(msg_check_frame(m, len), -EBADMSG);
                }
                /* And the whole message is taken. */
                assert_int_equal(write(sv[0], m->buf, msg_len(m)), (ssize_t)msg_len(m));
                assert_int_equal(msg_recv(sv[1], c, NULL), 0);
                close(sv[0]);
                close(sv[1]);
        }
        /* A header that claims less than its last attribute holds. */
        memcpy(c, m, sizeof(*m));
        ((struct nlmsghdr *)c->buf)->nlmsg_len -= 4;
        assert_int_equal(proto_parse_open(c, &r, &rsi), -EBADMSG);
        /* The wrong message type. */
        memcpy(c, m, sizeof(*m));
        ((struct nlmsghdr *)c->buf)->nlmsg_type = MSG_CLOSE;
        assert_int_equal(proto_parse_open(c, &r, &rsi), -EBADMSG);
        /* Another protocol version. */
        memcpy(c, m, sizeof(*m));
        h = (struct nlmsghdr *)c->buf;
        *(uint32_t *)((char *)h + NLMSG_HDRLEN + 4) = NSBOX_PROTO_VERSION + 1;
        assert_int_equal(proto_parse_open(c, &r, &rsi), -EPROTONOSUPPORT);
        /* A string whose NUL is missing, or is not its last byte: every
         * string attribute of the message, nested ones too, is refused
         * with either mutation. */
        size_t strs[64], n = string_attrs(m, strs, 64);
        assert_int_equal(n, 16);
        for (size_t i = 0; i < n; i++) {
                const struct nlattr *a = (const struct nlattr *)(m->buf + strs[i]);
                size_t len = mnl_attr_get_payload_len(a), at = strs[i] + MNL_ATTR_HDRLEN;

                memcpy(c, m, sizeof(*m));
                c->buf[at + len - 1] = 'X';
                assert_int_equal(proto_parse_open(c, &r, &rsi), -EBADMSG);
                if (len < 2)
                        continue;
                memcpy(c, m, sizeof(*m));
                c->buf[at + len / 2 - 1] = '\0';
                assert_int_equal(proto_parse_open(c, &r, &rsi), -EBADMSG);
        }
        /* Flipping any byte never crashes the decoder. */
        for (size_t i = 0; i < msg_len(m); i++) {
                memcpy(c, m, sizeof(*m));
                c->buf[i] ^= 0xff;
                if (proto_parse_open(c, &r, &rsi) == 0) {
                        box_spec_done(&r);
                        session_info_done(&rsi);
                }
        }
        box_spec_done(&s);
        free(m);
        free(c);
}

/* Append a copy of the message's first top-level attribute of type t. */
#define chdr_mut(m) ((struct nlmsghdr *)(m)->buf)

static void dup_attr(struct msg *m, uint16_t t)
{
        struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
        struct nlattr *a;

        mnl_attr_for_each(a, h, 0) {
                if (mnl_attr_get_type(a) == t) {
                        size_t len = MNL_ALIGN(a->nla_len);

                        memmove((char *)h + h->nlmsg_len, a, len);
                        h->nlmsg_len += len;
                        return;
                }
        }
        fail_msg("no attribute %u to copy", t);
}

static int count_box(const struct box_info *bi, void *userdata)
{
        (void)bi;
        ++*(int *)userdata;
        return 0;
}

/* What an init holds for the next helper, and gives back: a claim for each
 * session with its flags, the record byte for byte with the box's id and
 * token, the end of the answer; and the release that drops a claim. */
static void test_adoption_messages(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        uint8_t cookie[NSBOX_COOKIE_LEN], got_cookie[NSBOX_COOKIE_LEN], token[NSBOX_TOKEN_LEN];
        uint8_t got_token[NSBOX_TOKEN_LEN], rec[300], got_rec[NSBOX_RECORD_MAX];
        struct session_entry se = { .service = "sshd", .tty = "pts/3", .rhost = "192.0.2.7", .pid = 4242,
                                    .created = 1700000000, .flags = SF_USER_MANAGER };
        struct session_entry got;
        char id[NSBOX_ID_LEN + 1];
        uint32_t claims;
        uint64_t usec;
        size_t n;
        (void)state;

        for (size_t i = 0; i < sizeof(rec); i++)
                rec[i] = (uint8_t)(i * 7);
        memset(cookie, 0xc5, sizeof(cookie));
        memset(token, 0x3a, sizeof(token));
        msg_init(m, MSG_CLAIM);
        assert_int_equal(proto_put_claim(m, cookie, &se), 0);
        assert_int_equal(proto_parse_claim(m, got_cookie, &got), 0);
        assert_memory_equal(got_cookie, cookie, sizeof(cookie));
        assert_string_equal(got.service, "sshd");
        assert_string_equal(got.rhost, "192.0.2.7");
        assert_int_equal(got.pid, 4242);
        assert_int_equal(got.flags, SF_USER_MANAGER);
        dup_attr(m, A_COOKIE);
        assert_int_equal(proto_parse_claim(m, got_cookie, &got), -EBADMSG);
        /* A flag nobody defined is refused, not ignored. */
        se.flags = 1u << 7;
        msg_init(m, MSG_CLAIM);
        assert_int_equal(proto_put_claim(m, cookie, &se), 0);
        assert_int_equal(proto_parse_claim(m, got_cookie, &got), -EBADMSG);

        msg_init(m, MSG_RELEASE);
        assert_int_equal(proto_put_cookie(m, cookie), 0);
        assert_int_equal(proto_parse_release(m, got_cookie), 0);
        assert_memory_equal(got_cookie, cookie, sizeof(cookie));
        assert_int_equal(proto_parse_claim(m, got_cookie, &got), -EBADMSG);

        msg_init(m, MSG_RECORD);
        assert_int_equal(proto_put_record(m, "0123abcd", token, rec, sizeof(rec)), 0);
        assert_int_equal(proto_parse_record(m, id, got_token, got_rec, sizeof(got_rec), &n), 0);
        assert_string_equal(id, "0123abcd");
        assert_memory_equal(got_token, token, sizeof(token));
        assert_int_equal(n, sizeof(rec));
        assert_memory_equal(got_rec, rec, sizeof(rec));
        /* A record larger than the room for it, a token of the wrong size. */
        assert_int_equal(proto_parse_record(m, id, got_token, got_rec, sizeof(rec) - 1, &n), -EBADMSG);
        msg_init(m, MSG_RECORD);
        assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
        mnl_attr_put(chdr_mut(m), A_TOKEN, NSBOX_TOKEN_LEN - 1, token);
        mnl_attr_put(chdr_mut(m), A_RECORD, sizeof(rec), rec);
        assert_int_equal(proto_parse_record(m, id, got_token, got_rec, sizeof(got_rec), &n), -EBADMSG);
        /* No token at all. */
        msg_init(m, MSG_RECORD);
        assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
        mnl_attr_put(chdr_mut(m), A_RECORD, sizeof(rec), rec);
        assert_int_equal(proto_parse_record(m, id, got_token, got_rec, sizeof(got_rec), &n), -EBADMSG);

        msg_init(m, MSG_ADOPT_END);
        assert_int_equal(proto_put_adopt_end(m, 3, 1500000), 0);
        assert_int_equal(proto_parse_adopt_end(m, &claims, &usec), 0);
        assert_int_equal(claims, 3);
        assert_int_equal(usec, 1500000);
        msg_init(m, MSG_ADOPT_END);
        mnl_attr_put_u32(chdr_mut(m), A_SESSIONS, 3);
        assert_int_equal(proto_parse_adopt_end(m, &claims, &usec), -EBADMSG);
        free(m);
}

/* nsbox show in parts: a request may say which session to go on before,
 * only a show may, and a reply's cursor is never 0. */
static void test_show_parts(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        char id[NSBOX_ID_LEN + 1];
        uint32_t before, flags;
        (void)state;

        msg_init(m, MSG_SHOW);
        assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
        assert_int_equal(proto_parse_show_request(m, id, &before), 0);
        assert_int_equal(before, UINT32_MAX);
        assert_int_equal(proto_put_show_cursor(m, 17), 0);
        assert_int_equal(proto_parse_show_request(m, id, &before), 0);
        assert_string_equal(id, "0123abcd");
        assert_int_equal(before, 17);
        dup_attr(m, A_SESSIONS);
        assert_int_equal(proto_parse_show_request(m, id, &before), -EBADMSG);
        msg_init(m, MSG_STOP);
        assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
        assert_int_equal(proto_put_show_cursor(m, 17), 0);
        assert_int_equal(proto_parse_box_request(m, MSG_STOP, id, &flags), -EBADMSG);
        msg_init(m, MSG_SHOW);
        assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
        assert_int_equal(proto_put_show_cursor(m, 0), 0);
        assert_int_equal(proto_parse_show_request(m, id, &before), -EBADMSG);
        free(m);
}

/* nsbox list in parts: the request may name where to go on; a reply says
 * whether more follow, and no other flag. */
static void test_list_parts(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        struct box_info bi = { .id = "0123abcd", .user = "alice", .uid = 2001 };
        char after[NSBOX_ID_LEN + 1];
        bool more = false;
        int n = 0;
        (void)state;

        msg_init(m, MSG_LIST);
        assert_int_equal(proto_parse_list_request(m, after), 0);
        assert_string_equal(after, "");
        assert_int_equal(proto_put_box_id(m, "0000ffff"), 0);
        assert_int_equal(proto_parse_list_request(m, after), 0);
        assert_string_equal(after, "0000ffff");
        dup_attr(m, A_BOX_ID);
        assert_int_equal(proto_parse_list_request(m, after), -EBADMSG);

        limits_init(&bi.limits);
        msg_init(m, MSG_LIST_REPLY);
        assert_int_equal(proto_put_boxinfo(m, &bi), 0);
        assert_int_equal(proto_parse_list(m, count_box, &n, &more), 0);
        assert_false(more);
        assert_int_equal(proto_put_flags(m, F_MORE), 0);
        assert_int_equal(proto_parse_list(m, count_box, &n, &more), 0);
        assert_true(more);
        assert_int_equal(n, 2);
        msg_init(m, MSG_LIST_REPLY);
        assert_int_equal(proto_put_boxinfo(m, &bi), 0);
        assert_int_equal(proto_put_flags(m, F_MORE | F_FORCE), 0);
        assert_int_equal(proto_parse_list(m, count_box, &n, &more), -EBADMSG);
        free(m);
}

static void test_required_and_duplicate(void **state)
{
        struct box_spec s, r;
        struct session_info si = { .service = (char *)"sshd" }, rsi;
        struct msg *m = malloc(sizeof(*m)), *c = malloc(sizeof(*c));
        static const uint16_t once[] = { A_VERSION, A_USER, A_UID, A_HOME, A_FLAGS, A_CAP_KEEP, A_LIMITS, A_SERVICE };
        (void)state;

        /* An OPEN without the user's attributes. */
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_parse_open(m, &r, &rsi), -EBADMSG);

        /* A scalar twice is refused; a list's item twice is two items. */
        sample_spec(&s);
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
                memcpy(c, m, sizeof(*m));
                dup_attr(c, once[i]);
                assert_int_equal(proto_parse_open(c, &r, &rsi), -EBADMSG);
        }
        memcpy(c, m, sizeof(*m));
        dup_attr(c, A_READ_ONLY);
        dup_attr(c, A_BIND);
        assert_int_equal(proto_parse_open(c, &r, &rsi), 0);
        assert_int_equal(r.n_read_only, 3);
        assert_int_equal(r.n_binds, 3);
        box_spec_done(&r);
        session_info_done(&rsi);
        box_spec_done(&s);

        /* Every other decoder, each with an attribute twice. */
        {
                struct box_reply b = { .id = "0123abcd" }, rb;
                struct error_reply e = { .error = ENOENT, .step = "bind", .object = "/srv" }, re;
                struct manager_reply mr = { .id = "0123abcd", .namespaces = NS_MOUNT }, rmr;
                struct box_info bi = { .id = "0123abcd", .user = "alice", .uid = 2001 };
                uint8_t cookie[NSBOX_COOKIE_LEN] = { 1 };
                char id[NSBOX_ID_LEN + 1];
                int boxes = 0;

                msg_init(m, MSG_BOX);
                assert_int_equal(proto_put_box(m, &b), 0);
                dup_attr(m, A_COOKIE);
                assert_int_equal(proto_parse_box(m, &rb), -EBADMSG);
                msg_init(m, MSG_ERROR);
                assert_int_equal(proto_put_error(m, &e), 0);
                dup_attr(m, A_STEP);
                assert_int_equal(proto_parse_error(m, &re), -EBADMSG);
                msg_init(m, MSG_MANAGER_REPLY);
                assert_int_equal(proto_put_manager(m, &mr), 0);
                dup_attr(m, A_CAP_KEEP);
                assert_int_equal(proto_parse_manager(m, &rmr), -EBADMSG);
                msg_init(m, MSG_CLOSE);
                assert_int_equal(proto_put_cookie(m, cookie), 0);
                dup_attr(m, A_COOKIE);
                assert_int_equal(proto_parse_cookie(m, cookie), -EBADMSG);
                msg_init(m, MSG_STOP);
                assert_int_equal(proto_put_box_id(m, "0123abcd"), 0);
                dup_attr(m, A_BOX_ID);
                assert_int_equal(proto_parse_box_request(m, MSG_STOP, id, NULL), -EBADMSG);
                /* A list holds many boxes, each with its fields once. */
                limits_init(&bi.limits);
                usage_init(&bi.usage);
                msg_init(m, MSG_LIST_REPLY);
                assert_int_equal(proto_put_boxinfo(m, &bi), 0);
                dup_attr(m, A_BOXINFO);
                assert_int_equal(proto_parse_list(m, count_box, &boxes, NULL), 0);
                assert_int_equal(boxes, 2);
                {
                        struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
                        struct nlattr *nest;

                        msg_init(m, MSG_LIST_REPLY);
                        nest = mnl_attr_nest_start(h, A_BOXINFO);
                        mnl_attr_put_strz(h, A_BOX_ID, "0123abcd");
                        mnl_attr_put_strz(h, A_USER, "alice");
                        mnl_attr_put_u32(h, A_UID, 2001);
                        mnl_attr_put_u32(h, A_UID, 0);
                        mnl_attr_put_u32(h, A_PID, 1);
                        mnl_attr_put_u32(h, A_SESSIONS, 1);
                        mnl_attr_put_u32(h, A_NAMESPACES, NS_MOUNT);
                        mnl_attr_put_u32(h, A_SHARE, 0);
                        mnl_attr_put_u32(h, A_STATE, 0);
                        mnl_attr_put_u64(h, A_CREATED, 1);
                        mnl_attr_nest_end(h, nest);
                        assert_int_equal(proto_parse_list(m, count_box, &boxes, NULL), -EBADMSG);
                }
        }
        free(m);
        free(c);
}

/* The helper hands a new box's init its spec in a message of its own: the
 * cgroup view goes there, and never in a login's OPEN. */
static void test_spec_handoff(void **state)
{
        struct box_spec s, r;
        struct session_info si = { .service = (char *)"sshd" }, rsi;
        struct msg *m = malloc(sizeof(*m));
        (void)state;

        sample_spec(&s);
        assert_int_equal(xstrdup(&s.cgroup_view, "/user.slice/user-2001.slice/session-4.scope"), 0);
        msg_init(m, MSG_SPEC);
        assert_int_equal(proto_put_spec(m, &s), 0);
        assert_int_equal(proto_parse_spec(m, &r), 0);
        assert_string_equal(r.cgroup_view, "/user.slice/user-2001.slice/session-4.scope");
        assert_true(box_spec_same_policy(&s, &r));
        box_spec_done(&r);
        /* Not as an OPEN, nor an OPEN as the spec. */
        assert_int_equal(proto_parse_open(m, &r, &rsi), -EBADMSG);
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        assert_int_equal(proto_parse_open(m, &r, &rsi), -EBADMSG);
        assert_int_equal(proto_parse_spec(m, &r), -EBADMSG);
        /* The spec with a login's attributes is no spec. */
        free(s.cgroup_view);
        s.cgroup_view = NULL;
        msg_init(m, MSG_SPEC);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        assert_int_equal(proto_parse_spec(m, &r), -EBADMSG);
        box_spec_done(&s);
        free(m);
}

static void test_box_error_list(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        struct box_reply b = { .id = "0123abcd", .namespaces = NS_MOUNT, .share = SHARE_SESSION }, rb;
        struct error_reply e = { .error = ENOENT, .step = "bind", .object = "/srv/x" }, re;
        uint8_t cookie[NSBOX_COOKIE_LEN] = { 1, 2, 3 }, rc[NSBOX_COOKIE_LEN];
        (void)state;

        memset(b.cookie, 0xab, sizeof(b.cookie));
        msg_init(m, MSG_BOX);
        assert_int_equal(proto_put_box(m, &b), 0);
        assert_int_equal(proto_parse_box(m, &rb), 0);
        assert_string_equal(rb.id, "0123abcd");
        assert_memory_equal(rb.cookie, b.cookie, NSBOX_COOKIE_LEN);

        msg_init(m, MSG_ERROR);
        assert_int_equal(proto_put_error(m, &e), 0);
        assert_int_equal(proto_parse_error(m, &re), 0);
        assert_int_equal(re.error, ENOENT);
        assert_string_equal(re.step, "bind");
        assert_string_equal(re.object, "/srv/x");

        msg_init(m, MSG_CLOSE);
        assert_int_equal(proto_put_cookie(m, cookie), 0);
        assert_int_equal(proto_parse_cookie(m, rc), 0);
        assert_memory_equal(rc, cookie, NSBOX_COOKIE_LEN);
        msg_init(m, MSG_CLOSE);
        assert_int_equal(proto_parse_cookie(m, rc), -EBADMSG);
        free(m);
}

/* Every state of a box travels in a list, and an unknown one is refused. */
static int collect_state(const struct box_info *bi, void *userdata)
{
        uint32_t *states = userdata;

        states[bi->state] = 1;
        return 0;
}

static void test_list_states(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        uint32_t seen[_BOX_STATE_MAX] = {};
        (void)state;

        msg_init(m, MSG_LIST_REPLY);
        for (uint32_t st = 0; st < _BOX_STATE_MAX; st++) {
                struct box_info bi = { .id = "0123abcd", .user = "alice", .uid = 2001, .state = st };
                limits_init(&bi.limits);
                assert_int_equal(proto_put_boxinfo(m, &bi), 0);
        }
        assert_int_equal(proto_parse_list(m, collect_state, seen, NULL), 0);
        for (uint32_t st = 0; st < _BOX_STATE_MAX; st++)
                assert_int_equal(seen[st], 1);
        assert_string_equal(box_state_to_string(BOX_STARTING), "starting");
        assert_string_equal(box_state_to_string(BOX_STOPPING), "stopping");
        msg_init(m, MSG_LIST_REPLY);
        {
                struct box_info bi = { .id = "0123abcd", .user = "alice", .state = _BOX_STATE_MAX };
                limits_init(&bi.limits);
                assert_int_equal(proto_put_boxinfo(m, &bi), 0);
        }
        assert_int_equal(proto_parse_list(m, collect_state, seen, NULL), -EBADMSG);
        free(m);
}

/* A box's usage and limits travel in its info: what is known as it was,
 * what is not as unknown and unset, and limits out of range are refused. */
static int collect_info(const struct box_info *bi, void *userdata)
{
        struct box_info *out = userdata;

        while (out->id[0])
                out++;
        *out = *bi;
        return 0;
}

static void test_list_usage(void **state)
{
        struct msg *m = malloc(sizeof(*m));
        struct box_info in[2] = { { .id = "0123abcd", .user = "alice" }, { .id = "4567cdef", .user = "bob" } };
        struct box_info out[3] = {};
        (void)state;

        in[0].usage = (struct box_usage){ .tasks = 12, .memory = 1 << 20, .cpu_usec = 5000, .oom_kills = 1 };
        limits_init(&in[0].limits);
        in[0].limits.v[L_TASKS_MAX] = 40;
        usage_init(&in[1].usage);
        limits_init(&in[1].limits);
        msg_init(m, MSG_LIST_REPLY);
        for (size_t i = 0; i < 2; i++)
                assert_int_equal(proto_put_boxinfo(m, &in[i]), 0);
        assert_int_equal(proto_parse_list(m, collect_info, out, NULL), 0);
        assert_memory_equal(&out[0].usage, &in[0].usage, sizeof(in[0].usage));
        assert_memory_equal(&out[0].limits, &in[0].limits, sizeof(in[0].limits));
        assert_false(usage_known(&out[1].usage));
        assert_int_equal(out[1].usage.tasks, USAGE_UNKNOWN);
        assert_false(limits_any(&out[1].limits));

        in[0].limits.v[L_TASKS_MAX] = 0;
        msg_init(m, MSG_LIST_REPLY);
        assert_int_equal(proto_put_boxinfo(m, &in[0]), 0);
        memset(out, 0, sizeof(out));
        assert_int_equal(proto_parse_list(m, collect_info, out, NULL), -EBADMSG);
        free(m);
}

/* A login joins a shared box only when everything its policy decides is the
 * same; what is the login's own (display, debug) may differ. */
static void test_same_policy(void **state)
{
        struct box_spec a, b;
        (void)state;

        sample_spec(&a);
        sample_spec(&b);
        assert_true(box_spec_same_policy(&a, &b));
        b.display = 9;
        b.debug = true;
        assert_true(box_spec_same_policy(&a, &b));
        assert_int_equal(spec_path_push(&b.inaccessible, &b.n_inaccessible, "/srv/secret", false), 0);
        assert_false(box_spec_same_policy(&a, &b));
        box_spec_done(&b);
        sample_spec(&b);
        b.user_root = true;
        assert_false(box_spec_same_policy(&a, &b));
        b.user_root = false;
        free(b.tmpfs_size);
        assert_int_equal(xstrdup(&b.tmpfs_size, "1g"), 0);
        assert_false(box_spec_same_policy(&a, &b));
        free(b.tmpfs_size);
        assert_int_equal(xstrdup(&b.tmpfs_size, "10%"), 0);
        b.binds[0].ro = false;
        assert_false(box_spec_same_policy(&a, &b));
        box_spec_done(&a);
        box_spec_done(&b);
}

static void test_tmpfs_limits(void **state)
{
        (void)state;
        assert_true(tmpfs_limit_valid("10%", true));
        assert_true(tmpfs_limit_valid("100%", true));
        assert_true(tmpfs_limit_valid("512m", true));
        assert_true(tmpfs_limit_valid("4096", true));
        assert_true(tmpfs_limit_valid("100k", false));
        assert_true(tmpfs_limit_valid("2G", false));
        assert_false(tmpfs_limit_valid("10%", false));
        assert_false(tmpfs_limit_valid("101%", true));
        assert_false(tmpfs_limit_valid("0", true));
        assert_false(tmpfs_limit_valid("0%", true));
        assert_false(tmpfs_limit_valid("", true));
        assert_false(tmpfs_limit_valid("m", true));
        assert_false(tmpfs_limit_valid("10mb", true));
        assert_false(tmpfs_limit_valid("-1", true));
        assert_false(tmpfs_limit_valid("1,size=1", true));
        assert_false(tmpfs_limit_valid("99999999999999999999", true));
}

static uint64_t limit_of(enum limit_id id, const char *v)
{
        char *why = NULL;
        uint64_t x = 0;
        int r = limit_parse(id, v, &x, &why);

        /* A refusal always says why; an acceptance never does. */
        assert_true(r == 0 ? why == NULL : why != NULL);
        free(why);
        return r == 0 ? x : 0;
}

static void test_limits(void **state)
{
        char buf[32];
        (void)state;
        assert_int_equal(limit_of(L_TASKS_MAX, "50"), 50);
        assert_true(limit_of(L_TASKS_MAX, "") == LIMIT_UNSET);
        assert_true(limit_of(L_TASKS_MAX, "infinity") == LIMIT_UNSET);
        assert_int_equal(limit_of(L_TASKS_MAX, "0"), 0);
        assert_int_equal(limit_of(L_TASKS_MAX, "4194305"), 0);
        assert_int_equal(limit_of(L_TASKS_MAX, "5k"), 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "512m"), 512ULL << 20);
        assert_int_equal(limit_of(L_MEMORY_MAX, "2G"), 2ULL << 30);
        assert_int_equal(limit_of(L_MEMORY_MAX, "4096"), 4096);
        assert_true(limit_of(L_MEMORY_MAX, "50%") > 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "0"), 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "101%"), 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "12q"), 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "1mb"), 0);
        assert_int_equal(limit_of(L_MEMORY_MAX, "99999999999999999999"), 0);
        assert_int_equal(limit_of(L_MEMORY_SWAP_MAX, "0"), 0);  /* no swap at all: a limit */
        {
                char *why = NULL;
                uint64_t x = 1;
                assert_int_equal(limit_parse(L_MEMORY_SWAP_MAX, "0", &x, &why), 0);
                assert_int_equal(x, 0);
        }
        assert_int_equal(limit_of(L_CPU_WEIGHT, "100"), 100);
        assert_int_equal(limit_of(L_CPU_WEIGHT, "10001"), 0);
        assert_int_equal(limit_of(L_IO_WEIGHT, "0"), 0);
        assert_int_equal(limit_of(L_CPU_MAX, "200%"), 2000000);
        assert_int_equal(limit_of(L_CPU_MAX, "50%"), 500000);
        assert_int_equal(limit_of(L_CPU_MAX, "50"), 0);
        assert_int_equal(limit_of(L_CPU_MAX, "0%"), 0);
        assert_string_equal(limit_format(L_MEMORY_MAX, 512ULL << 20, buf, sizeof(buf)), "512M");
        assert_string_equal(limit_format(L_MEMORY_MAX, 1000, buf, sizeof(buf)), "1000");
        assert_string_equal(limit_format(L_CPU_MAX, 2000000, buf, sizeof(buf)), "200%");
        assert_string_equal(limit_format(L_TASKS_MAX, LIMIT_UNSET, buf, sizeof(buf)), "infinity");
        {
                struct box_limits l;
                limits_init(&l);
                assert_true(limits_valid(&l) && !limits_any(&l));
                l.v[L_TASKS_MAX] = 0;
                assert_false(limits_valid(&l));
                l.v[L_TASKS_MAX] = 10;
                l.v[L_CPU_MAX] = 12345;         /* not whole percent */
                assert_false(limits_valid(&l));
                l.v[L_CPU_MAX] = LIMIT_UNSET;
                assert_true(limits_valid(&l));
                assert_int_equal(limits_mask(&l), 1u << L_TASKS_MAX);
        }
}

static void test_socket_fd_passing(void **state)
{
        struct msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
        int sv[2], fd = -1;
        (void)state;

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        msg_init(m, MSG_OK);
        assert_int_equal(msg_send(sv[0], m, STDIN_FILENO), 0);
        assert_int_equal(msg_recv(sv[1], r, &fd), 0);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        /* An fd the receiver did not ask for is refused, not leaked. */
        assert_int_equal(msg_send(sv[0], m, STDIN_FILENO), 0);
        assert_int_equal(msg_recv(sv[1], r, NULL), -EBADMSG);
        close(sv[0]);
        assert_int_equal(msg_recv(sv[1], r, NULL), -ECONNRESET);
        close(sv[1]);
        free(m);
        free(r);
}

/* A peer that exits with our messages unread (an init that failed with
 * the helper's claim still queued) leaves a reset that the kernel reports
 * before the peer's last message: the message is read all the same. */
static void test_socket_reset_after_last_word(void **state)
{
        struct msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
        int sv[2];
        (void)state;

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        msg_init(m, MSG_CLAIM);
        assert_int_equal(msg_send(sv[0], m, -1), 0);    /* never read */
        msg_init(m, MSG_ERROR);
        assert_int_equal(msg_send(sv[1], m, -1), 0);
        close(sv[1]);
        assert_int_equal(msg_recv(sv[0], r, NULL), 0);
        assert_int_equal(msg_type(r), MSG_ERROR);
        assert_int_equal(msg_recv(sv[0], r, NULL), -ECONNRESET);
        close(sv[0]);
        free(m);
        free(r);
}

/* The user manager's session flag and the wrapper's reply. */
static void test_manager(void **state)
{
        struct box_spec s, r = {};
        struct session_info si = { .service = (char *)"systemd-user", .user_manager = true }, rsi = {};
        struct manager_reply mr = { .id = "1a2b3c4d", .namespaces = NS_MOUNT | NS_PID | NS_NET, .no_new_privs = true,
                                    .cap_bounding = true, .cap_keep = 1u << 13 },
                             got = {};
        struct msg *m = malloc(sizeof(*m));
        (void)state;

        sample_spec(&s);
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        assert_int_equal(proto_parse_open(m, &r, &rsi), 0);
        assert_true(rsi.user_manager);
        box_spec_done(&r);
        session_info_done(&rsi);
        si.user_manager = false;
        msg_init(m, MSG_OPEN);
        assert_int_equal(proto_put_open(m, &s, &si), 0);
        assert_int_equal(proto_parse_open(m, &r, &rsi), 0);
        assert_false(rsi.user_manager);
        box_spec_done(&r);
        session_info_done(&rsi);
        box_spec_done(&s);

        msg_init(m, MSG_MANAGER_REPLY);
        assert_int_equal(proto_put_manager(m, &mr), 0);
        assert_int_equal(proto_parse_manager(m, &got), 0);
        assert_string_equal(got.id, "1a2b3c4d");
        assert_int_equal(got.namespaces, mr.namespaces);
        assert_true(got.no_new_privs && got.cap_bounding);
        assert_int_equal(got.cap_keep, 1u << 13);
        /* Of another type, or with a namespace the protocol does not know: refused. */
        msg_init(m, MSG_BOX);
        assert_int_equal(proto_put_manager(m, &mr), 0);
        assert_int_equal(proto_parse_manager(m, &got), -EBADMSG);
        mr.namespaces |= 1u << 20;
        msg_init(m, MSG_MANAGER_REPLY);
        assert_int_equal(proto_put_manager(m, &mr), 0);
        assert_int_equal(proto_parse_manager(m, &got), -EBADMSG);
        free(m);
}

/* Several fds in one message, as the wrapper gets the box's namespaces. */
static void test_several_fds(void **state)
{
        struct msg *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
        int sv[2], fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO }, got[NSBOX_MAX_FDS];
        size_t n = 0;
        (void)state;

        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        msg_init(m, MSG_OK);
        assert_int_equal(msg_send_fds(sv[0], m, fds, 3), 0);
        assert_int_equal(msg_recv_fds(sv[1], r, got, NSBOX_MAX_FDS, &n), 0);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < n; i++) {
                assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
                close(got[i]);
        }
        /* More than the receiver takes: refused, none kept. */
        assert_int_equal(msg_send_fds(sv[0], m, fds, 3), 0);
        assert_int_equal(msg_recv_fds(sv[1], r, got, 2, &n), -EBADMSG);
        close(sv[0]);
        close(sv[1]);
        free(m);
        free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_roundtrip),
                cmocka_unit_test(test_no_display),
                cmocka_unit_test(test_no_stale_bytes),
                cmocka_unit_test(test_rejects_malformed),
                cmocka_unit_test(test_required_and_duplicate),
                cmocka_unit_test(test_spec_handoff),
                cmocka_unit_test(test_box_error_list),
                cmocka_unit_test(test_list_states),
                cmocka_unit_test(test_list_usage),
                cmocka_unit_test(test_same_policy),
                cmocka_unit_test(test_tmpfs_limits),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_socket_fd_passing),
                cmocka_unit_test(test_socket_reset_after_last_word),
                cmocka_unit_test(test_manager),
                cmocka_unit_test(test_several_fds),
                cmocka_unit_test(test_adoption_messages),
                cmocka_unit_test(test_list_parts),
                cmocka_unit_test(test_show_parts),
        };
        return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
