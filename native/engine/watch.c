/*
 * watch.c: other fds on the engine's epoll, so their events join the engine's pass. Used for FFI
 * plugins' doorbell pipes (src/ffi/bell.ts): a completion then wakes the same epoll_wait as the
 * network, JS drains the completions inside the pass's one call into JS, and the answers they
 * release go out in that pass's flush. Through a libuv stream instead, each doorbell was a
 * separate loop callback (a read, a Buffer, an event) whose answers needed their own flush.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "engine.h"

int te_watch(te_engine *e, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TE_WATCH_TAG | (uint32_t)fd };
    return epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int te_unwatch(te_engine *e, int fd)
{
    return epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* A watched fd is readable: tell JS (a WAKE record naming the fd), then empty it. With no room
   in the inbox it stays readable (level-triggered) and is seen again in the next round. */
void te_watch_event(te_engine *e, int fd)
{
    char *r = te_rec(e, TE_IN_WAKE, NULL, TE_REC_HDR, 0);
    if (!r) return;
    uint32_t u = (uint32_t)fd;
    memcpy(r + TE_REC_CONN, &u, 4);
    char buf[256];
    ssize_t n;
    /* The fd is non-blocking (a doorbell pipe); bytes are only wake-ups, their count is moot. */
    while ((n = read(fd, buf, sizeof buf)) == (ssize_t)sizeof buf) {}
    /* The writer is gone (a plugin unloaded): an fd at EOF stays readable, so stop watching it
       rather than wake every pass for nothing. JS still closes it. */
    if (n == 0) te_unwatch(e, fd);
}
