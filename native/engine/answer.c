/* answer.c: the answers the engine writes itself: error pages (refusals, and for the locations
   it serves alone), then the native routes (route.c: return, static files). */
#include <stdio.h>
#include <string.h>
#include "engine.h"
#include "pages.h"

/* Starts writing the queued answer; finishes the request when it all went at once. */
void te_answer_go(te_engine *e, te_conn *c)
{
    c->state = TE_NATIVE;
    te_stat_to(&c->ss, TE_SS_WRITING);
    c->flags |= TE_C_END;
    int rc = te_write_out(e, c);
    if (rc < 0) te_conn_close(e, c, TE_WHY_ERROR);
    else if (rc == 1) te_conn_finish(e, c);
}

int te_is_head(te_conn *c)
{
    return c->head && c->head_len && c->head->req.method_id == TR_HTTP_M_HEAD;
}

/* Appends to a header buffer without printf (this runs for every answer the engine writes). */
typedef struct hbuf { char *p; size_t n, cap; int bad; } hbuf;

static void put(hbuf *b, const char *s, size_t n)
{
    if (b->bad || b->n + n > b->cap) { b->bad = 1; return; }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(hbuf *b, const char *s) { put(b, s, strlen(s)); }

static void putnum(hbuf *b, unsigned long long v)
{
    char d[24];
    int i = sizeof d;
    do { d[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    put(b, d + i, sizeof d - (size_t)i);
}

static const char GZ_VARY[] = "Vary: Accept-Encoding\r\n", GZ_CHUNKED[] = "Transfer-Encoding: chunked\r\n",
                  GZ_ENCODING[] = "Content-Encoding: gzip\r\n";

/* Queues a status line and the common headers; `extra` ends with CRLF or is empty; `name` is the
   Server header's (NULL: the worker's, te_software); `gz`: gzip's lines (TE_GZL_*). */
int te_answer_head(te_engine *e, te_conn *c, int status, const char *name, const char *type, long long length, const char *extra,
                   const char *late, int gz)
{
    (void)e;
    if (c->version == 9) return 0; /* HTTP/0.9: no status line, no headers */
    char h[1024];
    hbuf b = { h, 0, sizeof h, 0 };
    int keep = (c->flags & TE_C_KEEPALIVE) && !(c->flags & TE_C_CLOSE);
    int wire = te_wire_status(status);
    puts_(&b, "HTTP/1.1 ");
    if (wire < 100) puts_(&b, wire < 10 ? "00" : "0"); /* nginx prints three digits: "099 " */
    putnum(&b, (unsigned)wire);
    put(&b, " ", 1);
    puts_(&b, wire >= 100 && wire < 200 && wire != 101 ? "" : te_reason(wire)); /* nginx: "150 " */
    puts_(&b, "\r\nServer: ");
    puts_(&b, name ? name : te_software());
    puts_(&b, "\r\nDate: ");
    puts_(&b, te_date());
    put(&b, "\r\n", 2);
    if (type) {
        puts_(&b, "Content-Type: ");
        puts_(&b, type);
        put(&b, "\r\n", 2);
    }
    if (length >= 0) {
        puts_(&b, "Content-Length: ");
        putnum(&b, (unsigned long long)length);
        put(&b, "\r\n", 2);
    }
    /* nginx's order: a Location it made absolute and Last-Modified before Connection, then its
       header list (a Location given as a URL, ETag, expires', add_header's, Accept-Ranges) */
    const char *rest = extra ? extra : "";
    while (strncmp(rest, "Location: ", 10) == 0 || strncmp(rest, "Last-Modified: ", 15) == 0) {
        const char *eol = strstr(rest, "\r\n");
        if (!eol) break;
        rest = eol + 2;
    }
    if (extra) put(&b, extra, (size_t)(rest - extra));
    /* the gzip filter's chunks before Connection, gzip_vary's line right after it (nginx's header
       filter writes both), the Content-Encoding the gzip filter adds at the end of the list */
    if (gz & TE_GZL_CHUNKED) put(&b, GZ_CHUNKED, sizeof GZ_CHUNKED - 1);
    /* 101 says upgrade, whether or not the connection is kept (as nginx) */
    puts_(&b, wire == 101 ? "Connection: upgrade\r\n" : keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    if (gz & TE_GZL_VARY) put(&b, GZ_VARY, sizeof GZ_VARY - 1);
    if (late) puts_(&b, late);
    puts_(&b, rest);
    if (gz & TE_GZL_ENCODING) put(&b, GZ_ENCODING, sizeof GZ_ENCODING - 1);
    put(&b, "\r\n", 2);
    if (b.bad) return -1;
    if (te_queue(c, h, (uint32_t)b.n) < 0) return -1;
    c->out_head += (uint32_t)b.n;
    return 0;
}

/* nginx's special response for these turns keep-alive off (ngx_http_special_response_handler):
   the page says `Connection: close` and the connection closes after it, lingering when input is
   left (te_conn_finish). A body of the handler's own with such a status keeps it. */
int te_page_closes(int status)
{
    switch (status) {
    case 400: case 413: case 414: case 495: case 496: case 497: case 500: case 501: return 1;
    default: return 0;
    }
}

void te_answer_page(te_engine *e, te_conn *c, int status, int close)
{
    char page[512];
    int plen = te_page(status, NULL, page, sizeof page);
    if (close || te_page_closes(status)) c->flags |= TE_C_CLOSE;
    c->status = (uint16_t)status;
    int body = status >= 300 && status != 304;
    if (te_answer_head(e, c, status, NULL, body ? "text/html" : NULL, body ? plen : -1, NULL, NULL, 0) < 0
        || (body && !te_is_head(c) && te_queue(c, page, (uint32_t)plen) < 0)) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    te_answer_go(e, c);
}
