/*
 * conn.c: a client connection from accept to close. States (engine.h): IDLE (keep-alive, no
 * buffers) -> HEAD (reading a head) -> JS (the request is with JS) or NATIVE (the engine answers)
 * -> IDLE again, or LINGER (write side shut, input dropped) -> closed. Its events and reading are
 * conn_read.c's, its buffers conn_buffers.c's, the lingering close linger.c's.
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
#include "conn.h"
#include "tls.h"

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

void te_conn_unidle(te_engine *e, te_conn *c)
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
    c->t_conn = e->now;
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

/* ---- closing ---- */

void te_conn_close(te_engine *e, te_conn *c, int why)
{
    if ((c->flags & TE_C_JS) && c->state == TE_JS && why != TE_WHY_STOP) te_rec_close(e, c, why);
    /* an answer of the engine's own cut short (the client went): nginx still logs it, with what
       was sent */
    if (c->state == TE_NATIVE && (c->flags & TE_C_LOG) && why != TE_WHY_STOP) te_rec_log_last(e, c, 1);
    te_conn_unidle(e, c);
    te_timer_remove(e, c);
    if (c->flags & TE_C_RESET) {
        struct linger l = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    te_tls_end(c, why == TE_WHY_CLIENT && !(c->flags & (TE_C_RESET | TE_C_EOF)));
    close(c->fd);
    te_stat_to(&c->ss, TE_SS_WAITING);
    te_stat_add(TE_ST_ACTIVE, -1);
    te_conn_free_request(c);
    free(c->in);
    free(c->head);
    free(c->out);
    te_table_drop(&e->conns, c->id);
    c->state = TE_FREE;
    free(c);
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
    te_conn_free_request(c);
    uint32_t keep = !(c->flags & (TE_C_CLOSE | TE_C_EOF)) && (c->flags & TE_C_KEEPALIVE) && !e->draining && c->ka_ms > 0;
    int unread = c->body == TE_BODY_WAIT || c->body == TE_BODY_READ;
    if (!keep) {
        c->flags &= ~TE_C_JS;
        if (unread || c->in_len > c->pos || (c->flags & TE_C_LINGER) || te_set(e, c)->linger_always) te_linger(e, c);
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
                  TE_C_WANT_DRAIN | TE_C_SENDFILE | TE_C_LINGER | TE_C_ANSWERED | TE_C_IGNORED_LOGGED |
                  TE_C_PIPELINED);
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
        c->flags |= TE_C_PIPELINED;
        memmove(c->in, c->in + c->pos, left);
        c->in_len = left;
        c->req = c->pos = 0;
        c->state = TE_HEAD;
        te_stat_add(TE_ST_REQUESTS, 1);
        te_stat_to(&c->ss, TE_SS_READING);
        c->t_start = e->now;
        tr_http_req_init(&c->head->req);
        te_timer_set(e, c, TE_T_HEADER, te_set(e, c)->header_timeout);
        /* half closed: the buffered requests are served before the close is read (nginx's) */
        if ((c->flags & TE_C_NOREAD) && !(c->flags & TE_C_HALF)) {
            c->flags &= ~TE_C_NOREAD;
            te_conn_interest(e, c);
        }
        te_pend(e, c);
        return;
    }
    c->state = TE_IDLE;
    te_stat_to(&c->ss, TE_SS_WAITING);
    te_conn_release_buffers(c);
    if (c->flags & TE_C_NOREAD) {
        c->flags &= ~(TE_C_NOREAD | TE_C_HALF);
        te_conn_interest(e, c);
    }
    te_timer_set(e, c, TE_T_KEEPALIVE, c->ka_ms);
    idle_add(e, c);
    if (c->ssl && te_tls_pending(c)) te_pend(e, c); /* the next request is decrypted already */
}
