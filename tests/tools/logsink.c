/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A syslog listener for the test world: binds /dev/log (inside the world's
 * private /dev) and appends every datagram, one per line, to a file. */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[8192];
        int s, out;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: logsink SOCKET FILE\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        unlink(argv[1]);
        s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("logsink: bind");
                return 1;
        }
        chmod(argv[1], 0666);
        out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out < 0) {
                perror("logsink: open");
                return 1;
        }
        for (;;) {
                ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        continue;
                if (buf[n - 1] != '\n')
                        buf[n++] = '\n';
                if (write(out, buf, (size_t)n) < 0)
                        return 1;
        }
}
