/*
 * pass.c: one pass of the engine, run when libuv says its epoll fd is readable, when a deadline
 * comes, or when JS left work (te_host_schedule). It handles every ready event, the work left
 * pending, the deadlines due, then hands the batch to JS and writes what JS answered; it repeats
 * while work is left (bounded), so a busy server makes one JS call per batch, not per request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "engine.h"
#include "upstream.h"

#define EVENTS 512
#define LISTENER_TAG (1ull << 40)
/* multi_accept on: the most taken per listener event, so one busy listener cannot starve the rest. */
#define ACCEPTS_PER_EVENT 64

void te_pend(te_engine *e, te_conn *c)
{
    if (c->flags & TE_C_PENDING) return;
    if (e->npend == e->pend_cap) {
        uint32_t cap = e->pend_cap ? e->pend_cap * 2 : 256;
        uint32_t *p = realloc(e->pend, cap * sizeof *p);
        if (!p) return;
        e->pend = p;
        e->pend_cap = cap;
    }
    c->flags |= TE_C_PENDING;
    e->pend[e->npend++] = c->id;
    if (!e->in_pass) te_host_schedule(e);
}

static uint8_t copy_text(char *to, size_t cap, const char *from)
{
    size_t n = from ? strlen(from) : 0;
    if (n > cap) n = cap;
    if (n) memcpy(to, from, n);
    return (uint8_t)n;
}

int te_add_listener(te_engine *e, int fd, uint32_t index, const te_settings *set, int32_t server, const char *name, const char *addr)
{
    if (e->nlisteners == TE_MAX_LISTENERS) return -1;
    te_listener *l = &e->listeners[e->nlisteners];
    l->fd = fd;
    l->index = index;
    l->set = *set;
    l->server = server;
    l->active = 1;
    l->name_len = copy_text(l->name, sizeof l->name, name);
    l->addr_len = copy_text(l->addr, sizeof l->addr, addr);
    /* Not EPOLLEXCLUSIVE: this epoll fd is itself polled by libuv's, so the kernel could not tell
       a waiting worker from a busy one; every worker is woken and the first to accept wins. */
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTENER_TAG | e->nlisteners };
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return -1;
    e->nlisteners++;
    e->accepting = 1;
    return 0;
}

/* Graceful stop: take no more connections (they wait in the shared queue for other workers). */
void te_stop_accepting(te_engine *e)
{
    for (uint32_t i = 0; i < e->nlisteners; i++) {
        te_listener *l = &e->listeners[i];
        if (!l->active) continue;
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->active = 0;
    }
    e->accepting = 0;
    e->draining = 1;
}

/* Closes every connection with no request in progress (drain, or worker_connections reached). */
void te_close_idle(te_engine *e)
{
    while (e->idle_head) te_conn_close(e, e->idle_head, TE_WHY_STOP);
}

/* worker_connections reached: close the oldest idle connections, as nginx reuses them. */
static int make_room(te_engine *e)
{
    if (!e->idle_head) {
        te_errlog(e, NULL, TE_LOG_ALERT, "%u worker_connections are not enough", e->max_conns);
        return 0;
    }
    te_errlog(e, NULL, TE_LOG_WARN, "%u worker_connections are not enough, reusing connections", e->max_conns);
    uint32_t n = e->nidle / 8;
    if (n > 32) n = 32;
    if (n == 0) n = 1;
    while (n-- && e->idle_head) te_conn_close(e, e->idle_head, TE_WHY_STOP);
    return 1;
}

/* nginx's multi_accept: off takes one connection per readiness, and the level-triggered epoll
   reports the rest in the next round; between rounds the other workers, woken by the same
   readiness, take their share. On takes what is pending, up to the bound. */
static void accept_on(te_engine *e, uint32_t li)
{
    te_listener *l = &e->listeners[li];
    int most = e->multi_accept ? ACCEPTS_PER_EVENT : 1;
    for (int i = 0; i < most && l->active; i++) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int fd = accept4(l->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) make_room(e);
            return; /* EAGAIN: another worker took it, or the queue is empty */
        }
        if (e->max_conns && e->conns.count >= e->max_conns && !make_room(e)) {
            close(fd);
            continue;
        }
        te_conn_new(e, fd, (uint16_t)li, &sa, len);
    }
}

static void run_pending(te_engine *e)
{
    uint32_t n = e->npend;
    if (n == 0) return;
    /* Work added while this runs goes to the next round: take the list now. */
    uint32_t *list = e->pend;
    e->pend = NULL;
    e->npend = e->pend_cap = 0;
    for (uint32_t i = 0; i < n; i++) {
        te_conn *c = te_conn_get(e, list[i]);
        if (!c) continue;
        c->flags &= ~TE_C_PENDING;
        te_conn_work(e, c);
    }
    free(list);
}

static void deliver(te_engine *e)
{
    te_rec_spill(e);
    if (e->inbox_len > 0) te_host_deliver(e);
    te_flush_outbox(e);
}

void te_pass(te_engine *e)
{
    if (e->in_pass) return; /* a JS call into the engine during a pass: the pass will see it */
    e->in_pass = 1;
    struct epoll_event evs[EVENTS];
    for (int round = 0; round < 16; round++) {
        e->now = te_host_now(e);
        int n = epoll_wait(e->epfd, evs, EVENTS, 0);
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if (d & LISTENER_TAG) {
                accept_on(e, (uint32_t)(d & 0xffff));
                continue;
            }
            if (d & TE_WATCH_TAG) {
                te_watch_event(e, (int)(uint32_t)d);
                continue;
            }
            if (d & TE_UP_TAG) {
                te_up_event(e, (uint32_t)d, evs[i].events);
                continue;
            }
            te_conn *c = te_conn_get(e, (uint32_t)d);
            if (c) te_conn_event(e, c, evs[i].events);
        }
        run_pending(e);
        te_timers_expire(e);
        deliver(e);
        if (e->npend == 0 && n < EVENTS) break;
    }
    e->in_pass = 0;
    te_host_arm_timer(e, te_timers_next(e));
    if (e->npend) te_host_schedule(e);
}
