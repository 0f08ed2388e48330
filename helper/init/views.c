/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user view of the filesystem, built with the new mount API on file
 * descriptors: every path is resolved without following symlinks
 * (openat2 RESOLVE_NO_SYMLINKS), so what was checked is what gets mounted.
 *
 * Mounts are applied parents first (component-wise path order), so that
 * read_only = / does not swallow the private /tmp, and read_only =
 * ${HOME}/x lands on top of the re-exposed home.  Sources of binds and the
 * user's home are taken from the original view before anything changes. */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <syslog.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "helper.h"
#include "newfs.h"
#include "util.h"

#define HOMES_ROOT "/home"
#define CGROUP_ROOT "/sys/fs/cgroup"

static int open_nofollow(int dirfd, const char *path, int flags, int *ret)
{
        struct open_how how = {
                /* openat2 rejects O_NOCTTY beside O_PATH. */
                .flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

        if (fd < 0)
                return negative_errno();
        *ret = fd;
        return 0;
}

static int set_attr(int mfd, uint64_t set, uint64_t clr, bool recursive)
{
        struct mount_attr a = { .attr_set = set, .attr_clr = clr };

        if (mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
                return negative_errno();
        return 0;
}

static int clone_tree(int fd, const char *name, bool recursive, int *ret)
{
        int m = open_tree(fd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (name[0] ? 0 : AT_EMPTY_PATH) |
                                            (recursive ? AT_RECURSIVE : 0));
        if (m < 0)
                return negative_errno();
        *ret = m;
        return 0;
}

static int attach(int mfd, int target)
{
        if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

/* A tmpfs of the user's, limited as the policy says. */
static const struct fs_opts *user_tmpfs(const struct box_spec *s, struct fs_opts *o)
{
        *o = (struct fs_opts){ .mode = "1777", .size = s->tmpfs_size, .inodes = s->tmpfs_inodes };
        return o;
}

#define PRIVATE_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

static bool below_home(const char *path, const char *home)
{
        size_t n = strlen(home);

        return strncmp(path, home, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* One component of a relative path: its name into comp, *rest moved past
 * it and its slash, *ret_last set when it is the path's last.  A name too
 * long for a directory entry is -ENAMETOOLONG, never cut short. */
static int path_next(const char **rest, char comp[NAME_MAX + 1], bool *ret_last)
{
        const char *p = *rest, *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (len == 0)
                return -EINVAL;
        if (len > NAME_MAX)
                return -ENAMETOOLONG;
        memcpy(comp, p, len);
        comp[len] = '\0';
        *ret_last = !slash;
        *rest = slash ? slash + 1 : p + len;
        return 0;
}

/* The directories of rel below root, all but its last component, made
 * where missing and never followed: the last one's parent in *ret_dir, its
 * name in last. */
static int make_parents(int root, const char *rel, int *ret_dir, char last[NAME_MAX + 1])
{
        _cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
        bool is_last = false;
        int r = dir < 0 ? negative_errno() : 0;

        while (r >= 0) {
                int next;

                r = path_next(&rel, last, &is_last);
                if (r < 0 || is_last)
                        break;
                if (mkdirat(dir, last, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                r = open_nofollow(dir, last, O_RDONLY | O_DIRECTORY, &next);
                if (r >= 0) {
                        closep(&dir);
                        dir = next;
                }
        }
        if (r < 0)
                return r;
        *ret_dir = TAKE_FD(dir);
        return 0;
}

/* A path the admin named outside the user's own home: every directory on
 * the way must be root's and closed to others (a root-owned sticky one
 * like /tmp aside), or whoever may write there could swap what gets
 * mounted into other users' boxes.  On failure err->object says which. */
static int check_ancestors(const struct box_spec *s, const char *step, const char *path, struct step_error *err)
{
        _cleanup_close_ int dir = -1;
        char prefix[1100];
        const char *p = path;

        if (below_home(path, s->home))
                return 0;
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return step_fail(err, step, path, negative_errno());
        while ((p = strchr(p + 1, '/'))) {
                struct stat st;
                int next, r;
                size_t len = (size_t)(p - path);

                if (len >= sizeof(prefix))
                        return step_fail(err, step, path, -ENAMETOOLONG);
                memcpy(prefix, path, len);
                prefix[len] = '\0';
                r = open_nofollow(AT_FDCWD, prefix, O_PATH | O_DIRECTORY, &next);
                /* A missing directory on the way: the path itself is what
                 * is missing, and what the admin wrote. */
                if (r < 0)
                        return step_fail(err, step, r == -ENOENT ? path : prefix, r);
                closep(&dir);
                dir = next;
                if (fstat(dir, &st) < 0)
                        return step_fail(err, step, prefix, negative_errno());
                if (st.st_uid != 0 || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
                        return step_failf(err, step, -EPERM, "%.120s (on the way to %.80s) is %s", prefix, path,
                                          st.st_uid != 0 ? "not owned by root" : "writable by group or others");
        }
        return 0;
}

/* The last component of a path whose ancestors passed check_ancestors(),
 * opened through its parent.  In a directory that others may write (a
 * root-owned sticky one, or one in the user's home), a path owned by
 * someone other than root and the user may have been made there to catch
 * the user -- bob making /srv/scratch/alice before alice logs in -- and is
 * left out with a log line: 0.  1 with *ret_fd and *ret_st when it may be
 * used, -errno when it cannot be opened. */
static int open_owned(const struct box_spec *s, const char *step, const char *path, int *ret_fd, struct stat *ret_st)
{
        _cleanup_close_ int dir = -1, fd = -1;
        const char *slash = strrchr(path, '/');
        char parent[1100];
        struct stat pst;
        int r;

        if (!slash || (size_t)(slash - path) >= sizeof(parent))
                return -EINVAL;
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
        r = open_nofollow(AT_FDCWD, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, &dir);
        if (r < 0)
                return r;
        r = slash[1] ? open_nofollow(dir, slash + 1, O_PATH, &fd) : open_nofollow(AT_FDCWD, "/", O_PATH, &fd);
        if (r < 0)
                return r;
        if (fstat(dir, &pst) < 0 || fstat(fd, ret_st) < 0)
                return negative_errno();
        if ((pst.st_mode & 022) && ret_st->st_uid != 0 && ret_st->st_uid != s->uid) {
                syslog(LOG_WARNING,
                       "event=%s-skipped user=%s path=%s: it is owned by uid %u, in %s, which others may write", step,
                       s->user, path, (unsigned)ret_st->st_uid, parent[0] ? parent : "/");
                return 0;
        }
        *ret_fd = TAKE_FD(fd);
        return 1;
}

/* ---- the list of mounts to make ----------------------------------------- */

enum op_kind { OP_PROC, OP_MQUEUE, OP_SHM, OP_RESOLV, OP_TMP, OP_HOMES, OP_BIND, OP_RO, OP_INACCESSIBLE, OP_CGROUP };

struct op {
        enum op_kind kind;
        const char *path;       /* the target */
        bool optional;
        bool ro;
        const struct spec_bind *bind;   /* for a bind: what the policy says */
        int src;                /* a detached clone of a bind's source, or -1 */
        bool src_dir;
        int x11;                /* for /tmp: the host's X socket dir (x11 = all) or the display's socket */
};

/* A host path a private /tmp keeps (tmp_keep), cloned before anything changes. */
struct keep {
        const char *path;
        int src;
        bool dir;
};

struct plan {
        struct op ops[512];
        size_t n;
        int home;               /* clone of the user's home, or -1 */
        int store;              /* a tmpfs holding an empty mode-0 file, made on demand */
        bool store_attached;    /* on top of the root, for older kernels (clone_store_file) */
        struct keep keeps[64];
        size_t n_keeps;
};

static int add_op(struct plan *p, enum op_kind kind, const char *path, bool optional, bool ro)
{
        if (p->n >= ARRAY_SIZE(p->ops))
                return -E2BIG;
        p->ops[p->n++] = (struct op){ .kind = kind, .path = path, .optional = optional, .ro = ro,
                                      .src = -1, .x11 = -1 };
        return 0;
}

/* Component-wise order puts a parent before everything below it. */
static int path_cmp(const char *a, const char *b)
{
        for (;;) {
                size_t la, lb;
                int c;

                while (*a == '/')
                        a++;
                while (*b == '/')
                        b++;
                if (!*a || !*b)
                        return (*a != 0) - (*b != 0);
                la = strcspn(a, "/");
                lb = strcspn(b, "/");
                c = strncmp(a, b, la < lb ? la : lb);
                if (c)
                        return c;
                if (la != lb)
                        return la < lb ? -1 : 1;
                a += la;
                b += lb;
        }
}

static const char *op_name(enum op_kind k)
{
        static const char *const names[] = {
                [OP_PROC] = "proc",         [OP_MQUEUE] = "mqueue",  [OP_SHM] = "shm",
                [OP_RESOLV] = "dns",        [OP_TMP] = "private_tmp", [OP_HOMES] = "hide_homes",
                [OP_BIND] = "bind",         [OP_RO] = "read_only",   [OP_INACCESSIBLE] = "inaccessible",
                [OP_CGROUP] = "cgroup",
        };
        return names[k];
}

static int op_cmp(const void *x, const void *y)
{
        const struct op *a = x, *b = y;
        int c = path_cmp(a->path, b->path);

        return c ? c : (int)a->kind - (int)b->kind;
}

/* A root-owned directory under the host's /tmp (the X11 or ICE socket
 * directory), cloned so that it stays reachable in a private /tmp.  A
 * directory of that name owned by anyone else is ignored: a user could have
 * made it to catch other users' clients. */
static int clone_socket_dir(int tmpfd, const char *name, int *ret)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = open_nofollow(tmpfd, name, O_PATH | O_DIRECTORY, &fd);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid != 0)
                return 0;
        return clone_tree(fd, "", false, ret);
}

/* The login's own X socket, /tmp/.X11-unix/X<N>, when it is a socket owned
 * by root (an X server a display manager started) or by the user (a
 * rootless one), in a root-owned directory.  Another user's socket, or one
 * planted by someone else, is never shown. */
static int clone_display_socket(int tmpfd, const struct box_spec *s, int *ret)
{
        _cleanup_close_ int dir = -1, fd = -1;
        struct stat st;
        char name[16];
        int r;

        r = open_nofollow(tmpfd, ".X11-unix", O_PATH | O_DIRECTORY, &dir);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (fstat(dir, &st) < 0)
                return negative_errno();
        if (st.st_uid != 0)
                return 0;
        snprintf(name, sizeof(name), "X%d", s->display);
        r = open_nofollow(dir, name, O_PATH, &fd);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISSOCK(st.st_mode) || (st.st_uid != 0 && st.st_uid != s->uid))
                return 0;
        return clone_tree(fd, "", false, ret);
}

/* A tmp_keep path: kept when it exists and everything from /tmp (or
 * /var/tmp) down to it belongs to root or the user, with no directory on
 * the way that others may write unless it is root's and sticky.  What
 * someone else owns there may have been planted to catch the user, and is
 * left out with a log line; a missing path fails the login unless it is
 * optional. */
static int clone_keep(const struct box_spec *s, const struct spec_path *k, struct keep *ret, struct step_error *err)
{
        _cleanup_close_ int dir = -1;
        const char *rel, *p;
        struct stat st;
        int r;

        rel = strncmp(k->path, "/tmp/", 5) == 0 ? k->path + 5 : k->path + 9;
        r = open_nofollow(AT_FDCWD, rel == k->path + 5 ? "/tmp" : "/var/tmp", O_PATH | O_DIRECTORY, &dir);
        for (p = rel; r >= 0;) {
                char comp[NAME_MAX + 1];
                bool last;
                int next;

                r = path_next(&p, comp, &last);
                if (r < 0)
                        break;
                r = open_nofollow(dir, comp, O_PATH, &next);
                if (r == -ELOOP) {
                        syslog(LOG_WARNING, "event=tmp-keep-skipped user=%s path=%s: %s is a symbolic link", s->user,
                               k->path, comp);
                        return 0;
                }
                if (r < 0)
                        break;
                closep(&dir);
                dir = next;
                if (fstat(dir, &st) < 0) {
                        r = negative_errno();
                        break;
                }
                if ((st.st_uid != 0 && st.st_uid != s->uid) ||
                    (!last && (st.st_mode & 022) && !(st.st_uid == 0 && (st.st_mode & S_ISVTX)))) {
                        syslog(LOG_WARNING, "event=tmp-keep-skipped user=%s path=%s: %s is %s", s->user, k->path,
                               comp, (st.st_uid != 0 && st.st_uid != s->uid) ? "owned by someone else"
                                                                              : "writable by others");
                        return 0;
                }
                if (last)
                        break;
        }
        if (r == -ENOENT && k->optional)
                return 0;
        if (r < 0)
                return step_fail(err, "tmp_keep", k->path, r);
        r = clone_tree(dir, "", true, &ret->src);
        if (r < 0)
                return step_fail(err, "tmp_keep", k->path, r);
        ret->path = k->path;
        ret->dir = S_ISDIR(st.st_mode);
        return 1;
}

static const char *op_name(enum op_kind k);

/* A bind's source, cloned before anything is mounted over the host's
 * view (read-only when the bind is).  One that is missing and optional, or
 * planted by someone else, is left out: its target stays as it is. */
static int prepare_bind(const struct box_spec *s, struct op *o, struct step_error *err)
{
        const struct spec_bind *b = o->bind;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r = check_ancestors(s, "bind", b->src, err);

        if (r == -ENOENT && b->optional) {
                o->optional = true;
                return 0;
        }
        if (r < 0)
                return r;       /* check_ancestors said what */
        r = open_owned(s, "bind", b->src, &fd, &st);
        if ((r == -ENOENT && b->optional) || r == 0) {
                o->optional = true;
                return 0;
        }
        if (r < 0)
                return step_fail(err, "bind", b->src, r);
        o->src_dir = S_ISDIR(st.st_mode);
        r = clone_tree(fd, "", true, &o->src);
        if (r >= 0 && b->ro)
                r = set_attr(o->src, MOUNT_ATTR_RDONLY, 0, true);
        return r < 0 ? step_fail(err, "bind", b->src, r) : 0;
}

/* The X11 sockets a private /tmp shows, taken from the host's /tmp. */
static int prepare_x11(const struct box_spec *s, struct op *o, struct step_error *err)
{
        _cleanup_close_ int tmpfd = -1;
        int r = open_nofollow(AT_FDCWD, "/tmp", O_PATH | O_DIRECTORY, &tmpfd);

        if (r == 0 && s->x11 == X11_ALL)
                r = clone_socket_dir(tmpfd, ".X11-unix", &o->x11);
        else if (r == 0 && s->x11 == X11_DISPLAY && s->display >= 0)
                r = clone_display_socket(tmpfd, s, &o->x11);
        return r < 0 && r != -ENOENT ? step_fail(err, "private_tmp", "/tmp", r) : 0;
}

/* The user's own home, to show again below the hidden homes. */
static int prepare_home(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (strncmp(s->home, HOMES_ROOT "/", strlen(HOMES_ROOT) + 1) != 0)
                return 0;
        r = open_nofollow(AT_FDCWD, s->home, O_PATH | O_DIRECTORY, &fd);
        if (r == -ENOENT)
                return 0;       /* no home to re-expose; the login copes as without a box */
        if (r >= 0)
                r = clone_tree(fd, "", true, &p->home);
        return r < 0 ? step_fail(err, "hide_homes", s->home, r) : 0;
}

static int prepare_keeps(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        for (size_t i = 0; i < s->n_tmp_keep && s->private_tmp; i++) {
                int r;

                if (p->n_keeps >= ARRAY_SIZE(p->keeps))
                        return step_fail(err, "tmp_keep", s->tmp_keep[i].path, -E2BIG);
                p->keeps[p->n_keeps].src = -1;
                r = clone_keep(s, &s->tmp_keep[i], &p->keeps[p->n_keeps], err);
                if (r < 0)
                        return r;
                p->n_keeps += r;
        }
        return 0;
}

static int prepare_sources(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        int r = prepare_keeps(p, s, err);

        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                struct op *o = &p->ops[i];

                if (o->kind == OP_BIND || o->kind == OP_RO || o->kind == OP_INACCESSIBLE) {
                        r = check_ancestors(s, op_name(o->kind), o->path, err);
                        /* An optional path may be missing, with its parents
                         * (for a bind, optional is said of its source). */
                        if (r == -ENOENT && o->optional && o->kind != OP_BIND) {
                                r = 0;
                                continue;
                        }
                }
                if (r >= 0 && o->kind == OP_BIND)
                        r = prepare_bind(s, o, err);
                else if (r >= 0 && o->kind == OP_TMP && strcmp(o->path, "/tmp") == 0)
                        r = prepare_x11(s, o, err);
                else if (r >= 0 && o->kind == OP_HOMES)
                        r = prepare_home(p, s, err);
        }
        return r < 0 ? r : 0;
}

/* ---- applying ------------------------------------------------------------ */

static int mount_fresh(const char *path, const char *type, const struct fs_opts *opts, unsigned attrs, int *ret_mfd)
{
        _cleanup_close_ int target = -1, m = -1;
        int r;

        r = open_nofollow(AT_FDCWD, path, O_PATH | O_DIRECTORY, &target);
        if (r < 0)
                return r;
        r = new_fs(type, opts, attrs, &m);
        if (r < 0)
                return r;
        r = attach(m, target);
        if (r < 0)
                return r;
        if (ret_mfd)
                *ret_mfd = TAKE_FD(m);
        return 0;
}

static int attach_at(int dirfd, const char *name, int src)
{
        _cleanup_close_ int t = -1;
        int r;

        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        r = open_nofollow(dirfd, name, O_PATH | O_DIRECTORY, &t);
        if (r < 0)
                return r;
        return attach(src, t);
}

/* A root-owned, world-writable sticky directory, as X11 and ICE want.
 * One just made here is what the name finds (the tmpfs is the box's,
 * and nothing else runs in it yet); only one that was there already is
 * changed without following a symlink, which glibc does through
 * /proc/self/fd, three calls more. */
static int sticky_dir(int dirfd, const char *name)
{
        int flags = 0;

        if (mkdirat(dirfd, name, 0755) < 0) {
                if (errno != EEXIST)
                        return negative_errno();
                flags = AT_SYMLINK_NOFOLLOW;
        }
        if (fchmodat(dirfd, name, 01777, flags) < 0)
                return negative_errno();
        return 0;
}

/* An empty file or directory to mount on, and the mount. */
static int attach_node(int dirfd, const char *name, bool dir, int src)
{
        _cleanup_close_ int t = -1;
        int r;

        if (dir)
                return attach_at(dirfd, name, src);
        t = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (t < 0 && errno != EEXIST)
                return negative_errno();
        closep(&t);
        r = open_nofollow(dirfd, name, O_PATH, &t);
        return r < 0 ? r : attach(src, t);
}

/* Put a kept host path at the same place in the fresh tmp (root is the tmp's
 * directory fd), making the directories on the way. */
static int attach_keep(int root, const char *rel, const struct keep *k)
{
        _cleanup_close_ int dir = -1;
        char last[NAME_MAX + 1];
        int r = make_parents(root, rel, &dir, last);

        return r < 0 ? r : attach_node(dir, last, k->dir, k->src);
}

static int apply_tmp(struct plan *p, const struct box_spec *s, struct op *o, struct step_error *err)
{
        _cleanup_close_ int dir = -1;
        size_t len = strlen(o->path);
        int r;

        r = mount_fresh(o->path, "tmpfs", user_tmpfs(s, &(struct fs_opts){}), PRIVATE_ATTRS, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return step_fail(err, "private_tmp", o->path, r);
        r = open_nofollow(AT_FDCWD, o->path, O_RDONLY | O_DIRECTORY, &dir);
        if (r >= 0 && strcmp(o->path, "/tmp") == 0) {
                /* X11 and ICE socket directories of the box's own; the X
                 * sockets the policy shows in the first (x11), none of the
                 * host's ICE sockets, which belong to other sessions. */
                if (s->x11 == X11_ALL && o->x11 >= 0)
                        r = attach_at(dir, ".X11-unix", o->x11);
                else {
                        r = sticky_dir(dir, ".X11-unix");
                        if (r >= 0 && o->x11 >= 0) {
                                _cleanup_close_ int x = -1;
                                char name[16];

                                snprintf(name, sizeof(name), "X%d", s->display);
                                r = open_nofollow(dir, ".X11-unix", O_RDONLY | O_DIRECTORY, &x);
                                if (r >= 0)
                                        r = attach_node(x, name, false, o->x11);
                        }
                }
                if (r >= 0)
                        r = sticky_dir(dir, ".ICE-unix");
        }
        if (r < 0)
                return step_fail(err, "private_tmp", o->path, r);
        for (size_t i = 0; i < p->n_keeps; i++) {
                const struct keep *k = &p->keeps[i];

                if (strncmp(k->path, o->path, len) != 0 || k->path[len] != '/')
                        continue;
                r = attach_keep(dir, k->path + len + 1, k);
                if (r < 0)
                        return step_fail(err, "tmp_keep", k->path, r);
        }
        return 0;
}

/* Make the path below the fresh /home and put the user's home on it. */
static int apply_homes(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        _cleanup_close_ int tmpfs = -1, dir = -1;
        int r;

        r = mount_fresh(HOMES_ROOT, "tmpfs", SMALL_TMPFS("0755"), PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC, &tmpfs);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return step_fail(err, "hide_homes", HOMES_ROOT, r);
        if (p->home >= 0) {
                const char *rel = s->home + strlen(HOMES_ROOT) + 1;

                _cleanup_close_ int parent = -1;
                char last[NAME_MAX + 1];

                r = open_nofollow(AT_FDCWD, HOMES_ROOT, O_RDONLY | O_DIRECTORY, &dir);
                if (r >= 0)
                        r = make_parents(dir, rel, &parent, last);
                if (r >= 0)
                        r = attach_at(parent, last, p->home);
                if (r < 0)
                        return step_fail(err, "hide_homes", s->home, r);
        }
        /* Nobody may add entries beside the home, not even root in the box. */
        r = set_attr(tmpfs, MOUNT_ATTR_RDONLY, 0, false);
        return r < 0 ? step_fail(err, "hide_homes", HOMES_ROOT, r) : 0;
}

/* A bind's target that does not exist is made, an empty directory or file
 * as its source is, the way systemd makes BindPaths= targets: below the
 * user's home as the user (root never creates anything in a directory the
 * user owns), elsewhere as root, where every directory on the way is root's
 * (check_ancestors).  Only the last component: the directory it goes in
 * must exist.  What the user raced into its place is not followed. */
static int make_target(const struct box_spec *s, const char *path, bool dir, int *ret)
{
        _cleanup_close_ int parent = -1, f = -1;
        _cleanup_free_ char *up = strdup(path);
        const bool as_user = below_home(path, s->home);
        char *slash = up ? strrchr(up, '/') : NULL;
        int r = 0;

        if (!slash || slash == up)
                return up ? -EINVAL : -ENOMEM;
        *slash = '\0';
        r = open_nofollow(AT_FDCWD, up, O_PATH | O_DIRECTORY, &parent);
        if (r < 0)
                return r;
        if (as_user) {
                setfsgid(s->gid);
                setfsuid(s->uid);
                /* setfsuid() tells of a failure only through the next call. */
                if ((uid_t)setfsuid(s->uid) != s->uid)
                        r = -EPERM;
        }
        if (r == 0 && dir && mkdirat(parent, slash + 1, 0755) < 0)
                r = negative_errno();
        else if (r == 0 && !dir) {
                f = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0)
                        r = negative_errno();
        }
        if (as_user) {
                setfsuid(0);
                setfsgid(0);
        }
        if (r < 0)
                return r;
        return open_nofollow(parent, slash + 1, O_PATH, ret);
}

static int apply_bind(const struct box_spec *s, struct op *o, struct step_error *err)
{
        _cleanup_close_ int target = -1;
        struct stat st;
        int r;

        if (o->src < 0)
                return 0;       /* optional source that does not exist */
        r = open_nofollow(AT_FDCWD, o->path, O_PATH, &target);
        if (r == -ENOENT)
                r = make_target(s, o->path, o->src_dir, &target);
        if (r < 0)
                return step_fail(err, "bind", o->path, r);
        if (fstat(target, &st) < 0)
                return step_fail(err, "bind", o->path, negative_errno());
        if (S_ISDIR(st.st_mode) != o->src_dir)
                return step_fail(err, "bind", o->path, o->src_dir ? -ENOTDIR : -EISDIR);
        r = attach(o->src, target);
        return r < 0 ? step_fail(err, "bind", o->path, r) : 0;
}

static int apply_ro(struct op *o, struct step_error *err)
{
        _cleanup_close_ int fd = -1, m = -1;
        int r;

        r = open_nofollow(AT_FDCWD, o->path, O_PATH, &fd);
        if (r == -ENOENT && o->optional)
                return 0;
        if (r >= 0)
                r = clone_tree(fd, "", true, &m);
        if (r >= 0)
                r = set_attr(m, MOUNT_ATTR_RDONLY, 0, true);
        if (r >= 0)
                r = attach(m, fd);
        return r < 0 ? step_fail(err, "read_only", o->path, r) : 0;
}

/* A small private tmpfs for the files the box gets instead of the host's:
 * an empty mode-0 file for inaccessible non-directories, resolv.conf. */
static int ensure_store(struct plan *p)
{
        if (p->store >= 0)
                return 0;
        return new_fs("tmpfs", SMALL_TMPFS("0755"), PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC, &p->store);
}

/* Clone a file of the store.  Kernels before 6.15 (Debian's 6.1 and 6.12
 * among them) refuse to clone from a mount that is not in the caller's
 * mount namespace, and a detached fsmount() is in none: open_tree() says
 * EINVAL.  There the store is attached while the views are built, on top
 * of the box's root -- nobody else is in this namespace yet, and no path
 * lookup of ours passes there, rooted as we are beneath it -- and taken
 * away again when they are done (detach_store). */
static int clone_store_file(struct plan *p, const char *name, int *ret)
{
        _cleanup_close_ int root = -1;
        int r;

        r = clone_tree(p->store, name, false, ret);
        if (r != -EINVAL || p->store_attached)
                return r;
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return negative_errno();
        r = attach(p->store, root);
        if (r < 0)
                return r;
        p->store_attached = true;
        return clone_tree(p->store, name, false, ret);
}

static int detach_store(struct plan *p)
{
        char self[64];

        if (!p->store_attached)
                return 0;
        snprintf(self, sizeof(self), "/proc/self/fd/%d", p->store);
        if (umount2(self, MNT_DETACH) < 0)
                return negative_errno();
        p->store_attached = false;
        return 0;
}

/* Put a read-only copy of store file `name` over target. */
static int cover_with_store_file(struct plan *p, const char *name, int target)
{
        _cleanup_close_ int m = -1;
        int r;

        r = clone_store_file(p, name, &m);
        if (r >= 0)
                r = set_attr(m, PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY, 0, false);
        if (r >= 0)
                r = attach(m, target);
        return r;
}

static int apply_inaccessible(struct plan *p, struct op *o, struct step_error *err)
{
        _cleanup_close_ int fd = -1, m = -1;
        const unsigned attrs = PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY;
        struct stat st;
        int r;

        r = open_nofollow(AT_FDCWD, o->path, O_PATH, &fd);
        if (r == -ENOENT && o->optional)
                return 0;
        if (r < 0)
                return step_fail(err, "inaccessible", o->path, r);
        if (fstat(fd, &st) < 0)
                return step_fail(err, "inaccessible", o->path, negative_errno());
        if (S_ISDIR(st.st_mode)) {
                r = new_fs("tmpfs", SMALL_TMPFS("0000"), attrs, &m);
                if (r >= 0)
                        r = attach(m, fd);
        } else {
                /* Non-directories are covered by an empty mode-0 file. */
                r = ensure_store(p);
                if (r >= 0 && faccessat(p->store, "empty", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        int f = openat(p->store, "empty", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
                        if (f < 0)
                                r = negative_errno();
                        else
                                close(f);
                }
                if (r >= 0)
                        r = cover_with_store_file(p, "empty", fd);
        }
        return r < 0 ? step_fail(err, "inaccessible", o->path, r) : 0;
}

/* dns = ADDR...: the box's own resolv.conf over the host's.  /etc is the
 * admin's, so a symlink there (to a resolver's file under /run) is
 * followed; what it leads to must be a root-owned regular file. */
static int apply_resolv(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        _cleanup_close_ int target = -1, f = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        target = open("/etc/resolv.conf", O_PATH | O_CLOEXEC);
        if (target < 0)
                return step_fail(err, "dns", "/etc/resolv.conf", negative_errno());
        if (fstat(target, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
                return step_fail(err, "dns", "/etc/resolv.conf", -EPERM);
        for (size_t i = 0; i < s->n_dns; i++)
                len += strlen(s->dns[i]) + 16;
        text = malloc(len + 64);
        if (!text)
                return -ENOMEM;
        strcpy(text, "# pam_nsbox: this box's resolvers\n");
        for (size_t i = 0; i < s->n_dns; i++) {
                strcat(text, "nameserver ");
                strcat(text, s->dns[i]);
                strcat(text, "\n");
        }
        r = ensure_store(p);
        if (r >= 0) {
                f = openat(p->store, "resolv.conf", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
                r = f < 0 ? negative_errno() : write_all(f, text, strlen(text));
        }
        if (r >= 0)
                r = cover_with_store_file(p, "resolv.conf", target);
        return r < 0 ? step_fail(err, "dns", "/etc/resolv.conf", r) : 0;
}

static void plan_done(struct plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                closep(&p->ops[i].src);
                closep(&p->ops[i].x11);
        }
        for (size_t i = 0; i < p->n_keeps; i++)
                closep(&p->keeps[i].src);
        closep(&p->home);
        closep(&p->store);
}

/* The box's own cgroup at /sys/fs/cgroup, read-only, over the host's tree
 * (a box of one login: that login's session scope, which carries its
 * limits), so that the box reads its limits there and sees no one else's
 * cgroups.  What cannot be shown leaves the host's tree, said in the log;
 * the login goes on. */
static int apply_cgroup(const struct box_spec *s)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int root = -1, src = -1, m = -1;
        struct statfs sf;
        int r;

        r = open_nofollow(AT_FDCWD, CGROUP_ROOT, O_PATH | O_DIRECTORY, &root);
        if (r >= 0 && (fstatfs(root, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC))
                r = -EOPNOTSUPP;
        if (r >= 0 && (src = (int)syscall(SYS_openat2, root, s->cgroup_view + 1, &how, sizeof(how))) < 0)
                r = negative_errno();
        if (r >= 0)
                r = clone_tree(src, "", false, &m);
        if (r >= 0)
                r = set_attr(m, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, false);
        if (r >= 0)
                r = attach(m, root);
        if (r < 0)
                syslog(LOG_WARNING, "event=cgroup-view-skipped user=%s cgroup=%s: %s", s->user, s->cgroup_view,
                       strerror(-r));
        return 0;
}

static int build_plan(struct plan *p, const struct box_spec *s)
{
        int r = 0;

        if (s->namespaces & NS_PID)
                r = add_op(p, OP_PROC, "/proc", false, false);
        /* An ipc namespace covers System V IPC and POSIX message queues; POSIX
         * shared memory lives in /dev/shm, so the box gets its own too. */
        if (r >= 0 && (s->namespaces & NS_IPC))
                r = add_op(p, OP_MQUEUE, "/dev/mqueue", true, false);
        if (r >= 0 && (s->namespaces & NS_IPC))
                r = add_op(p, OP_SHM, "/dev/shm", true, false);
        if (r >= 0 && s->private_tmp)
                r = add_op(p, OP_TMP, "/tmp", false, false);
        if (r >= 0 && s->private_tmp)
                r = add_op(p, OP_TMP, "/var/tmp", false, false);
        if (r >= 0 && s->hide_homes)
                r = add_op(p, OP_HOMES, HOMES_ROOT, false, false);
        for (size_t i = 0; r >= 0 && i < s->n_binds; i++) {
                r = add_op(p, OP_BIND, s->binds[i].dst, s->binds[i].optional, s->binds[i].ro);
                if (r >= 0)
                        p->ops[p->n - 1].bind = &s->binds[i];
        }
        for (size_t i = 0; r >= 0 && i < s->n_read_only; i++)
                r = add_op(p, OP_RO, s->read_only[i].path, s->read_only[i].optional, true);
        for (size_t i = 0; r >= 0 && i < s->n_inaccessible; i++)
                r = add_op(p, OP_INACCESSIBLE, s->inaccessible[i].path, s->inaccessible[i].optional, false);
        if (r >= 0 && s->n_dns > 0)
                r = add_op(p, OP_RESOLV, "/etc/resolv.conf", false, true);
        if (r >= 0 && s->cgroup_view)
                r = add_op(p, OP_CGROUP, CGROUP_ROOT, true, true);
        return r;
}

/* A fresh kernel filesystem of the box's own: /proc, /dev/mqueue,
 * /dev/shm.  Where the host has no such mount point, there is none. */
static int apply_fresh(const struct box_spec *s, const struct op *o, struct step_error *err)
{
        int r;

        switch (o->kind) {
        case OP_PROC:
                /* procfs shows the PID namespace of its mounter: we are PID 1
                 * of the box, so this /proc is the box's. */
                r = mount_fresh("/proc", "proc", NO_OPTS, PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC, NULL);
                return r < 0 ? step_fail(err, "proc", "/proc", r) : 0;
        case OP_MQUEUE:
                r = mount_fresh("/dev/mqueue", "mqueue", NO_OPTS, PRIVATE_ATTRS | MOUNT_ATTR_NOEXEC, NULL);
                return r < 0 && r != -ENOENT ? step_fail(err, "mqueue", "/dev/mqueue", r) : 0;
        default:
                r = mount_fresh("/dev/shm", "tmpfs", user_tmpfs(s, &(struct fs_opts){}), PRIVATE_ATTRS, NULL);
                return r < 0 && r != -ENOENT ? step_fail(err, "shm", "/dev/shm", r) : 0;
        }
}

static int apply_op(struct plan *p, const struct box_spec *s, struct op *o, struct step_error *err)
{
        switch (o->kind) {
        case OP_PROC:
        case OP_MQUEUE:
        case OP_SHM:
                return apply_fresh(s, o, err);
        case OP_RESOLV:
                return apply_resolv(p, s, err);
        case OP_TMP:
                return apply_tmp(p, s, o, err);
        case OP_HOMES:
                return apply_homes(p, s, err);
        case OP_BIND:
                return apply_bind(s, o, err);
        case OP_RO:
                return apply_ro(o, err);
        case OP_INACCESSIBLE:
                return apply_inaccessible(p, o, err);
        case OP_CGROUP:
                return apply_cgroup(s);
        }
        return step_fail(err, "views", o->path, -EINVAL);
}

/* Every view of the plan, in order: parents before what is mounted below
 * them, each timed when the module's debug argument is on. */
static int apply_plan(struct plan *p, const struct box_spec *s, struct step_error *err)
{
        unsigned long long t = now_usec();
        int r = prepare_sources(p, s, err);

        if (r < 0)
                return r;
        if (s->debug)
                timing_add("sources", "binds,home", now_usec() - t);
        qsort(p->ops, p->n, sizeof(p->ops[0]), op_cmp);
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                t = now_usec();
                r = apply_op(p, s, &p->ops[i], err);
                if (s->debug)
                        timing_add(op_name(p->ops[i].kind), p->ops[i].path, now_usec() - t);
        }
        if (r >= 0 && (r = detach_store(p)) < 0)
                step_fail(err, "views", "store", r);
        return r;
}

int views_apply(const struct box_spec *s, struct step_error *err)
{
        struct mount_attr prop = {
                .propagation = s->propagation == PROP_PRIVATE ? MS_PRIVATE : MS_SLAVE,
        };
        unsigned long long t = now_usec();
        struct plan *p;
        int r;

        /* First of all: nothing made below may travel back to the host. */
        if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &prop, sizeof(prop)) < 0)
                return step_fail(err, "propagation", "/", negative_errno());
        if (s->debug)
                timing_add("propagation", "/", now_usec() - t);
        p = calloc(1, sizeof(*p));
        if (!p)
                return step_fail(err, "plan", "mounts", -ENOMEM);
        p->home = p->store = -1;
        r = build_plan(p, s);
        if (r < 0)
                step_fail(err, "plan", "mounts", r);
        else
                r = apply_plan(p, s, err);
        plan_done(p);
        free(p);
        return r;
}
