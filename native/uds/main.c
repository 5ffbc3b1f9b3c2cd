/*
 * tresty-uds-echo SOCKET_PATH [threads]: the unix-domain-socket side of the
 * FFI-vs-UDS benchmark, built the way a user would build it (epoll, persistent
 * connections, pipelined length-prefixed frames, one write per wakeup), and
 * answering with the same echo logic as libecho_c.so.
 * SIGTERM or SIGINT: remove the socket and exit 0.
 */
#define _GNU_SOURCE /* accept4, strdup, S_ISSOCK even under -std=c11 */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const char *path)
{
    struct sockaddr_un a;
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, "tresty-uds-echo: socket path longer than %zu bytes: %s\n",
                sizeof a.sun_path - 1, path);
        exit(2);
    }
    /* A socket left by a killed server would make bind fail; anything else is kept. */
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0) {
        fprintf(stderr, "tresty-uds-echo: cannot listen on %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    static int lfd;
    sigset_t stop;
    int threads = 1, i, sig;

    if (argc < 2 || argc > 3 || (argc == 3 && (threads = atoi(argv[2])) < 1)) {
        fprintf(stderr, "usage: %s SOCKET_PATH [threads >= 1]\n", argv[0]);
        return 2;
    }
    /* Only this thread takes the stop signals; the loops inherit the mask. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    lfd = listen_on(argv[1]);
    for (i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, uds_loop, &lfd) != 0) {
            fprintf(stderr, "tresty-uds-echo: cannot start thread %d\n", i);
            unlink(argv[1]);
            return 1;
        }
        pthread_detach(t);
    }
    printf("tresty-uds-echo: listening on %s (%d thread%s)\n", argv[1], threads, threads == 1 ? "" : "s");
    fflush(stdout);

    sigwait(&stop, &sig);
    unlink(argv[1]);
    return 0; /* the loops end with the process */
}
