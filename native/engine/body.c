/*
 * body.c: request bodies. The engine reads a body only once JS asks for it (read_body,
 * body_stream: te_body_start), as nginx does, so an unread body holds no memory and the client is
 * held back by TCP. Bytes go to JS as TE_IN_BODY records of at most TE_BODY_CHUNK bytes; JS can
 * pause and resume. A body the answer did not read is dropped afterwards (te_body_discard), so the
 * connection can serve its next request.
 */
#include <stdio.h>
#include <string.h>
#include "engine.h"
#include "pages.h"

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* "100 Continue", once, to a client that waits for it before its body (none of it came yet): when
   the body is read, or before an answer that is not a special response (nginx discards the body
   then, and its discard answers the Expect). */
int te_body_continue(te_engine *e, te_conn *c)
{
    if (!(c->flags & TE_C_CONTINUE)) return 0;
    c->flags &= ~TE_C_CONTINUE;
    if (c->in_len != c->pos) return 0;
    return te_send(e, c, CONTINUE, sizeof CONTINUE - 1) < 0 ? -1 : 0;
}

void te_body_start(te_engine *e, te_conn *c, uint64_t limit, uint32_t timeout_ms)
{
    if (c->state != TE_JS || c->body != TE_BODY_WAIT) return;
    c->body_limit = limit;
    c->body_timeout = timeout_ms;
    c->chunked.max_body = limit;
    c->body_framing = 0;
    if (te_body_continue(e, c) < 0) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    c->body = TE_BODY_READ;
    te_pend(e, c);
}

/* All buffered input consumed: keep only the head, wait for more within client_body_timeout. */
static void wait_more(te_engine *e, te_conn *c)
{
    c->in_len = c->pos = c->req + c->head_len;
    if (c->flags & TE_C_NOREAD) {
        c->flags &= ~TE_C_NOREAD;
        te_conn_interest(e, c);
    }
    te_timer_set(e, c, TE_T_BODY, c->body_timeout ? c->body_timeout : te_set(e, c)->body_timeout);
}

/* Bytes of body the inbox can take now (0: hand the inbox to JS first). */
static uint32_t room(te_engine *e)
{
    if (!te_rec_spill(e)) return 0; /* records waiting aside go first */
    uint32_t used = e->inbox_len + TE_DATA + 8 + 8192;
    if (used >= e->inbox_cap) return 0;
    uint32_t r = e->inbox_cap - used;
    return r > TE_BODY_CHUNK ? TE_BODY_CHUNK : r;
}

/* The body is complete; a chunked one's framing goes with it, for $request_length. */
static void body_end(te_engine *e, te_conn *c)
{
    char *r = te_rec(e, TE_IN_BODY_END, c, TE_REC_HDR + 4, 0);
    uint32_t n = (uint32_t)(c->body_framing > 0xffffffffu ? 0xffffffffu : c->body_framing);
    if (r) memcpy(r + TE_BODY_END_FRAMING, &n, 4);
}

static void ended(te_engine *e, te_conn *c)
{
    c->body = TE_BODY_DONE;
    te_timer_clear(e, c);
}

/*
 * A chunked body nginx refuses. 413 (past client_max_body_size): the handler's read fails and the
 * pipeline answers 413, as for a Content-Length. 400 (a broken encoding): the engine answers 400
 * itself when nothing of an answer went out yet, and JS learns that its client is gone.
 */
static void refused(te_engine *e, te_conn *c)
{
    char msg[160];
    int n;
    c->flags |= TE_C_CLOSE | TE_C_LINGER;
    ended(e, c);
    if (c->chunked.status == 413) {
        n = snprintf(msg, sizeof msg, "client intended to send too large chunked body: %llu+%llu bytes",
                     (unsigned long long)c->chunked.total, (unsigned long long)c->chunked.size);
        te_rec_data(e, TE_IN_BODY_ERR, c, 413, msg, n > 0 ? (uint32_t)n : 0);
        return;
    }
    const char *why = c->chunked.reason ? c->chunked.reason : "client sent invalid chunked body";
    te_errlog(e, c, TE_LOG_ERROR, "%s", why); /* nginx: NGX_LOG_ERR */
    if (c->flags & TE_C_ANSWERED) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    /* JS logs the request: with the page's bytes the engine sends in its place, as nginx's
       $body_bytes_sent counts them */
    char page[512];
    te_rec_close_sent(e, c, TE_WHY_ERROR, (uint16_t)(te_is_head(c) ? 0 : te_page(400, NULL, page, sizeof page)));
    c->flags &= ~(TE_C_JS | TE_C_KEEPALIVE);
    te_answer_page(e, c, 400, 1);
}

/*
 * ngx.req.socket(true): from here on the connection's bytes are JS's as they come, an unread body
 * and whatever follows it alike: no HTTP parsing, no length, no client_max_body_size, no
 * client_body_timeout (the socket's own timeouts are JS's). The answer's end closes the
 * connection with a lingering close, as nginx's raw request socket does (no keep-alive).
 */
void te_body_raw(te_engine *e, te_conn *c)
{
    if (c->state != TE_JS || c->body == TE_BODY_RAW) return;
    c->flags &= ~(TE_C_CHUNKED | TE_C_CONTINUE | TE_C_KEEPALIVE);
    c->flags |= TE_C_LINGER;
    c->body_left = 0;
    c->body = TE_BODY_RAW;
    if (c->timer == TE_T_BODY) te_timer_clear(e, c);
    te_pend(e, c);
}

/* The raw bytes to JS, as the inbox has room; at the client's EOF (readable()) and once all is
   handed over, one BODY_END: reads then say "closed" while the answer can still be sent. */
static int raw_feed(te_engine *e, te_conn *c)
{
    while (!(c->flags & TE_C_PAUSED)) {
        uint32_t avail = c->in_len - c->pos;
        if (avail == 0) {
            c->in_len = c->pos = c->req + c->head_len;
            if (c->flags & TE_C_EOF) {
                body_end(e, c);
                c->body = TE_BODY_DONE;
            } else if (c->flags & TE_C_NOREAD) {
                c->flags &= ~TE_C_NOREAD;
                te_conn_interest(e, c);
            }
            return 0;
        }
        uint32_t take = room(e);
        if (take == 0) {
            te_pend(e, c);
            return 0;
        }
        if (take > avail) take = avail;
        te_rec_data(e, TE_IN_BODY, c, 0, c->in + c->pos, take);
        c->pos += take;
    }
    return 0;
}

int te_body_feed(te_engine *e, te_conn *c)
{
    if (c->body == TE_BODY_RAW) return raw_feed(e, c);
    while (c->body == TE_BODY_READ && !(c->flags & TE_C_PAUSED)) {
        uint32_t avail = c->in_len - c->pos;
        if (avail == 0 && (c->flags & TE_C_EOF)) {
            /* the client closed before JS asked for the body (conn_read.c): its bytes went first */
            te_errlog(e, c, TE_LOG_INFO, "client prematurely closed connection");
            te_conn_close(e, c, TE_WHY_CLIENT);
            return -1;
        }
        if (avail == 0) {
            wait_more(e, c);
            return 0;
        }
        uint32_t take = room(e);
        if (take == 0) {
            te_pend(e, c);
            return 0;
        }
        if (take > avail) take = avail;
        char *p = c->in + c->pos;
        if (c->flags & TE_C_CHUNKED) {
            size_t used = 0, produced = 0;
            int rc = tr_http_chunked_decode(&c->chunked, p, take, &used, &produced);
            if (produced) te_rec_data(e, TE_IN_BODY, c, 0, p, (uint32_t)produced);
            c->pos += (uint32_t)used;
            c->body_framing += used - produced;
            if (rc == TR_HTTP_REFUSE) {
                refused(e, c);
                return 0;
            }
            if (rc == TR_HTTP_DONE) {
                body_end(e, c);
                ended(e, c);
                return 0;
            }
        } else {
            if (take > c->body_left) take = (uint32_t)c->body_left;
            te_rec_data(e, TE_IN_BODY, c, 0, p, take);
            c->pos += take;
            c->body_left -= take;
            if (c->body_left == 0) {
                body_end(e, c);
                ended(e, c);
                return 0;
            }
        }
    }
    return 0;
}

int te_body_discard(te_engine *e, te_conn *c)
{
    while (c->body == TE_BODY_DISCARD) {
        uint32_t avail = c->in_len - c->pos;
        if (avail == 0) {
            wait_more(e, c);
            return 0;
        }
        if (c->flags & TE_C_CHUNKED) {
            size_t used = 0, produced = 0;
            c->chunked.max_body = 0;
            int rc = tr_http_chunked_decode(&c->chunked, c->in + c->pos, avail, &used, &produced);
            c->pos += (uint32_t)used;
            if (rc == TR_HTTP_REFUSE) {
                te_conn_close(e, c, TE_WHY_CLIENT);
                return -1;
            }
            if (rc == TR_HTTP_DONE) break;
        } else {
            uint32_t take = avail < c->body_left ? avail : (uint32_t)c->body_left;
            c->pos += take;
            c->body_left -= take;
            if (c->body_left == 0) break;
        }
    }
    if (c->body != TE_BODY_DISCARD) return 0;
    ended(e, c);
    te_conn_finish(e, c);
    return 0;
}
