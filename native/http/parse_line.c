/*
 * parse_line.c: what the state machine (parse.c) decides once per request line: the method's id,
 * and the host of an absolute-form target, checked as nginx checks a Host header (which
 * parse_fields.c does with the same function).
 */
#include "parse_int.h"

#include <string.h>

/*
 * nginx's ngx_http_validate_host: no "..", no '/', no controls or spaces, a non-empty name.
 * Returns the host's length without port and trailing dot, or -1 when invalid.
 */
int64_t trh_validate_host(const uint8_t *h, uint32_t len)
{
    uint32_t dot = len, host_len = len;
    int rest = 0, literal = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = h[i];
        switch (c) {
        case '.':
            if (dot + 1 == i) return -1;
            dot = i;
            break;
        case ':':
            if (!rest && !literal) { host_len = i; rest = 1; }
            break;
        case '[':
            if (i == 0) literal = 1;
            break;
        case ']':
            if (literal && !rest) { host_len = i + 1; rest = 1; literal = 0; }
            break;
        case '/':
            return -1;
        default:
            if (c <= 0x20 || c == 0x7f) return -1;
        }
    }
    if (host_len > 0 && dot == host_len - 1) host_len--;
    if (host_len == 0) return -1;
    return host_len;
}

/* The request line is complete: the host of an absolute-form target must be valid. */
int trh_request_line_done(tr_http_req *r, const uint8_t *b)
{
    if (!(r->flags & TR_HTTP_F_ABSOLUTE)) {
        r->host.off = r->host.len = 0;
        return 0;
    }
    int64_t hl = trh_validate_host(b + r->host.off, r->host.len);
    if (hl < 0)
        return refuse(r, 400, "client sent invalid host in request line", r->host.off,
                      r->host.len);
    r->host.len = (uint32_t)hl;
    return 0;
}

int trh_method_id(const uint8_t *m, uint32_t len)
{
    switch (len) {
    case 3:
        if (memcmp(m, "GET", 3) == 0) return TR_HTTP_M_GET;
        if (memcmp(m, "PUT", 3) == 0) return TR_HTTP_M_PUT;
        break;
    case 4:
        if (memcmp(m, "POST", 4) == 0) return TR_HTTP_M_POST;
        if (memcmp(m, "HEAD", 4) == 0) return TR_HTTP_M_HEAD;
        break;
    case 5:
        if (memcmp(m, "PATCH", 5) == 0) return TR_HTTP_M_PATCH;
        if (memcmp(m, "TRACE", 5) == 0) return TR_HTTP_M_TRACE;
        break;
    case 6: if (memcmp(m, "DELETE", 6) == 0) return TR_HTTP_M_DELETE; break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0) return TR_HTTP_M_OPTIONS;
        if (memcmp(m, "CONNECT", 7) == 0) return TR_HTTP_M_CONNECT;
        break;
    }
    return TR_HTTP_M_OTHER;
}
