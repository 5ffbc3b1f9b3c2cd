/* records.c: writing the inbox records of layout.h. A record that does not fit and that its
   producer makes again later (retried()) returns NULL / -1: the caller leaves its work pending and
   the pass hands the full inbox to JS first. Any other record waits aside until the inbox has room. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "engine.h"
#include "tls.h"
#include "pages.h"
#include "route.h"

static inline uint32_t align8(uint32_t n) { return (n + 7u) & ~7u; }
static inline void w16(char *p, uint32_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static inline void w32(char *p, uint32_t off, uint32_t v) { memcpy(p + off, &v, 4); }

/* Room kept for the small records JS must never miss (a connection closed, room to write). */
#define RESERVE 8192

/* Records whose producer tries again when refused: a REQ (head.c dispatches again), the LOG of an
   answer (conn.c finishes again), BODY bytes (body.c asks for room first). Any other record is
   the only word JS gets of its event (a body's end, an upstream's error): it is never refused. */
static int retried(uint8_t type) { return type == TE_IN_REQ || type == TE_IN_LOG || type == TE_IN_BODY; }

int te_rec_spill(te_engine *e)
{
    uint32_t off = 0;
    while (off < e->over_len) {
        uint32_t size;
        memcpy(&size, e->over + off + TE_REC_SIZE, 4);
        if (e->inbox_len + size > e->inbox_cap) break;
        memcpy(e->inbox + e->inbox_len, e->over + off, size);
        e->inbox_len += size;
        off += size;
    }
    if (off) {
        memmove(e->over, e->over + off, e->over_len - off);
        e->over_len -= off;
    }
    return e->over_len == 0;
}

/* The inbox is JS's buffer and cannot grow: a record that must not be lost waits in a heap buffer
   of the engine's own, handed over by te_rec_spill when JS took the batch (addon.c, pass.c). */
static char *aside(te_engine *e, uint32_t size)
{
    if (e->over_len + size > e->over_cap) {
        uint32_t cap = e->over_cap ? e->over_cap : 4096;
        while (cap < e->over_len + size) cap *= 2;
        char *p = realloc(e->over, cap);
        if (!p) return NULL; /* out of memory: the one case a record is lost */
        e->over = p;
        e->over_cap = cap;
    }
    char *r = e->over + e->over_len;
    e->over_len += size;
    if (!e->in_pass) te_host_schedule(e);
    return r;
}

/* must: the record waits aside rather than being refused when the inbox is full. */
static char *rec_must(te_engine *e, uint8_t type, te_conn *c, uint32_t fixed, uint32_t extra, int must)
{
    uint32_t size = align8(fixed + extra);
    uint32_t cap = type == TE_IN_CLOSE || type == TE_IN_DRAIN || type == TE_IN_WAKE ? e->inbox_cap : e->inbox_cap - RESERVE;
    char *r;
    /* while older records wait aside, a newer one goes behind them, or waits itself */
    if (te_rec_spill(e) && e->inbox_len + size <= cap) {
        r = e->inbox + e->inbox_len;
        e->inbox_len += size;
    } else if (!must || !(r = aside(e, size))) {
        return NULL;
    }
    r[TE_REC_TYPE] = (char)type;
    r[TE_REC_A] = 0;
    w16(r, TE_REC_B, 0);
    w32(r, TE_REC_SIZE, size);
    w32(r, TE_REC_CONN, c ? c->id : 0);
    return r;
}

char *te_rec(te_engine *e, uint8_t type, te_conn *c, uint32_t fixed, uint32_t extra)
{
    return rec_must(e, type, c, fixed, extra, !retried(type));
}

/* body: bytes of the body at c->pos to carry after the head (REQ only; te_body_eager). */
static int req(te_engine *e, te_conn *c, uint8_t type, uint32_t body, int must);

int te_rec_req(te_engine *e, te_conn *c, uint8_t type, uint32_t body) { return req(e, c, type, body, 0); }

/* The LOG of a connection that is going away: nobody would produce it again. `cut`: its answer
   was cut short (must = 2 carries it to req()). */
void te_rec_log_last(te_engine *e, te_conn *c, int cut) { (void)req(e, c, TE_IN_LOG, 0, cut ? 2 : 1); }

static int req(te_engine *e, te_conn *c, uint8_t type, uint32_t body, int must)
{
    const tr_http_req *q = &c->head->req;
    uint32_t nh = q->nheaders;
    uint32_t alen = align8(c->raddr_len);
    uint32_t hlen = align8(nh * 8);
    /* a LOG's TLS session for the $ssl_* of the access log, where it asks for them: the
       connection may be gone when JS writes the line */
    char tls[8192];
    uint32_t tlen = type == TE_IN_LOG && c->ssl && te_tls_log_info ? te_tls_info(c, tls, sizeof tls) : 0;
    if (tlen) body = 0;
    char *r = rec_must(e, type, c, TE_REQ_FIXED, alen + hlen + c->head_len + body + tlen, must != 0);
    if (!r) return -1;
    uint32_t flags = q->flags & ~(uint32_t)TR_HTTP_F_KEEPALIVE;
    if (must == 2) flags |= TE_REQ_F_CUT;
    if (c->flags & TE_C_KEEPALIVE) flags |= TR_HTTP_F_KEEPALIVE;
    if (c->flags & TE_C_PIPELINED) flags |= TE_REQ_F_PIPELINED;
    r[TE_REC_A] = (char)q->method_id;
    w32(r, TE_REQ_LISTENER, e->listeners[c->listener].index);
    w32(r, TE_REQ_FLAGS, flags);
    w16(r, TE_REQ_VERSION, q->version);
    w16(r, TE_REQ_NHEADERS, (uint16_t)nh);
    double cl = (q->flags & TR_HTTP_F_CONTENT_LENGTH) ? (double)q->content_length : -1.0;
    memcpy(r + TE_REQ_CLEN, &cl, 8);
    w32(r, TE_REQ_HEAD_LEN, c->head_len);
    w16(r, TE_REQ_METHOD, (uint16_t)q->method.off);
    w16(r, TE_REQ_METHOD + 2, (uint16_t)q->method.len);
    w32(r, TE_REQ_TARGET, q->target.off);
    w32(r, TE_REQ_TARGET_LEN, q->target.len);
    w16(r, TE_REQ_ADDR_LEN, c->raddr_len);
    w16(r, TE_REQ_PORT, c->rport);
    w32(r, TE_REQ_NUMBER, c->number);
    w32(r, TE_REQ_CONN_REQS, c->requests);
    w32(r, TE_REQ_CONN_MS, (uint32_t)(e->now > c->t_conn ? e->now - c->t_conn : 0));
    if (type == TE_IN_LOG) {
        w16(r, TE_REC_B, (uint16_t)te_wire_status(c->status)); /* nginx logs 494-497 as 400 */
        w32(r, TE_REQ_LOC, c->loc);
        w32(r, TE_REQ_SENT, (uint32_t)(c->sent > 0xffffffffu ? 0xffffffffu : c->sent));
        w32(r, TE_REQ_HEAD_SENT, (uint32_t)(c->head_sent > 0xffffffffu ? 0xffffffffu : c->head_sent));
        uint64_t ms = e->now > c->t_start ? e->now - c->t_start : 0;
        w32(r, TE_REQ_MSEC, (uint32_t)ms);
    } else {
        w16(r, TE_REC_B, c->refused); /* 495-497: JS answers it refused (head.c) */
        w32(r, TE_REQ_LOC, 0);
        w32(r, TE_REQ_SENT, 0);
        w32(r, TE_REQ_HEAD_SENT, 0);
        w32(r, TE_REQ_MSEC, 0);
    }
    w32(r, TE_REQ_BODY_LEN, body + tlen);
    char *p = r + TE_REQ_FIXED;
    memcpy(p, c->raddr, c->raddr_len);
    p += alen;
    for (uint32_t i = 0; i < nh; i++) {
        const tr_http_header *h = &c->head->hdrs[i];
        w16(p, i * 8, (uint16_t)h->name.off);
        w16(p, i * 8 + 2, (uint16_t)h->name.len);
        w16(p, i * 8 + 4, (uint16_t)h->value.off);
        w16(p, i * 8 + 6, (uint16_t)h->value.len);
    }
    p += hlen;
    memcpy(p, c->in + c->req, c->head_len);
    if (body) memcpy(p + c->head_len, c->in + c->pos, body);
    if (tlen) memcpy(p + c->head_len, tls, tlen);
    return 0;
}

int te_rec_data(te_engine *e, uint8_t type, te_conn *c, uint16_t b, const char *p, uint32_t n)
{
    char *r = te_rec(e, type, c, TE_DATA, n);
    if (!r) return -1;
    w16(r, TE_REC_B, b);
    w32(r, TE_DATA_LEN, n);
    if (n) memcpy(r + TE_DATA, p, n);
    return 0;
}

static void rec_close(te_engine *e, te_conn *c, int why, uint16_t sent, uint32_t unsent)
{
    char *r = te_rec(e, TE_IN_CLOSE, c, TE_DATA, 0);
    if (!r) return;
    r[TE_REC_A] = (char)why;
    w16(r, TE_REC_B, sent);
    w32(r, TE_DATA_LEN, unsent);
}

void te_rec_close_sent(te_engine *e, te_conn *c, int why, uint16_t sent) { rec_close(e, c, why, sent, 0); }

/* With the bytes of JS's answer still queued, which never went: nginx's $body_bytes_sent counts
   what went. */
void te_rec_close(te_engine *e, te_conn *c, int why) { rec_close(e, c, why, 0, te_queued(c)); }

/* The server a connection is served by, when the engine knows it (its listen socket has one). */
const te_str *te_server_name(te_engine *e, te_conn *c)
{
    int32_t s = e->listeners[c->listener].server;
    if (s < 0 || !e->routes || (uint32_t)s >= e->routes->nservers) return NULL;
    return &e->routes->servers[s].name;
}

#define ERRLOG_MAX 2048

/* Appends to buf, n bytes used of ERRLOG_MAX; what does not fit is left out. */
static int add(char *buf, int n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, ERRLOG_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return m > 0 && (size_t)(n + m) < ERRLOG_MAX ? n + m : n;
}

/* `host:` and `referrer:` of the headers parsed so far (the first of each, as nginx keeps). */
static int add_host(char *buf, int n, const te_conn *c)
{
    const char *h = c->in + c->req;
    const tr_http_req *q = &c->head->req;
    const tr_http_header *host = NULL, *ref = NULL;
    for (uint32_t i = 0; i < q->nheaders; i++) {
        const tr_http_header *x = &c->head->hdrs[i];
        if (x->id == TR_HTTP_H_HOST && !host) host = x;
        else if (!ref && x->name.len == 7 && strncasecmp(h + x->name.off, "referer", 7) == 0) ref = x;
    }
    if (host) n = add(buf, n, ", host: \"%.*s\"", (int)host->value.len, h + host->value.off);
    if (ref) n = add(buf, n, ", referrer: \"%.*s\"", (int)ref->value.len, h + ref->value.off);
    return n;
}

/* An error-log line: the message, then nginx's context (ngx_http_log_error): `client:` and
   `server:` always, then `request:` and `host:` where known. Before any byte of a request came,
   nginx has no request and names the listen address as the server. */
static void errlog_v(te_engine *e, te_conn *c, int level, int ctx, const char *fmt, va_list ap)
{
    char buf[ERRLOG_MAX];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    int srv_off = -1, srv_len = -1;
    const char *host = NULL;
    uint32_t host_len = 0;
    if (c && ctx) {
        const te_listener *l = &e->listeners[c->listener];
        const te_str *name = te_server_name(e, c);
        int started = (c->head && c->head_len) || c->in_len > c->req;
        n = add(buf, n, ", client: %.*s", (int)c->raddr_len, c->raddr);
        srv_off = n + 10; /* after ", server: " */
        const te_name *chosen = c->sname && c->sname <= e->nsnames && c->head && c->head_len ? &e->snames[c->sname - 1] : NULL;
        if (!started) n = add(buf, n, ", server: %.*s", (int)l->addr_len, l->addr);
        /* after the head: the server its Host chose, as nginx once it has found it */
        else if (chosen) n = add(buf, n, ", server: %.*s", (int)chosen->n, chosen->p);
        /* before it: the default server of the address the connection came in on */
        else if (c->dname && c->dname <= e->nsnames) n = add(buf, n, ", server: %.*s", (int)e->snames[c->dname - 1].n, e->snames[c->dname - 1].p);
        else if (name) n = add(buf, n, ", server: %.*s", (int)name->n, name->p);
        else n = add(buf, n, ", server: %.*s", (int)l->name_len, l->name);
        srv_len = n - srv_off;
        if (c->head && c->head_len) {
            const char *h = c->in + c->req;
            const tr_http_req *q = &c->head->req;
            /* the request line as nginx quotes it: method, target and version as received */
            uint32_t end = q->target.off + q->target.len;
            const char *nl = memchr(h + end, '\n', c->head_len > end ? c->head_len - end : 0);
            uint32_t len = nl ? (uint32_t)(nl - h) : end;
            if (len > 0 && h[len - 1] == '\r') len--;
            n = add(buf, n, ", request: \"%.*s\"", (int)(len - q->method.off), h + q->method.off);
            n = add_host(buf, n, c);
        } else if (started) {
            /* the head not complete (a bad or unfinished request line, a refused header): what came
               of the line, up to CR or LF, then the Host and Referer read before the refusal */
            const char *h = c->in + c->req;
            uint32_t len = 0, have = c->in_len - c->req;
            while (len < have && h[len] != '\r' && h[len] != '\n') len++;
            if (len) n = add(buf, n, ", request: \"%.*s\"", (int)len, h);
            if (c->head) {
                n = add_host(buf, n, c);
                /* nginx chose the server by the Host (or the absolute target) as soon as it had
                   it: JS knows the server names, so it picks and puts in the name */
                const tr_http_req *q = &c->head->req;
                if (q->host.len && q->host.off + q->host.len <= have && srv_len >= 0 && !chosen && !name) {
                    host = h + q->host.off;
                    host_len = q->host.len;
                }
            }
        }
    }
    if (host_len > 0xffff) host_len = 0;
    char *r = te_rec(e, TE_IN_ERRLOG, c, TE_ERR_TEXT, (uint32_t)n + host_len);
    if (!r) return;
    r[TE_REC_A] = (char)level;
    w32(r, TE_DATA_LEN, (uint32_t)n);
    w32(r, TE_ERR_NUMBER, c ? c->number : 0);
    w16(r, TE_ERR_LISTENER, host_len ? (uint16_t)(c->listener + 1) : 0);
    w16(r, TE_ERR_SRV_OFF, host_len ? (uint16_t)srv_off : 0);
    w16(r, TE_ERR_SRV_LEN, host_len ? (uint16_t)srv_len : 0);
    w16(r, TE_ERR_HOST_LEN, (uint16_t)host_len);
    w16(r, TE_ERR_DNAME, host_len ? c->dname : 0);
    memcpy(r + TE_ERR_TEXT, buf, (size_t)n);
    if (host_len) memcpy(r + TE_ERR_TEXT + n, host, host_len);
}

void te_errlog(te_engine *e, te_conn *c, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errlog_v(e, c, level, 1, fmt, ap);
    va_end(ap);
}

/* A line about the connection with its number but no context (nginx's keep-alive lines). */
void te_errlog_bare(te_engine *e, te_conn *c, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errlog_v(e, c, level, 0, fmt, ap);
    va_end(ap);
}
