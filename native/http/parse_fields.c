/*
 * parse_fields.c: the headers nginx interprets (Host, Connection, Content-Length,
 * Transfer-Encoding, Expect, Upgrade, and those it refuses to see twice), and the checks nginx
 * makes once it has every header. The state machine (parse.c) records every header itself and
 * comes here only for these.
 */
#include "parse_int.h"

/* Case-insensitive substring search, as nginx's ngx_strcasestrn for Connection values. */
static int icontains(const uint8_t *p, uint32_t len, const char *lit, uint32_t n)
{
    if (n > len) return 0;
    for (uint32_t i = 0; i + n <= len; i++)
        if (ieq(p + i, lit, n)) return 1;
    return 0;
}

/* Content-Length as nginx's ngx_atoof: digits only, no sign, fits an off_t. */
static int parse_length(const uint8_t *p, uint32_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0) return -1;
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A header nginx interprets (k != K_OTHER) was recorded as hdrs[r->nheaders - 1]: [vstart, vend)
   its value, [line, line_end) its line for the error log. */
int trh_header_special(tr_http_req *r, const uint8_t *b, int k, uint32_t line, uint32_t vstart,
                       uint32_t vend, uint32_t line_end)
{
    const uint8_t *v = b + vstart;
    uint32_t vlen = vend - vstart;
    switch (k) {
    case K_HOST: {
        if (r->host_idx_)
            return refuse(r, 400, "client sent duplicate host header", line, line_end - line);
        r->host_idx_ = r->nheaders;
        r->flags |= TR_HTTP_F_HOST;
        int64_t hl = trh_validate_host(v, vlen);
        if (hl < 0) return refuse(r, 400, "client sent invalid host header", line, line_end - line);
        if (!(r->flags & TR_HTTP_F_ABSOLUTE)) {
            r->host.off = vstart;
            r->host.len = (uint32_t)hl;
        }
        return 0;
    }
    case K_CONNECTION:
        /* nginx looks for substrings, and the last Connection header decides. */
        if (icontains(v, vlen, "close", 5)) r->conn_ = 1;
        else if (icontains(v, vlen, "keep-alive", 10)) r->conn_ = 2;
        if (icontains(v, vlen, "upgrade", 7)) r->flags |= TR_HTTP_F_CONN_UPGRADE;
        return 0;
    case K_UPGRADE:
        r->flags |= TR_HTTP_F_UPGRADE;
        return 0;
    default:
        break;
    }
    /* The rest are headers nginx refuses to see twice. */
    uint32_t bit = 1u << k;
    if (r->seen_ & bit)
        return refuse(r, 400, "client sent duplicate header line", line, line_end - line);
    r->seen_ |= bit;
    if (k == K_CONTENT_LENGTH) r->cl_idx_ = r->nheaders;
    else if (k == K_TRANSFER_ENCODING) r->te_idx_ = r->nheaders;
    else if (k == K_EXPECT && vlen == 12 && ieq(v, "100-continue", 12))
        r->flags |= TR_HTTP_F_EXPECT_CONTINUE;
    return 0;
}

/* The head is complete: the checks nginx makes once it has every header. */
int trh_head_done(tr_http_req *r, const uint8_t *b, const tr_http_header *hdrs,
                  uint32_t head_len)
{
    r->head_len = head_len;
    r->state_ = S_DONE;
    if (r->version < 1001) r->flags &= ~TR_HTTP_F_EXPECT_CONTINUE;
    if (!r->host_idx_ && r->version >= 1001)
        return refuse(r, 400, "client sent HTTP/1.1 request without \"Host\" header", 0, 0);
    if (r->cl_idx_) {
        const tr_http_header *h = &hdrs[r->cl_idx_ - 1];
        if (parse_length(b + h->value.off, h->value.len, &r->content_length) != 0)
            return refuse(r, 400, "client sent invalid \"Content-Length\" header", h->name.off,
                          h->value.off + h->value.len - h->name.off);
        r->flags |= TR_HTTP_F_CONTENT_LENGTH;
    }
    if (r->te_idx_) {
        const tr_http_header *h = &hdrs[r->te_idx_ - 1];
        uint32_t elen = h->value.off + h->value.len - h->name.off;
        if (r->version < 1001)
            return refuse(r, 400, "client sent HTTP/1.0 request with \"Transfer-Encoding\" header",
                          h->name.off, elen);
        if (h->value.len == 7 && ieq(b + h->value.off, "chunked", 7)) {
            if (r->cl_idx_)
                return refuse(r, 400,
                              "client sent \"Content-Length\" and \"Transfer-Encoding\" headers "
                              "at the same time",
                              h->name.off, elen);
            r->flags |= TR_HTTP_F_CHUNKED;
        } else {
            return refuse(r, 501, "client sent unknown \"Transfer-Encoding\"", h->value.off,
                          h->value.len);
        }
    }
    uint32_t conn = r->conn_;
    if (r->version >= 1001 ? conn != 1 : (r->version == 1000 && conn == 2))
        r->flags |= TR_HTTP_F_KEEPALIVE;
    if (r->method_id == TR_HTTP_M_CONNECT)
        return refuse(r, 405, "client sent CONNECT method", r->method.off, r->method.len);
    if (r->method_id == TR_HTTP_M_TRACE)
        return refuse(r, 405, "client sent TRACE method", r->method.off, r->method.len);
    return (int)head_len;
}
