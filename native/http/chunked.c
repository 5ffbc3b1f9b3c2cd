/*
 * chunked.c: the resumable chunked request-body decoder (see parse.h). It takes what nginx 1.22
 * takes: hex sizes up to 2^59 - 1 (nginx refuses a size once it passes NGX_MAX_OFF_T_VALUE / 16),
 * extensions after ';', ' ' or '\t' skipped to the line end, trailers skipped, CRLF or bare LF
 * line ends; anything else is "client sent invalid chunked body" (400).
 */
#include "parse.h"

#include <string.h>

enum {
    C_SIZE_START = 0, /* want the first hex digit of a chunk size */
    C_SIZE,           /* in the size's hex digits */
    C_EXT,            /* in a chunk extension, up to the line end */
    C_SIZE_LF,        /* after the size line's CR */
    C_DATA,           /* in chunk data: `size` bytes due */
    C_AFTER_DATA,     /* want the CRLF after the data */
    C_AFTER_DATA_LF,
    C_TRAILER,        /* at the start of a trailer line (or the final empty line) */
    C_TRAILER_LINE,   /* in a trailer line */
    C_TRAILER_LF,     /* after a trailer line's CR */
    C_END_LF,         /* after the final empty line's CR */
    C_DONE,
    C_FAILED
};

#define MAX_CHUNK UINT64_C(0x07ffffffffffffff) /* NGX_MAX_OFF_T_VALUE / 16 */

void tr_http_chunked_init(tr_http_chunked *c, uint64_t max_body)
{
    memset(c, 0, sizeof(*c));
    c->max_body = max_body;
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

/* Extensions and trailers are skipped unread, as nginx does: to the next CR or LF. */
static size_t line_end(const uint8_t *b, size_t p, size_t len)
{
    const void *e = memchr(b + p, '\r', len - p);
    const void *f = memchr(b + p, '\n', e ? (size_t)((const uint8_t *)e - (b + p)) : len - p);
    if (f) return (size_t)((const uint8_t *)f - b);
    return e ? (size_t)((const uint8_t *)e - b) : len;
}

static int fail(tr_http_chunked *c, uint16_t status, const char *reason)
{
    c->status = status;
    c->reason = reason;
    c->state_ = C_FAILED;
    return TR_HTTP_REFUSE;
}

/* The size line ended: the data of a chunk follows, or the trailers after the last one. */
static int size_line_done(tr_http_chunked *c)
{
    if (c->size == 0) {
        c->state_ = C_TRAILER;
        return 0;
    }
    if (c->max_body && c->size > c->max_body - (c->total < c->max_body ? c->total : c->max_body))
        return fail(c, 413, "client intended to send too large chunked body");
    c->state_ = C_DATA;
    return 0;
}

int tr_http_chunked_decode(tr_http_chunked *c, char *buf, size_t len, size_t *consumed,
                           size_t *produced)
{
    uint8_t *b = (uint8_t *)buf;
    size_t p = 0, out = 0;
    int rc = TR_HTTP_AGAIN;

    if (c->state_ == C_FAILED) {
        *consumed = *produced = 0;
        return TR_HTTP_REFUSE;
    }
    while (p < len && c->state_ != C_DONE) {
        uint8_t ch = b[p];
        switch (c->state_) {
        case C_SIZE_START: {
            int v = hexval(ch);
            if (v < 0) goto invalid;
            c->size = (uint64_t)v;
            c->state_ = C_SIZE;
            p++;
            break;
        }
        case C_SIZE:
            for (;;) {
                /* nginx checks before each byte, the terminator included */
                if (c->size > MAX_CHUNK) goto invalid;
                int v = hexval(ch);
                if (v < 0) break;
                c->size = c->size * 16 + (uint64_t)v;
                if (++p == len) goto out;
                ch = b[p];
            }
            p++;
            if (ch == '\r') c->state_ = C_SIZE_LF;
            else if (ch == '\n') { if (size_line_done(c)) goto refused; }
            else if (ch == ';' || ch == ' ' || ch == '\t') c->state_ = C_EXT;
            else goto invalid;
            break;
        case C_EXT:
            p = line_end(b, p, len);
            if (p == len) goto out;
            if (b[p++] == '\r') c->state_ = C_SIZE_LF;
            else if (size_line_done(c)) goto refused;
            break;
        case C_SIZE_LF:
            if (ch != '\n') goto invalid;
            p++;
            if (size_line_done(c)) goto refused;
            break;
        case C_DATA: {
            size_t take = len - p;
            if ((uint64_t)take > c->size) take = (size_t)c->size;
            if (out != p) memmove(b + out, b + p, take);
            out += take;
            p += take;
            c->size -= take;
            c->total += take;
            if (c->size == 0) c->state_ = C_AFTER_DATA;
            break;
        }
        case C_AFTER_DATA:
            p++;
            if (ch == '\r') c->state_ = C_AFTER_DATA_LF;
            else if (ch == '\n') c->state_ = C_SIZE_START;
            else goto invalid;
            break;
        case C_AFTER_DATA_LF:
            if (ch != '\n') goto invalid;
            p++;
            c->state_ = C_SIZE_START;
            break;
        case C_TRAILER:
            p++;
            if (ch == '\r') c->state_ = C_END_LF;
            else if (ch == '\n') c->state_ = C_DONE;
            else c->state_ = C_TRAILER_LINE;
            break;
        case C_TRAILER_LINE:
            p = line_end(b, p, len);
            if (p == len) goto out;
            c->state_ = b[p++] == '\r' ? C_TRAILER_LF : C_TRAILER;
            break;
        case C_TRAILER_LF:
            if (ch != '\n') goto invalid;
            p++;
            c->state_ = C_TRAILER;
            break;
        case C_END_LF:
            if (ch != '\n') goto invalid;
            p++;
            c->state_ = C_DONE;
            break;
        default:
            goto invalid;
        }
    }
out:
    if (c->state_ == C_DONE) rc = TR_HTTP_DONE;
    *consumed = p;
    *produced = out;
    return rc;
invalid:
    fail(c, 400, "client sent invalid chunked body");
refused:
    *consumed = p;
    *produced = out;
    return TR_HTTP_REFUSE;
}
