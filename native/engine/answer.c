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
    c->flags |= TE_C_END;
    int rc = te_write_out(e, c);
    if (rc < 0) te_conn_close(e, c, TE_WHY_ERROR);
    else if (rc == 1) te_conn_finish(e, c);
}

int te_is_head(te_conn *c)
{
    return c->head && c->head_len && c->head->req.method_id == TR_HTTP_M_HEAD;
}

/* Queues a status line and the common headers; `extra` ends with CRLF or is empty. */
int te_answer_head(te_engine *e, te_conn *c, int status, const char *type, long long length, const char *extra)
{
    (void)e;
    if (c->version == 9) return 0; /* HTTP/0.9: no status line, no headers */
    char h[1024];
    int keep = (c->flags & TE_C_KEEPALIVE) && !(c->flags & TE_C_CLOSE);
    int wire = status == 494 ? 400 : status;
    int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nServer: tresty\r\nDate: %s\r\n", wire, te_reason(wire), te_date());
    if (type && n < (int)sizeof h) n += snprintf(h + n, sizeof h - n, "Content-Type: %s\r\n", type);
    if (length >= 0 && n < (int)sizeof h) n += snprintf(h + n, sizeof h - n, "Content-Length: %lld\r\n", length);
    if (extra && n < (int)sizeof h) n += snprintf(h + n, sizeof h - n, "%s", extra);
    if (n < (int)sizeof h) n += snprintf(h + n, sizeof h - n, "Connection: %s\r\n\r\n", keep ? "keep-alive" : "close");
    if (n >= (int)sizeof h) return -1;
    if (te_queue(c, h, (uint32_t)n) < 0) return -1;
    c->out_head += (uint32_t)n;
    return 0;
}

void te_answer_page(te_engine *e, te_conn *c, int status, int close)
{
    char page[512];
    int plen = te_page(status, page, sizeof page);
    if (close) c->flags |= TE_C_CLOSE;
    c->status = (uint16_t)status;
    int body = status >= 300 && status != 304;
    if (te_answer_head(e, c, status, body ? "text/html" : NULL, body ? plen : -1, NULL) < 0
        || (body && !te_is_head(c) && te_queue(c, page, (uint32_t)plen) < 0)) {
        te_conn_close(e, c, TE_WHY_ERROR);
        return;
    }
    te_answer_go(e, c);
}
