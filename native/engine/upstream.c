/*
 * upstream.c: the engine's upstream sockets (upstream.h). Level-triggered, so a read that finds
 * the inbox full simply waits for the next round: the socket is still readable then.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "upstream.h"

#define READ_MAX (64 * 1024) /* bytes per DATA record */
#define READ_MIN 4096        /* less room left in the inbox: read in the next round */
#define RESERVE 8192         /* as records.c keeps for the records JS must never miss */

enum { UP_CONNECTING = 1, UP_OPEN, UP_DEAD };
#define UP_PAUSED 1u
#define UP_EOF 2u
#define UP_OUT 4u   /* EPOLLOUT is in the interest set */
#define UP_WROTE 8u /* a DRAIN is owed when the queue empties */
#define UP_PARKED 16u /* out of the epoll set: a hang-up while paused would be reported forever */

typedef struct te_up {
    int fd;
    uint32_t id;
    uint8_t state;
    uint32_t flags;
    char *out;
    uint32_t out_cap, out_off, out_len;
} te_up;

static te_table ups; /* upstream sockets by id, apart from client connections */

static te_up *get(uint32_t id)
{
    te_up *u = te_table_at(&ups, id);
    return u && u->id == id ? u : NULL;
}

uint32_t te_up_count(void) { return ups.count; }

static void interest(te_engine *e, te_up *u)
{
    struct epoll_event ev = { .events = 0, .data.u64 = TE_UP_TAG | u->id };
    if (u->state == UP_CONNECTING || (u->flags & UP_OUT)) ev.events |= EPOLLOUT;
    if (u->state == UP_OPEN && !(u->flags & (UP_PAUSED | UP_EOF))) ev.events |= EPOLLIN;
    if (u->flags & UP_PARKED) {
        if (!(ev.events & EPOLLIN)) return;
        u->flags &= ~UP_PARKED;
        epoll_ctl(e->epfd, EPOLL_CTL_ADD, u->fd, &ev);
        return;
    }
    epoll_ctl(e->epfd, EPOLL_CTL_MOD, u->fd, &ev);
}

/* CONNECT, EOF, ERROR, DRAIN: each the only word JS gets of its event, so never refused (records.c
   keeps it aside when the inbox is full); a lost one left its proxied request without an answer. */
static void rec(te_engine *e, te_up *u, uint8_t type, uint8_t a, uint16_t b)
{
    char *r = te_rec(e, type, NULL, TE_REC_HDR, 4);
    if (!r) return; /* out of memory */
    r[TE_REC_A] = (char)a;
    memcpy(r + TE_REC_B, &b, 2);
    memcpy(r + TE_REC_CONN, &u->id, 4);
    if (!e->in_pass) te_host_schedule(e);
}

int64_t te_up_connect(te_engine *e, const char *ip, int port)
{
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    socklen_t len;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
    struct sockaddr_un *su = (struct sockaddr_un *)&sa;
    if (ip[0] == '/') {
        size_t n = strlen(ip);
        if (n >= sizeof su->sun_path) return -ENAMETOOLONG;
        su->sun_family = AF_UNIX;
        memcpy(su->sun_path, ip, n + 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    } else if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        len = sizeof *s4;
    } else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        len = sizeof *s6;
    } else {
        return -EINVAL;
    }
    te_up *u = calloc(1, sizeof *u);
    if (!u) return -ENOMEM;
    int64_t id = te_table_put(&ups, u);
    if (id < 0) {
        free(u);
        return -ENOMEM;
    }
    u->id = (uint32_t)id;
    u->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0;
    if (u->fd < 0) err = errno;
    else {
        int one = 1;
        if (sa.ss_family != AF_UNIX) setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(u->fd, (struct sockaddr *)&sa, len) < 0 && errno != EINPROGRESS) err = errno;
    }
    if (!err) {
        /* connected or not, EPOLLOUT says when: SO_ERROR then tells which */
        u->state = UP_CONNECTING;
        struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = TE_UP_TAG | u->id };
        if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, u->fd, &ev) < 0) err = errno;
    }
    if (err) {
        if (u->fd >= 0) close(u->fd);
        te_table_drop(&ups, u->id);
        free(u);
        return -err;
    }
    return u->id;
}

static int reserve(te_up *u, uint32_t n)
{
    if (u->out_off == u->out_len) u->out_off = u->out_len = 0;
    if (u->out_len + n <= u->out_cap) return 0;
    if (u->out_off) {
        memmove(u->out, u->out + u->out_off, u->out_len - u->out_off);
        u->out_len -= u->out_off;
        u->out_off = 0;
        if (u->out_len + n <= u->out_cap) return 0;
    }
    uint32_t cap = u->out_cap ? u->out_cap : 4096;
    while (cap < u->out_len + n) cap *= 2;
    char *p = realloc(u->out, cap);
    if (!p) return -1;
    u->out = p;
    u->out_cap = cap;
    return 0;
}

static void fail(te_engine *e, te_up *u, uint8_t phase, int err)
{
    rec(e, u, TE_IN_UP_ERROR, phase, (uint16_t)err);
    u->state = UP_DEAD;
    u->flags &= ~UP_OUT;
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, u->fd, NULL); /* JS closes it */
}

/* Writes what is queued; arms EPOLLOUT when the socket is full. */
static void flush(te_engine *e, te_up *u)
{
    if (u->state != UP_OPEN) return;
    while (u->out_off < u->out_len) {
        ssize_t n = send(u->fd, u->out + u->out_off, u->out_len - u->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            fail(e, u, 2, errno);
            return;
        }
        u->out_off += (uint32_t)n;
    }
    int want = u->out_off < u->out_len;
    if (!want) u->out_off = u->out_len = 0;
    if (want != !!(u->flags & UP_OUT)) {
        u->flags ^= UP_OUT;
        interest(e, u);
    }
    if (!want && (u->flags & UP_WROTE)) {
        u->flags &= ~UP_WROTE;
        rec(e, u, TE_IN_UP_DRAIN, 0, 0);
    }
}

int64_t te_up_write(te_engine *e, uint32_t id, const char *p, uint32_t n)
{
    te_up *u = get(id);
    if (!u) return -1;
    if (u->state == UP_OPEN && u->out_off == u->out_len) {
        /* the common case: all of it goes now, nothing copied */
        ssize_t w = send(u->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                fail(e, u, 2, errno);
                return 0;
            }
            w = 0;
        }
        p += w;
        n -= (uint32_t)w;
        if (n == 0) return 0;
    }
    if (u->state == UP_DEAD) return 0; /* its ERROR record is on the way */
    if (reserve(u, n) < 0) {
        fail(e, u, 2, ENOMEM);
        return 0;
    }
    memcpy(u->out + u->out_len, p, n);
    u->out_len += n;
    flush(e, u);
    int64_t q = u->out_len - u->out_off;
    if (q) u->flags |= UP_WROTE;
    return q;
}

void te_up_pause(te_engine *e, uint32_t id, int paused)
{
    te_up *u = get(id);
    if (!u || !!(u->flags & UP_PAUSED) == !!paused) return;
    u->flags ^= UP_PAUSED;
    if (u->state == UP_OPEN) interest(e, u);
}

void te_up_close(te_engine *e, uint32_t id)
{
    te_up *u = get(id);
    if (!u) return;
    if (u->state != UP_DEAD && !(u->flags & UP_PARKED)) epoll_ctl(e->epfd, EPOLL_CTL_DEL, u->fd, NULL);
    close(u->fd);
    te_table_drop(&ups, id);
    free(u->out);
    free(u);
}

void te_up_close_all(te_engine *e)
{
    for (uint32_t i = 0; i < ups.n; i++)
        if (ups.items[i]) te_up_close(e, ((te_up *)ups.items[i])->id);
}

static void on_read(te_engine *e, te_up *u)
{
    /* records waiting aside go first (their order holds), or too little room: next round */
    if (!te_rec_spill(e) || e->inbox_len + RESERVE + TE_DATA + READ_MIN > e->inbox_cap) return;
    uint32_t room = e->inbox_cap - RESERVE - e->inbox_len;
    room -= TE_DATA;
    if (room > READ_MAX) room = READ_MAX;
    char *r = e->inbox + e->inbox_len;
    ssize_t n = recv(u->fd, r + TE_DATA, room, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) fail(e, u, 3, errno);
        return;
    }
    if (n == 0) {
        u->flags |= UP_EOF;
        interest(e, u);
        rec(e, u, TE_IN_UP_EOF, 0, 0);
        return;
    }
    uint32_t size = (TE_DATA + (uint32_t)n + 7u) & ~7u, len = (uint32_t)n;
    uint16_t b = 0;
    r[TE_REC_TYPE] = TE_IN_UP_DATA;
    r[TE_REC_A] = 0;
    memcpy(r + TE_REC_B, &b, 2);
    memcpy(r + TE_REC_SIZE, &size, 4);
    memcpy(r + TE_REC_CONN, &u->id, 4);
    memcpy(r + TE_DATA_LEN, &len, 4);
    e->inbox_len += size;
}

void te_up_event(te_engine *e, uint32_t id, uint32_t events)
{
    te_up *u = get(id);
    if (!u) return;
    if (u->state == UP_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err) {
            fail(e, u, 1, err);
            return;
        }
        u->state = UP_OPEN;
        rec(e, u, TE_IN_UP_CONNECT, 0, 0);
        interest(e, u);
        flush(e, u); /* what JS wrote before the connect completed */
        return;
    }
    if (u->state != UP_OPEN) return;
    if (events & EPOLLOUT) flush(e, u);
    if (u->state != UP_OPEN) return;
    if (!(u->flags & (UP_PAUSED | UP_EOF))) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_read(e, u);
    } else if ((events & (EPOLLHUP | EPOLLERR)) && !(u->flags & UP_OUT)) {
        /* not reading now: park it until resumed, else level-triggered epoll reports it forever */
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, u->fd, NULL);
        u->flags |= UP_PARKED;
    }
}
