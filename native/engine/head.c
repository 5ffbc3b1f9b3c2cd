/*
 * head.c: a request head, once read: parsed (native/http/), refused with nginx's page and log
 * line, or normalised and handed on: answered by the engine itself or sent to JS as a REQ record.
 * conn_read.c reads the bytes and calls te_head_parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine.h"
#include "tls.h"

uint32_t te_head_max(const te_settings *s)
{
    return s->limits.header_buffer + s->limits.large_buffers * s->limits.large_buffer_size + 4096;
}

const char *te_refusal_phase(const tr_http_req *q)
{
    /* an HTTP/0.9 request has no headers: nginx is still reading its line */
    return q->version && !(q->flags & TR_HTTP_F_HTTP09) ? "while reading client request headers" : "while reading client request line";
}

/*
 * For the access log of a refused request (nginx logs them): the request line as received, cut
 * into method and target at its first two spaces, no headers. The parser's slices are not valid
 * after a refusal, so they are set here.
 */
static void refusal_for_log(te_conn *c)
{
    tr_http_req *q = &c->head->req;
    const char *h = c->in + c->req;
    uint32_t n = c->in_len - c->req, i = 0;
    while (i < n && (h[i] == '\r' || h[i] == '\n')) i++; /* empty lines before the request */
    uint32_t start = i;
    while (i < n && h[i] != '\r' && h[i] != '\n' && i - start < 2048) i++;
    uint32_t end = i;
    uint32_t sp1 = start;
    while (sp1 < end && h[sp1] != ' ') sp1++;
    uint32_t t = sp1 < end ? sp1 + 1 : end, sp2 = t;
    while (sp2 < end && h[sp2] != ' ') sp2++;
    q->method.off = start;
    q->method.len = sp1 - start;
    q->target.off = t;
    q->target.len = sp2 - t;
    q->nheaders = 0;
    q->flags &= ~(uint32_t)TR_HTTP_F_CONTENT_LENGTH;
    c->head_len = end;
    c->loc = TE_LOC_DEFAULT;
    c->flags |= TE_C_LOG;
}

/*
 * A client that closed, broke off or timed out in the middle of a head: nginx ends that request
 * with `status` (400, 408 for client_header_timeout) and logs it in the access log with nothing
 * sent. Its $request is what came of the line; once the line is complete, $request_uri and the
 * headers read so far are known too (a line still incomplete has none: nginx logs "-"). `why`:
 * nginx's info line before the phase, or NULL for none. The caller closes the connection.
 */
void te_head_gone(te_engine *e, te_conn *c, const char *why, int status)
{
    tr_http_req *q = &c->head->req;
    const char *h = c->in + c->req;
    uint32_t n = c->in_len - c->req, i = 0;
    while (i < n && (h[i] == '\r' || h[i] == '\n')) i++;
    const char *lf = i < n ? memchr(h + i, '\n', n - i) : NULL;
    /* nginx reads the headers once the line ended, not once its version came */
    if (why) te_errlog(e, c, TE_LOG_INFO, "%s while reading client request %s", why, lf ? "headers" : "line");
    if (lf && q->version) {
        /* the line was parsed: its slices and the complete header lines hold */
        const char *last = h + n;
        while (last > lf + 1 && last[-1] != '\n') last--;
        c->head_len = (uint32_t)(last - h);
    } else {
        uint32_t sp = i;
        while (sp < n && h[sp] != ' ' && h[sp] != '\r' && h[sp] != '\n') sp++;
        q->method.off = i;
        q->method.len = sp - i;
        q->method_id = 0;
        q->target.off = sp;
        q->target.len = 0;
        q->nheaders = 0;
        q->version = 0;
        c->head_len = n;
    }
    q->flags &= ~(uint32_t)TR_HTTP_F_CONTENT_LENGTH;
    c->loc = TE_LOC_DEFAULT;
    c->status = (uint16_t)status;
    c->sent = 0;
    c->head_sent = 0;
    te_rec_log_last(e, c, 0); /* the connection is gone either way: nobody would try again */
}

/* The header before hdrs[last] with the same name (a unique header sent twice), or NULL. */
static const tr_http_header *earlier(const te_conn *c, uint32_t last)
{
    const char *h = c->in + c->req;
    const tr_http_header *d = &c->head->hdrs[last];
    for (uint32_t i = 0; i < last; i++) {
        const tr_http_header *x = &c->head->hdrs[i];
        if (x->name.len == d->name.len && strncasecmp(h + x->name.off, h + d->name.off, d->name.len) == 0) return x;
    }
    return NULL;
}

/* What nginx adds to some refusals' reason: the bad header line up to the byte it blames (that
   byte in hex), or both lines of a header sent twice. "" when there is none. */
static void detail(const te_conn *c, char *out, size_t cap)
{
    const tr_http_req *q = &c->head->req;
    const char *h = c->in + c->req;
    out[0] = 0;
    if (!q->reason) return;
    if (strcmp(q->reason, "client sent invalid header line") == 0) {
        if (q->err.len == 0 || q->err.off + q->err.len > c->in_len - c->req) return;
        snprintf(out, cap, ": \"%.*s\\x%02x...\"", (int)(q->err.len - 1), h + q->err.off,
                 (unsigned)(unsigned char)h[q->err.off + q->err.len - 1]);
    } else if (strcmp(q->reason, "client sent too long header line") == 0) {
        /* nginx shows the line as far as its buffer held it, cut at NGX_MAX_ERROR_STR - 300 */
        if (q->err.off + q->err.len > c->in_len - c->req) return;
        snprintf(out, cap, ": \"%.*s...\"", (int)(q->err.len < 1748 ? q->err.len : 1748), h + q->err.off);
    } else if (strcmp(q->reason, "client sent unknown \"Transfer-Encoding\"") == 0) {
        /* nginx adds the value: `client sent unknown "Transfer-Encoding": "identity"` */
        if (q->err.off + q->err.len > c->in_len - c->req) return;
        snprintf(out, cap, ": \"%.*s\"", (int)q->err.len, h + q->err.off);
    } else if ((strcmp(q->reason, "client sent duplicate host header") == 0
                || strcmp(q->reason, "client sent duplicate header line") == 0) && q->nheaders >= 2) {
        const tr_http_header *d = &c->head->hdrs[q->nheaders - 1], *p = earlier(c, q->nheaders - 1);
        if (!p) return;
        snprintf(out, cap, ": \"%.*s: %.*s\", previous value: \"%.*s: %.*s\"", (int)d->name.len, h + d->name.off,
                 (int)d->value.len, h + d->value.off, (int)p->name.len, h + p->name.off, (int)p->value.len, h + p->value.off);
    }
}

static void refuse(te_engine *e, te_conn *c)
{
    tr_http_req *q = &c->head->req;
    char more[2048];
    detail(c, more, sizeof more);
    te_errlog(e, c, TE_LOG_INFO, "%s%s %s", q->reason ? q->reason : "client sent invalid request", more, te_refusal_phase(q));
    c->flags &= ~TE_C_KEEPALIVE;
    c->flags |= TE_C_LINGER;
    c->version = (q->flags & TR_HTTP_F_HTTP09) ? 9 : 1001; /* an HTTP/0.9 request gets an HTTP/0.9 page */
    int status = q->status;
    refusal_for_log(c);
    te_answer_page(e, c, status, 1);
}

/* ssl_verify_client's verdict on the session, checked for each request as nginx does: a bad or
   missing client certificate is nginx's 400 page that says so (495 / 496 in the log's terms);
   plain HTTP on a TLS port is 497 (the request read first, so it is logged as nginx logs it). */
static int refuse_cert(te_engine *e, te_conn *c)
{
    char why[256];
    /* several servers on the listener: JS checks against the one the Host chose (nginx's way) */
    int one = e->listeners[c->listener].server >= 0;
    int status = (c->flags & TE_C_TLS_PLAIN) ? 497 : one ? te_tls_refusal(c, why, sizeof why) : 0;
    if (status == 497) snprintf(why, sizeof why, "client sent plain HTTP request to HTTPS port");
    if (!status) return 0;
    if (te_tls_refusals_js) {
        /* an error_page may take it: JS answers (phases/index.ts), logging the same line */
        c->refused = (uint16_t)status;
        c->flags &= ~TE_C_KEEPALIVE;
        return 0;
    }
    te_errlog(e, c, TE_LOG_INFO, "%s while reading client request headers", why);
    c->flags &= ~TE_C_KEEPALIVE;
    c->flags |= TE_C_LINGER | TE_C_LOG;
    c->loc = TE_LOC_DEFAULT;
    te_answer_page(e, c, status, 1);
    return 1;
}

/* The path as nginx matches locations: a path with "//", "/.", '%' or '#' is normalised first;
   one nginx refuses ("..." above the root, a bad escape, %00) is answered 400 here. */
static int normalize(te_engine *e, te_conn *c)
{
    const tr_http_req *q = &c->head->req;
    e->path = c->in + c->req + q->path.off;
    e->path_len = q->path.len;
    if (!(q->flags & TR_HTTP_F_COMPLEX_URI)) return 0;
    if (e->scratch_cap < q->path.len + 1) {
        char *p = realloc(e->scratch, q->path.len + 1);
        if (!p) {
            te_conn_close(e, c, TE_WHY_ERROR);
            return -1;
        }
        e->scratch = p;
        e->scratch_cap = q->path.len + 1;
    }
    int n = tr_http_normalize_path(e->path, e->path_len, e->scratch, 1);
    if (n < 0) {
        te_errlog(e, c, TE_LOG_INFO, "%s while reading client request line", TR_HTTP_BAD_URI);
        c->flags &= ~TE_C_KEEPALIVE;
        c->flags |= TE_C_LINGER | TE_C_LOG;
        c->loc = TE_LOC_DEFAULT;
        te_answer_page(e, c, 400, 1);
        return -1;
    }
    e->path = e->scratch;
    e->path_len = (uint32_t)n;
    return 0;
}

/* A byte nginx keeps in a header name: its lowcase table's letters, digits and '-'. */
static int name_byte(unsigned char ch, int underscores)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'
           || (ch == '_' && underscores);
}

/*
 * ignore_invalid_headers dropped headers (the parser says so with TR_HTTP_F_IGNORED): nginx logs
 * each as it reads it, at info: `client sent invalid header line: "X_A: 1"` (the line to its
 * value's end), with the host: (and server) of a Host that came before it. Rare, so the head is
 * scanned again here rather than the parser keeping the lines.
 */
static void log_ignored(te_engine *e, te_conn *c, uint32_t head_len)
{
    tr_http_req *q = &c->head->req;
    const char *h = c->in + c->req;
    int underscores = te_set(e, c)->limits.underscores_in_headers;
    const tr_http_slice host = q->host;
    const uint32_t nh = q->nheaders;
    uint32_t p = q->target.off;
    while (p < head_len && h[p] != '\n') p++; /* the request line's end */
    for (p++; p < head_len && h[p] != '\r' && h[p] != '\n';) {
        uint32_t line = p, bad = 0;
        while (p < head_len && h[p] != ':' && h[p] != '\r' && h[p] != '\n') bad |= !name_byte((unsigned char)h[p++], underscores);
        uint32_t vstart = p;
        if (p < head_len && h[p] == ':') for (vstart = ++p; vstart < head_len && h[vstart] == ' ';) vstart++;
        uint32_t end = vstart;
        while (end < head_len && h[end] != '\r' && h[end] != '\n') end++;
        p = end;
        while (p < head_len && h[p] != '\n') p++;
        p++;
        if (!bad) continue;
        uint32_t ve = end;
        while (ve > vstart && h[ve - 1] == ' ') ve--;
        /* the context as nginx had it at this line: the headers before it only */
        uint32_t before = 0;
        while (before < nh && c->head->hdrs[before].name.off < line) before++;
        int host_before = (q->flags & TR_HTTP_F_ABSOLUTE) || (host.len && host.off < line);
        q->nheaders = before;
        if (!host_before) q->host.len = 0;
        te_errlog(e, c, TE_LOG_INFO, "client sent invalid header line: \"%.*s\" while reading client request headers", (int)(ve - line), h + line);
        q->nheaders = nh;
        q->host = host;
    }
}

static void dispatch(te_engine *e, te_conn *c, uint32_t head_len)
{
    const te_settings *s = te_set(e, c);
    tr_http_req *q = &c->head->req;
    if ((q->flags & TR_HTTP_F_IGNORED) && !(c->flags & TE_C_IGNORED_LOGGED)) {
        log_ignored(e, c, head_len);
        c->flags |= TE_C_IGNORED_LOGGED;
    }
    c->head_len = head_len;
    c->version = q->version;
    c->pos = c->req + head_len;
    c->requests++;
    te_stat_to(&c->ss, TE_SS_WRITING);
    int keep = (q->flags & TR_HTTP_F_KEEPALIVE) && !e->draining && c->requests < s->keepalive_requests && q->version != 9;
    if (keep) c->flags |= TE_C_KEEPALIVE;
    else c->flags &= ~TE_C_KEEPALIVE;
    c->ka_ms = s->keepalive_timeout;
    if (q->flags & TR_HTTP_F_CHUNKED) {
        c->body = TE_BODY_WAIT;
        c->flags |= TE_C_CHUNKED;
        tr_http_chunked_init(&c->chunked, 0);
    } else if ((q->flags & TR_HTTP_F_CONTENT_LENGTH) && q->content_length > 0) {
        c->body = TE_BODY_WAIT;
        c->body_left = q->content_length;
    } else {
        c->body = TE_BODY_NONE;
    }
    if ((q->flags & TR_HTTP_F_EXPECT_CONTINUE) && c->body == TE_BODY_WAIT) c->flags |= TE_C_CONTINUE;
    te_timer_clear(e, c);
    c->refused = 0;
    if ((c->ssl || (c->flags & TE_C_TLS_PLAIN)) && refuse_cert(e, c)) return;
    if (normalize(e, c) < 0) return;
    if (!c->refused && te_answer_native(e, c)) return;
    uint32_t body = te_body_eager(c);
    /* a REQ that could never fit would be dispatched again forever: a body that big is read later
       (only a small test inbox, TRESTY_ENGINE_INBOX, is that small) */
    if (body > e->inbox_cap / 4) body = 0;
    if (te_rec_req(e, c, TE_IN_REQ, body) < 0) {
        c->pos = c->req; /* no room in the inbox: dispatch again in the next round */
        c->requests--;
        te_pend(e, c);
        return;
    }
    if (body) te_body_taken(c, body);
    c->state = TE_JS;
    c->flags |= TE_C_JS;
}

void te_head_parse(te_engine *e, te_conn *c)
{
    if (c->head_len) { /* parsed earlier, waiting for room in the inbox */
        uint32_t n = c->head_len;
        c->head_len = 0;
        dispatch(e, c, n);
        return;
    }
    const te_settings *s = te_set(e, c);
    tr_http_limits lim = s->limits;
    if (lim.max_headers > c->head->cap) lim.max_headers = c->head->cap;
    int rc = tr_http_parse_head(&c->head->req, c->in + c->req, c->in_len - c->req, c->head->hdrs, &lim);
    if (rc == TR_HTTP_REFUSE && c->head->req.status == TR_HTTP_HEADER_TOO_LARGE && c->head->req.nheaders == c->head->cap
        && c->head->cap < s->limits.max_headers) {
        /* out of header slots, not of nginx's limit: parse again with room for all */
        te_head *h = realloc(c->head, sizeof *h + s->limits.max_headers * sizeof(tr_http_header));
        if (!h) {
            te_conn_close(e, c, TE_WHY_ERROR);
            return;
        }
        c->head = h;
        h->cap = s->limits.max_headers;
        tr_http_req_init(&h->req);
        lim.max_headers = h->cap;
        rc = tr_http_parse_head(&h->req, c->in + c->req, c->in_len - c->req, h->hdrs, &lim);
    }
    if (rc > 0) {
        dispatch(e, c, (uint32_t)rc);
    } else if (rc == TR_HTTP_REFUSE) {
        refuse(e, c);
    } else if (c->in_len - c->req >= te_head_max(s)) {
        c->head->req.status = TR_HTTP_HEADER_TOO_LARGE;
        c->head->req.reason = "client sent too large request";
        refuse(e, c);
    }
}
