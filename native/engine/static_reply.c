/*
 * static_reply.c: the answers of the native routes that static.c (files) and return.c (`return`)
 * both send, apart so that each of those holds one module's logic: the head with the location's
 * add_header / expires / charset / gzip_vary lines, nginx's pages, a body gzipped whole on the
 * engine's thread, a Location made absolute (absolute_redirect, port_in_redirect).
 */
#include <stdio.h>
#include <string.h>
#include "engine.h"
#include "filters.h"
#include "gzip.h"
#include "listen.h"
#include "pages.h"
#include "static_reply.h"

static const tr_http_header *header(te_conn *c, uint32_t id)
{
    for (uint32_t i = 0; i < c->head->req.nheaders; i++)
        if (c->head->hdrs[i].id == id) return &c->head->hdrs[i];
    return NULL;
}

/* nginx's absolute_redirect: a Location starting with '/' gets http[s]://host[:port]: the Host
   header's name without its port (else the local address), and the port the request came in on
   unless it is 80 (port_in_redirect), as src/request/output.ts does. */
int te_location_header(te_conn *c, const char *loc, uint32_t n, char *out, size_t cap)
{
    if (n == 0 || loc[0] != '/') return snprintf(out, cap, "Location: %.*s\r\n", (int)n, loc);
    const tr_http_header *host = header(c, TR_HTTP_H_HOST);
    const char *h = c->in + c->req;
    char addr[64];
    int port = te_local_port(c->fd, addr, sizeof addr);
    const char *name = addr;
    int len = (int)strlen(addr);
    if (host && host->value.len) {
        name = h + host->value.off;
        len = (int)host->value.len;
        const char *close = name[0] == '[' ? memchr(name, ']', (size_t)len) : NULL;
        const char *from = close ? close : name;
        const char *colon = memchr(from, ':', (size_t)(len - (from - name)));
        if (colon) len = (int)(colon - name);
    }
    const char *scheme = c->ssl ? "https" : "http"; /* a TLS connection: https, 443 left out */
    if (port == (c->ssl ? 443 : 80) || port < 0) return snprintf(out, cap, "Location: %s://%.*s%.*s\r\n", scheme, len, name, (int)n, loc);
    return snprintf(out, cap, "Location: %s://%.*s:%d%.*s\r\n", scheme, len, name, port, (int)n, loc);
}

/* The Server header's and the pages' name for this location (server_tokens). */
static const char *loc_name(const te_loc *l)
{
    return te_software_for(l->flags & TE_LF_TOKENS);
}

/* add_header's constant headers of the location (native-plan.ts): on nginx's list of statuses
   all of them, else only those with `always`. They follow the answer's own (Location,
   Last-Modified, ETag) and expires' two, and come before `tail` (Accept-Ranges), as nginx's headers
   filter puts them; gzip's lines go apart (`gz`, te_answer_head places them), gzip_vary's when
   `vary_on` is 1, never when 0, as the gzip filter considers the answer when -1. charset's
   `; charset=X` goes on the type (filters.c). */
int te_head_v(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, long long len, const char *extra, const char *tail,
              int vary_on, const char *late, int gz)
{
    const char *name = loc_name(l);
    if (l->hdr_listed.n == 0 && l->hdr_always.n == 0 && !tail && l->charset.n == 0 && l->expires == TE_EXP_NONE && l->gz_flags == 0)
        return te_answer_head(e, c, status, name, type, len, extra, late, gz);
    int listed = status == 200 || status == 201 || status == 204 || status == 206 || status == 301 || status == 302
                 || status == 303 || status == 304 || status == 307 || status == 308;
    char ctype[512], exp[256] = "";
    const char *t = te_charset_type(l, status, type, ctype, sizeof ctype);
    if (listed && te_expires_lines(l, exp, sizeof exp) < 0) return -1;
    if (vary_on > 0 || (vary_on < 0 && te_vary_on(l, status, type, len))) gz |= TE_GZL_VARY;
    const te_str *add = listed ? &l->hdr_listed : &l->hdr_always;
    char all[PATH_MAX_LEN + 1024];
    int n = snprintf(all, sizeof all, "%s%s%.*s%s", extra ? extra : "", exp, (int)add->n, add->p, tail ? tail : "");
    if (n < 0 || (size_t)n >= sizeof all) return -1;
    return te_answer_head(e, c, status, name, t, len, all, late, gz);
}

/* Whether gzip would compress an error page of this status where only JS can: then JS answers
   (and logs) it. */
int te_page_to_js(te_conn *c, const te_loc *l, int status)
{
    if (l->gz_flags == 0) return 0;
    char body[512];
    return te_gzip_decide(c, l, status, "text/html", te_page(status, loc_name(l), body, sizeof body)) == TE_GZ_JS;
}

/* An answer gzip compresses here (te_gzip_decide: TE_GZ_HERE): Content-Encoding, no length, the
   body as one chunk; `own` are the answer's own lines (Last-Modified, the ETag made weak). 0 when
   zlib failed: JS answers, nothing is written. */
int te_send_gzip(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, const char *own, const char *body, size_t n)
{
    if (te_is_head(c)) {
        /* nothing to compress: the head says gzip, with neither length nor chunks (as nginx's) */
        c->status = (uint16_t)status;
        if (te_head_v(e, c, l, status, type, -1, own, NULL, -1, NULL, TE_GZL_ENCODING) < 0) {
            te_native_failed(e, c);
            return 1;
        }
        te_answer_go(e, c);
        return 1;
    }
    size_t zn;
    const char *z = te_gzip(body, n, (int)l->gz_level, &zn);
    if (!z) return 0;
    char size[24];
    int sn = snprintf(size, sizeof size, "%zx\r\n", zn);
    c->status = (uint16_t)status;
    /* length -1: gzip_vary's test sees an answer of unknown length, as nginx's after gzip */
    if (te_head_v(e, c, l, status, type, -1, own, NULL, -1, NULL, TE_GZL_CHUNKED | TE_GZL_ENCODING) < 0 || te_queue(c, size, (uint32_t)sn) < 0
        || te_queue(c, z, (uint32_t)zn) < 0 || te_queue(c, "\r\n0\r\n\r\n", 7) < 0) {
        te_native_failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}

/* nginx's page for `status`; `extra` lines before Connection, `late` ones after it (its header
   list: a Location given as a URL) */
int te_page_late(te_engine *e, te_conn *c, const te_loc *l, int status, const char *extra, const char *late)
{
    char body[512];
    int n = te_page(status, loc_name(l), body, sizeof body);
    int gz = l->gz_flags ? te_gzip_decide(c, l, status, "text/html", n) : TE_GZ_NO;
    if (gz == TE_GZ_JS) return 0;
    if (te_page_closes(status)) c->flags |= TE_C_CLOSE;
    /* a compressed page keeps its lines in one place (before Connection) */
    if (gz == TE_GZ_HERE) return te_send_gzip(e, c, l, status, "text/html", extra ? extra : late, body, (size_t)n);
    c->status = (uint16_t)status;
    if (te_head_v(e, c, l, status, "text/html", n, extra, NULL, -1, late, 0) < 0 || (!te_is_head(c) && te_queue(c, body, (uint32_t)n) < 0)) {
        te_native_failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}
