/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes the protocol seed corpus: one well-formed message of each kind. */
#include <fcntl.h>

#include "proto.h"
#include "util.h"

static void save(const char *dir, const char *name, const struct msg *m)
{
        char path[512];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)write_all(fd, m->buf, msg_len(m));
                close(fd);
        }
}

int main(int argc, char **argv)
{
        static struct msg m;
        struct box_spec s = { .uid = 2001, .gid = 2001, .namespaces = NS_ALL, .share = SHARE_USER, .linger = 5,
                              .network = NET_VETH, .isolate = true, .nat = true };
        struct session_info si = { .service = (char *)"sshd", .tty = (char *)"ssh", .rhost = (char *)"192.0.2.7" };
        struct box_info bi = { .id = "1a2b3c4d", .user = "alice", .uid = 2001, .pid = 42, .sessions = 2,
                               .addresses = { "10.213.0.2", "fd00::2" } };
        struct error_reply er = { .error = 2, .step = "bind", .object = "/srv/x" };
        struct box_reply br = { .id = "1a2b3c4d" };
        struct session_entry se = { .service = "su", .tty = "pts/1", .pid = 77 };
        struct step_time st = { .step = "proc", .object = "/proc", .usec = 12 };
        struct manager_reply mr = { .id = "1a2b3c4d", .namespaces = NS_ALL, .no_new_privs = true, .cap_keep = 1u << 13 };
        const char *dir = argc > 1 ? argv[1] : ".";

        limits_init(&s.limits);
        s.limits.v[L_TASKS_MAX] = 64;
        limits_init(&bi.limits);
        bi.limits.v[L_MEMORY_MAX] = 1 << 30;
        bi.usage = (struct box_usage){ .tasks = 3, .memory = 1 << 20, .cpu_usec = 1000, .oom_kills = 0 };
        xstrdup(&s.user, "alice");
        xstrdup(&s.home, "/home/alice");
        xstrdup(&s.hostname, "box-alice");
        xstrdup(&s.pool4, "10.213.0.0/16");
        spec_path_push(&s.read_only, &s.n_read_only, "/srv/ro", true);
        spec_bind_push(&s, "/srv/a", "/srv/b", true, false);
        strv_push(&s.dns, &s.n_dns, "192.0.2.53");
        msg_init(&m, MSG_OPEN);
        proto_put_open(&m, &s, &si);
        save(dir, "open", &m);
        xstrdup(&s.cgroup_view, "/user.slice/user-2001.slice/session-3.scope");
        msg_init(&m, MSG_SPEC);
        proto_put_spec(&m, &s);
        save(dir, "spec", &m);
        free(s.cgroup_view);
        s.cgroup_view = NULL;
        msg_init(&m, MSG_SHOW_REPLY);
        proto_put_boxinfo(&m, &bi);
        proto_put_spec(&m, &s);
        proto_put_session(&m, &se);
        save(dir, "show", &m);
        msg_init(&m, MSG_LIST_REPLY);
        proto_put_boxinfo(&m, &bi);
        proto_put_boxinfo(&m, &bi);
        save(dir, "list", &m);
        msg_init(&m, MSG_ERROR);
        proto_put_error(&m, &er);
        save(dir, "error", &m);
        msg_init(&m, MSG_BOX);
        proto_put_box(&m, &br);
        save(dir, "box", &m);
        msg_init(&m, MSG_STOP);
        proto_put_box_id(&m, "1a2b3c4d");
        proto_put_flags(&m, F_FORCE);
        save(dir, "stop", &m);
        msg_init(&m, MSG_OK);
        proto_put_timing(&m, &st);
        save(dir, "ok", &m);
        si.user_manager = true;
        msg_init(&m, MSG_OPEN);
        proto_put_open(&m, &s, &si);
        save(dir, "open-manager", &m);
        msg_init(&m, MSG_MANAGER_REPLY);
        proto_put_manager(&m, &mr);
        save(dir, "manager", &m);
        box_spec_done(&s);
        return 0;
}
