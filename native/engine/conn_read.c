/*
 * conn_read.c: a connection's events: what its socket has to read (a head, a body, the bytes of a
 * lingering close), the work left from an earlier round, and its timeouts, each handed to its
 * state's reader (head.c, body.c, linger.c). conn.c holds the states themselves.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include "engine.h"
#include "conn.h"
#include "tls.h"

static void start_head(te_engine *e, te_conn *c)
{
    te_conn_unidle(e, c);
    if (te_conn_head_state(c) < 0) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
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
        te_linger_read(e, c);
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
    int err = errno; /* for a reset's line, before other calls change it */
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
        /* A half close while JS answers, no body bytes left to read: nginx does not read then
           and still answers (a pipelined request too). JS hears of it for ngx.on_abort and
           proxy_pass (as nginx's lua_check_client_abort and its upstream's check would); the
           close is read again once the answer went, as a keep-alive connection's. */
        if (n == 0 && c->state == TE_JS && (c->flags & TE_C_JS) && (c->body == TE_BODY_NONE || c->body == TE_BODY_DONE)
            && te_queued(c) == 0) {
            c->flags |= TE_C_NOREAD | TE_C_HALF;
            te_conn_interest(e, c);
            te_rec_close(e, c, TE_WHY_HALF);
            return;
        }
        c->flags |= TE_C_EOF;
        if (c->state == TE_HEAD)
            te_head_gone(e, c, n == 0 ? "client prematurely closed connection" : NULL, 400);
        else if (n == 0 && c->body == TE_BODY_READ) /* nginx: no phase in the middle of a body */
            te_errlog(e, c, TE_LOG_INFO, "client prematurely closed connection");
        else if (n == 0 && c->state == TE_JS && te_queued(c) > 0)
            /* JS's answer waits for room: nginx's writer then tests reading, sees the FIN and
               closes (lua-nginx-module's request has no phase text) */
            te_errlog(e, c, TE_LOG_INFO, "client prematurely closed connection");
        else if (n < 0 && err && c->body == TE_BODY_READ) /* nginx's reset: no context either */
            te_errlog(e, c, TE_LOG_INFO, "recv() failed (%d: %s)", err, strerror(err));
        else if (c->state == TE_NATIVE) /* nginx's read test while it writes */
            te_errlog(e, c, TE_LOG_INFO, n == 0 ? "client prematurely closed connection while sending response to client"
                      : "client prematurely closed connection (%d: %s) while sending response to client", err, strerror(err));
        te_conn_close(e, c, n == 0 ? TE_WHY_CLIENT : err == ECONNRESET ? TE_WHY_RESET : TE_WHY_ERROR);
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
    /* a reset: the read goes first, as nginx's read test sees it before its writer fails */
    int read_first = (events & (EPOLLHUP | EPOLLERR)) && (events & EPOLLOUT);
    if (read_first) {
        readable(e, c);
        if (te_conn_get(e, id) != c) return;
    }
    if (events & EPOLLOUT) {
        te_conn_writable(e, c);
        if (te_conn_get(e, id) != c) return;
    }
    if (!read_first && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) readable(e, c);
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
        uint32_t id = c->id;
        if (c->in_len > c->req) te_head_parse(e, c);
        /* half closed, and what is left is no whole head: the client closed in its middle */
        if (te_conn_get(e, id) == c && c->state == TE_HEAD && (c->flags & TE_C_HALF) && c->head_len == 0) {
            c->flags |= TE_C_EOF;
            te_head_gone(e, c, "client prematurely closed connection", 400);
            te_conn_close(e, c, TE_WHY_CLIENT);
        }
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
