/*
 * conn.c: a client connection from accept to close. States (engine.h): IDLE (keep-alive, no
 * buffers) -> HEAD (reading a head) -> JS (the request is with JS) or NATIVE (the engine answers)
 * -> IDLE again, or LINGER (write side shut, input dropped) -> closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "engine.h"
#include "tls.h"

#define IN_FIRST 4096
#define IN_BODY (64 * 1024)

const te_settings *te_set(te_engine *e, te_conn *c) { return &e->listeners[c->listener].set; }

te_conn *te_conn_get(te_engine *e, uint32_t id)
{
    te_conn *c = te_table_at(&e->conns, id);
    return c && c->id == id ? c : NULL;
}

void te_conn_interest(te_engine *e, te_conn *c)
{
    struct epoll_event ev = { .events = 0, .data.u64 = c->id };
    if (!(c->flags & TE_C_NOREAD)) ev.events |= EPOLLIN;
    if (c->flags & TE_C_EPOLLOUT) ev.events |= EPOLLOUT;
    epoll_ctl(e->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    /* Input OpenSSL already decrypted makes the socket no more readable: read it next round. */
    if (c->ssl && !(c->flags & TE_C_NOREAD) && te_tls_pending(c)) {
        c->flags |= TE_C_TLS_MORE;
        te_pend(e, c);
    }
}

/* ---- the idle list: keep-alive connections and fresh ones waiting for a request, oldest first
   (nginx's reusable connections: closed first when worker_connections is reached) ---- */

static void idle_add(te_engine *e, te_conn *c)
{
    c->flags |= TE_C_IDLE_LIST;
    c->idle_next = NULL;
    c->idle_prev = e->idle_tail;
    if (e->idle_tail) e->idle_tail->idle_next = c;
    else e->idle_head = c;
    e->idle_tail = c;
    e->nidle++;
}

static void idle_del(te_engine *e, te_conn *c)
{
    if (!(c->flags & TE_C_IDLE_LIST)) return;
    c->flags &= ~TE_C_IDLE_LIST;
    if (c->idle_prev) c->idle_prev->idle_next = c->idle_next;
    else e->idle_head = c->idle_next;
    if (c->idle_next) c->idle_next->idle_prev = c->idle_prev;
    else e->idle_tail = c->idle_prev;
    c->idle_prev = c->idle_next = NULL;
    e->nidle--;
}

void te_conn_new(te_engine *e, int fd, uint16_t listener, const void *sa, uint32_t salen)
{
    te_conn *c = calloc(1, sizeof *c);
    int64_t id = c ? te_table_put(&e->conns, c) : -1;
    te_stat_add(TE_ST_ACCEPTED, 1);
    if (id < 0) {
        free(c);
        close(fd);
        return;
    }
    te_stat_add(TE_ST_HANDLED, 1);
    te_stat_add(TE_ST_ACTIVE, 1);
    c->id = (uint32_t)id;
    c->fd = fd;
    c->listener = listener;
    if (e->listeners[listener].naddrs) c->dname = te_addr_name(&e->listeners[listener], fd);
    c->file_fd = -1;
    c->heap_idx = -1;
    c->state = TE_IDLE;
    c->number = ++e->numbers;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const struct sockaddr *a = sa;
    if (a->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = sa;
        inet_ntop(AF_INET, &in->sin_addr, c->raddr, sizeof c->raddr);
        c->rport = ntohs(in->sin_port);
    } else if (a->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], c->raddr, sizeof c->raddr);
        else inet_ntop(AF_INET6, &in6->sin6_addr, c->raddr, sizeof c->raddr);
        c->rport = ntohs(in6->sin6_port);
    } else {
        strcpy(c->raddr, "unix:");
    }
    c->raddr_len = (uint8_t)strlen(c->raddr);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = c->id };
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    if (te_tls_is(e, c) && te_tls_accept(e, c) < 0) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    /* nginx times a handshake with client_header_timeout too */
    te_timer_set(e, c, TE_T_HEADER, te_set(e, c)->header_timeout);
    idle_add(e, c);
}

/* ---- buffers ---- */

static void free_request(te_conn *c)
{
    if (c->file_fd >= 0) close(c->file_fd);
    c->file_fd = -1;
    free(c->file_name);
    c->file_name = NULL;
}

/* A few released first-size input buffers and head states, so that a busy keep-alive connection
   does not malloc and free them for every request (nginx frees its header buffer when a connection
   goes idle, and so does the engine; the cache keeps that cheap). */
#define CACHE_MAX 64
static char *in_cache[CACHE_MAX];
static te_head *head_cache[CACHE_MAX];
static uint32_t nin_cache, nhead_cache;

static void release_buffers(te_conn *c)
{
    if (c->in && c->in_cap == IN_FIRST && nin_cache < CACHE_MAX) in_cache[nin_cache++] = c->in;
    else free(c->in);
    c->in = NULL;
    c->in_cap = c->in_len = c->req = c->pos = 0;
    if (c->head && c->head->cap == TE_HEADERS_FIRST && nhead_cache < CACHE_MAX) head_cache[nhead_cache++] = c->head;
    else free(c->head);
    c->head = NULL;
    if (c->out_off == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_cap = c->out_len = c->out_off = 0;
    }
}

/* Room for `need` more bytes of input (grows the buffer up to what the state allows). */
int te_want_in(te_conn *c, uint32_t need)
{
    if (c->in_cap - c->in_len >= need) return 0;
    if (c->req > 0 && c->state == TE_HEAD) {
        /* a pipelined request: move it to the front */
        memmove(c->in, c->in + c->req, c->in_len - c->req);
        c->in_len -= c->req;
        c->pos -= c->req;
        c->req = 0;
        if (c->in_cap - c->in_len >= need) return 0;
    }
    if (!c->in && need <= IN_FIRST && nin_cache > 0) {
        c->in = in_cache[--nin_cache];
        c->in_cap = IN_FIRST;
        return 0;
    }
    uint32_t cap = c->in_cap ? c->in_cap : IN_FIRST;
    while (cap - c->in_len < need) cap *= 2;
    char *p = realloc(c->in, cap);
    if (!p) return -1;
    c->in = p;
    c->in_cap = cap;
    return 0;
}

/* ---- closing ---- */

void te_conn_close(te_engine *e, te_conn *c, int why)
{
    if ((c->flags & TE_C_JS) && c->state == TE_JS && why != TE_WHY_STOP) te_rec_close(e, c, why);
    idle_del(e, c);
    te_timer_remove(e, c);
    if (c->flags & TE_C_RESET) {
        struct linger l = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    te_tls_end(c, why == TE_WHY_CLIENT && !(c->flags & (TE_C_RESET | TE_C_EOF)));
    close(c->fd);
    te_stat_to(&c->ss, TE_SS_WAITING);
    te_stat_add(TE_ST_ACTIVE, -1);
    free_request(c);
    free(c->in);
    free(c->head);
    free(c->out);
    te_table_drop(&e->conns, c->id);
    c->state = TE_FREE;
    free(c);
}

/* nginx's lingering close: shut the write side, then read and drop what the client still sends
   (lingering_timeout between reads, lingering_time in all), so it gets the answer, not a reset. */
static void linger(te_engine *e, te_conn *c)
{
    const te_settings *s = te_set(e, c);
    if (s->lingering_time == 0 || (c->flags & TE_C_EOF)) {
        te_conn_close(e, c, TE_WHY_CLIENT);
        return;
    }
    te_tls_notify(c);
    shutdown(c->fd, SHUT_WR);
    te_stat_to(&c->ss, TE_SS_WAITING);
    c->state = TE_LINGER;
    c->flags &= ~(TE_C_NOREAD | TE_C_JS);
    te_conn_interest(e, c);
    c->linger_end = e->now + s->lingering_time;
    te_timer_set(e, c, TE_T_LINGER, s->lingering_timeout);
}

static void linger_read(te_engine *e, te_conn *c)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            te_conn_close(e, c, TE_WHY_CLIENT);
            return;
        }
        if (n < 0) break;
    }
    if (e->now >= c->linger_end) {
        te_conn_close(e, c, TE_WHY_CLIENT);
        return;
    }
    uint32_t left = (uint32_t)(c->linger_end - e->now);
    uint32_t t = te_set(e, c)->lingering_timeout;
    te_timer_set(e, c, TE_T_LINGER, t < left ? t : left);
}

/* ---- the end of an answer ---- */

void te_conn_finish(te_engine *e, te_conn *c)
{
    if (c->state == TE_NATIVE && (c->flags & TE_C_LOG)) {
        if (te_rec_req(e, c, TE_IN_LOG, 0) < 0) {
            te_pend(e, c); /* the inbox is full: report it in the next round */
            return;
        }
        c->flags &= ~TE_C_LOG;
    }
    free_request(c);
    uint32_t keep = !(c->flags & (TE_C_CLOSE | TE_C_EOF)) && (c->flags & TE_C_KEEPALIVE) && !e->draining && c->ka_ms > 0;
    int unread = c->body == TE_BODY_WAIT || c->body == TE_BODY_READ;
    if (!keep) {
        c->flags &= ~TE_C_JS;
        if (unread || c->in_len > c->pos || (c->flags & TE_C_LINGER) || te_set(e, c)->linger_always) linger(e, c);
        else te_conn_close(e, c, TE_WHY_CLIENT);
        return;
    }
    if (unread) {
        /* The answer went without reading the body: drop it as nginx does, then keep the
           connection (te_body_discard calls back here). */
        c->body = TE_BODY_DISCARD;
        c->flags &= ~TE_C_JS;
        /* a native answer's END would make te_conn_work finish it again, body bytes unread */
        if (c->state == TE_NATIVE) c->flags &= ~TE_C_END;
        te_pend(e, c);
        return;
    }
    c->flags &= ~(TE_C_END | TE_C_JS | TE_C_LOG | TE_C_CONTINUE | TE_C_CHUNKED | TE_C_PAUSED |
                  TE_C_WANT_DRAIN | TE_C_SENDFILE | TE_C_LINGER | TE_C_ANSWERED | TE_C_IGNORED_LOGGED);
    c->body = TE_BODY_NONE;
    c->head_len = 0;
    c->sname = 0; /* the next request's server is the listener's until its Host is read */
    c->status = 0;
    c->sent = 0;
    c->head_sent = 0;
    c->out_head = 0;
    uint32_t left = c->in_len - c->pos;
    if (left > 0) {
        /* a pipelined request is already here */
        memmove(c->in, c->in + c->pos, left);
        c->in_len = left;
        c->req = c->pos = 0;
        c->state = TE_HEAD;
        te_stat_add(TE_ST_REQUESTS, 1);
        te_stat_to(&c->ss, TE_SS_READING);
        c->t_start = e->now;
        tr_http_req_init(&c->head->req);
        te_timer_set(e, c, TE_T_HEADER, te_set(e, c)->header_timeout);
        if (c->flags & TE_C_NOREAD) {
            c->flags &= ~TE_C_NOREAD;
            te_conn_interest(e, c);
        }
        te_pend(e, c);
        return;
    }
    c->state = TE_IDLE;
    te_stat_to(&c->ss, TE_SS_WAITING);
    release_buffers(c);
    if (c->flags & TE_C_NOREAD) {
        c->flags &= ~TE_C_NOREAD;
        te_conn_interest(e, c);
    }
    te_timer_set(e, c, TE_T_KEEPALIVE, c->ka_ms);
    idle_add(e, c);
    if (c->ssl && te_tls_pending(c)) te_pend(e, c); /* the next request is decrypted already */
}

/* ---- reading ---- */

static void start_head(te_engine *e, te_conn *c)
{
    idle_del(e, c);
    if (!c->head && nhead_cache > 0) c->head = head_cache[--nhead_cache];
    if (!c->head) {
        c->head = malloc(sizeof *c->head + TE_HEADERS_FIRST * sizeof(tr_http_header));
        if (!c->head) {
            te_conn_close(e, c, TE_WHY_ERROR);
            return;
        }
        c->head->cap = TE_HEADERS_FIRST;
    }
    tr_http_req_init(&c->head->req);
    c->state = TE_HEAD;
    te_stat_add(TE_ST_REQUESTS, 1);
    te_stat_to(&c->ss, TE_SS_READING);
    c->t_start = e->now;
    if (c->timer == TE_T_KEEPALIVE) te_timer_set(e, c, TE_T_HEADER, te_set(e, c)->header_timeout);
}

/* Reads what the socket has into the input buffer, letting it hold at most `limit` bytes.
   Returns the bytes read, 0 at EOF, -1 on error, -2 when nothing was read (no data or no room). */
static ssize_t fill(te_engine *e, te_conn *c, uint32_t limit, uint32_t chunk)
{
    if (c->in_len >= limit) return -2;
    uint32_t room = limit - c->in_len;
    uint32_t want = room < chunk ? room : chunk;
    /* A head grows its buffer only when nearly full; a body read takes its whole chunk per read
       (a 4 KB buffer kept from the head would hand a body to JS 4 KB per record). */
    if (c->in_cap - c->in_len < want && (c->in_cap - c->in_len < 1024 || !c->in || chunk > IN_FIRST)) {
        if (te_want_in(c, want) < 0) return -1;
    }
    uint32_t n0 = c->in_cap - c->in_len;
    if (n0 > room) n0 = room;
    ssize_t n = te_io_recv(c, c->in + c->in_len, n0);
    if (n > 0) {
        c->in_len += (uint32_t)n;
        if (c->ssl && te_tls_pending(c)) {
            c->flags |= TE_C_TLS_MORE;
            te_pend(e, c);
        }
        return n;
    }
    if (n == 0) return 0;
    return errno == EAGAIN || errno == EINTR ? -2 : -1;
}

static void readable(te_engine *e, te_conn *c)
{
    const te_settings *s = te_set(e, c);
    if (c->state == TE_LINGER) {
        linger_read(e, c);
        return;
    }
    if (c->state == TE_IDLE) {
        start_head(e, c);
        if (c->state != TE_HEAD) return;
    }
    uint32_t limit, chunk = IN_FIRST;
    if (c->state == TE_HEAD) {
        limit = c->req + te_head_max(s);
    } else if (c->body == TE_BODY_READ || c->body == TE_BODY_DISCARD || c->body == TE_BODY_RAW) {
        limit = c->pos + IN_BODY;
        chunk = IN_BODY;
    } else {
        limit = c->in_cap; /* nobody reads now: keep what fits (a pipelined request), notice EOF */
    }
    ssize_t n = fill(e, c, limit, chunk);
    if (n == -2) {
        if (c->in_len >= limit && !(c->flags & TE_C_NOREAD)) {
            c->flags |= TE_C_NOREAD; /* full: stop reading until the request ends */
            te_conn_interest(e, c);
        }
        return;
    }
    if (n == 0 && c->body == TE_BODY_RAW) {
        /* the client closed its side of a raw socket: JS reads "closed" and may still send */
        c->flags |= TE_C_EOF | TE_C_NOREAD;
        te_conn_interest(e, c);
        te_body_feed(e, c);
        return;
    }
    if (n <= 0) {
        if (c->state == TE_HEAD && c->in_len == c->req) {
            /* closed between requests: nginx logs it, for a keep-alive one with no context */
            if (n == 0 && c->requests == 0) te_errlog(e, c, TE_LOG_INFO, "client closed connection while waiting for request");
            else if (n == 0) te_errlog_bare(e, c, TE_LOG_INFO, "client %s closed keepalive connection", c->raddr);
            te_conn_close(e, c, TE_WHY_CLIENT);
            return;
        }
        /* The client closed while JS holds the request and has not asked for the body yet: the
           bytes it sent before the close stay for that read (nginx reads them before it sees
           the close); te_body_feed reports the close after them. Reading stops meanwhile. */
        if (n == 0 && c->state == TE_JS && c->body == TE_BODY_WAIT && c->in_len > c->pos && !(c->flags & TE_C_EOF)) {
            c->flags |= TE_C_EOF | TE_C_NOREAD;
            te_conn_interest(e, c);
            return;
        }
        c->flags |= TE_C_EOF;
        if (c->state == TE_HEAD)
            te_head_gone(e, c, n == 0 ? "client prematurely closed connection" : NULL, 400);
        else if (n == 0 && c->body == TE_BODY_READ) /* nginx: no phase in the middle of a body */
            te_errlog(e, c, TE_LOG_INFO, "client prematurely closed connection");
        te_conn_close(e, c, n == 0 ? TE_WHY_CLIENT : TE_WHY_ERROR);
        return;
    }
    if (c->state == TE_HEAD) te_head_parse(e, c);
    else if (c->body == TE_BODY_READ || c->body == TE_BODY_RAW) te_body_feed(e, c);
    else if (c->body == TE_BODY_DISCARD) te_body_discard(e, c);
}

void te_conn_event(te_engine *e, te_conn *c, uint32_t events)
{
    uint32_t id = c->id;
    if (c->flags & TE_C_TLS_HS) {
        int r = te_tls_handshake(e, c);
        if (r < 0) te_conn_close(e, c, TE_WHY_CLIENT);
        if (r <= 0) return;
        /* the request's records stay in the socket (no read-ahead) and wake it again; plain
           HTTP's bytes (TE_C_TLS_PLAIN) are there already: read them now */
        if (c->ssl && !te_tls_pending(c)) return;
        events = EPOLLIN;
    }
    if (events & EPOLLOUT) {
        te_conn_writable(e, c);
        if (te_conn_get(e, id) != c) return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(e, c);
}

/* Work left from an earlier round: a pipelined head, a dispatch or body that waited for room. */
void te_conn_work(te_engine *e, te_conn *c)
{
    /* TLS: input OpenSSL holds (left by an earlier read) is read first, as the socket would be */
    if (c->ssl && ((c->flags & TE_C_TLS_MORE) || te_tls_pending(c))) {
        c->flags &= ~TE_C_TLS_MORE;
        if (!(c->flags & TE_C_NOREAD) && c->state != TE_LINGER) {
            uint32_t id = c->id;
            readable(e, c);
            if (te_conn_get(e, id) != c) return;
        }
    }
    if (c->state == TE_HEAD) {
        if (c->in_len > c->req) te_head_parse(e, c);
    } else if (c->state == TE_NATIVE && (c->flags & TE_C_END) && te_queued(c) == 0) {
        te_conn_finish(e, c);
    } else if (c->body == TE_BODY_READ || c->body == TE_BODY_RAW) {
        te_body_feed(e, c);
    } else if (c->body == TE_BODY_DISCARD) {
        te_body_discard(e, c);
    }
}

void te_conn_timeout(te_engine *e, te_conn *c, int kind)
{
    const te_settings *s = te_set(e, c);
    if (s->reset_timedout && kind != TE_T_KEEPALIVE && kind != TE_T_LINGER) c->flags |= TE_C_RESET;
    switch (kind) {
    case TE_T_HEADER:
        if (c->flags & TE_C_TLS_HS)
            te_errlog(e, c, TE_LOG_INFO, "client timed out (110: Connection timed out) while SSL handshaking");
        else if (c->state == TE_IDLE)
            te_errlog(e, c, TE_LOG_INFO, "client timed out (110: Connection timed out) while waiting for request");
        else if (c->in_len > c->req)
            te_head_gone(e, c, "client timed out (110: Connection timed out)", 408);
        else
            te_errlog(e, c, TE_LOG_INFO, "client timed out (110: Connection timed out) %s", te_refusal_phase(&c->head->req));
        break;
    case TE_T_BODY:
        if (c->state == TE_JS) te_rec_data(e, TE_IN_BODY_ERR, c, 408, "client timed out", 16);
        break;
    case TE_T_SEND:
        te_errlog(e, c, TE_LOG_INFO, "client timed out (110: Connection timed out) while sending response to client");
        break;
    default:
        break;
    }
    te_conn_close(e, c, TE_WHY_TIMEOUT);
}
