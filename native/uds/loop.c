#define _GNU_SOURCE /* accept4, strdup, S_ISSOCK even under -std=c11 */
#include "loop.h"

#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256

static void accept_all(int ep, int lfd)
{
    for (;;) {
        struct epoll_event ev;
        struct conn *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR) continue;
            return; /* EAGAIN: another loop took it, or none left */
        }
        if (!(c = calloc(1, sizeof *c))) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
        ev.events = c->events;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) conn_free(c);
    }
}

void *uds_loop(void *arg)
{
    int lfd = *(int *)arg;
    struct epoll_event ev, evs[MAX_EVENTS];
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0) {
        perror("tresty-uds-echo: epoll_create1");
        exit(1);
    }
    /* Every loop watches the listener; EPOLLEXCLUSIVE wakes one of them per connection. */
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = NULL;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("tresty-uds-echo: epoll_ctl");
        exit(1);
    }
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1), i;
        if (n < 0 && errno != EINTR) {
            perror("tresty-uds-echo: epoll_wait");
            exit(1);
        }
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            enum conn_state st = CONN_OK;
            uint32_t before;

            if (!c) {
                accept_all(ep, lfd);
                continue;
            }
            before = c->events;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) st = conn_on_readable(c);
            else if (evs[i].events & EPOLLOUT) st = conn_on_writable(c);
            if (st == CONN_OK && (evs[i].events & EPOLLOUT) && (evs[i].events & EPOLLIN))
                st = conn_on_writable(c);
            if (st != CONN_OK) {
                conn_free(c); /* close() also removes it from the epoll set */
                continue;
            }
            if (c->events != before) {
                ev.events = c->events;
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
        }
    }
    return NULL;
}
