/*
 * parse_int.h: what the request-head parser's files share (parse.c, parse_line.c,
 * parse_fields.c, parse_buffers.c, parse_tables.c). Internal: the engine includes parse.h only.
 *
 * The small helpers the state machine calls for every byte or every header (lower, ieq,
 * header_kind, refuse) are static inline here, so splitting the parser into files costs it no
 * function call in its loops.
 */
#ifndef TRESTY_HTTP_PARSE_INT_H
#define TRESTY_HTTP_PARSE_INT_H

#include "parse.h"

/* Hidden, also where the build does not say -fvisibility=hidden: the tables and functions below
   are the parser's own, and a position-independent build reaches hidden ones directly, without
   going through the GOT. */
#pragma GCC visibility push(hidden)

/* The state machine's states (tr_http_req.state_). */
enum {
    S_START = 0, /* skipping empty lines before the request line */
    S_METHOD,
    S_SP_URI,    /* spaces between method and target */
    S_SCHEME,
    S_SCHEME_S1, /* after "scheme:", want '/' */
    S_SCHEME_S2, /* want the second '/' */
    S_HOST_START,
    S_HOST,
    S_HOST_LIT,  /* inside [...] */
    S_HOST_END,  /* after ']' */
    S_PORT,
    S_PATH,
    S_QUERY,
    S_SP_VER,    /* spaces after the target */
    S_PROTO,     /* in "HTTP/" */
    S_MAJOR1, S_MAJOR, S_MINOR1, S_MINOR,
    S_SP_AFTER_VER,
    S_RL_LF,     /* after the request line's CR */
    S_09_LF,     /* after an HTTP/0.9 request line's CR */
    S_HDR_START, /* at the start of a header line */
    S_NAME,
    S_SP_VALUE,
    S_VALUE,
    S_HDR_LF,    /* after a header line's CR */
    S_END_LF,    /* after the empty line's CR */
    S_DONE
};

/* Internal header codes: the ones nginx treats specially, each with its own duplicate bit. */
enum {
    K_OTHER = 0, K_HOST, K_CONTENT_LENGTH, K_TRANSFER_ENCODING, K_CONNECTION, K_EXPECT, K_UPGRADE,
    K_IF_MODIFIED_SINCE, K_IF_UNMODIFIED_SINCE, K_IF_MATCH, K_IF_NONE_MATCH, K_IF_RANGE,
    K_AUTHORIZATION, K_CONTENT_RANGE
};

/* Byte classes (parse_tables.c). */
enum { U_PLAIN = 0, U_BAD, U_SP, U_SLASH, U_DOT, U_PCT, U_HASH, U_QUERY, U_CR, U_LF };
extern const uint8_t trh_name_ok[256];     /* a byte of a header name nginx takes as valid */
extern const uint8_t trh_uri_class[256];   /* U_*: the class of a target byte */
extern const uint8_t trh_value_stop[256];  /* a byte that ends or breaks a header value */

static inline uint8_t lower(uint8_t c)
{
    return (uint8_t)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Case-insensitive compare of buf[off, off+len) with a lower-case literal of the same length. */
static inline int ieq(const uint8_t *p, const char *lit, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (lower(p[i]) != (uint8_t)lit[i]) return 0;
    return 1;
}

/* Which of the headers nginx treats specially a name is (K_OTHER for the rest). */
static inline int header_kind(const uint8_t *n, uint32_t len)
{
    switch (len) {
    case 4: return ieq(n, "host", 4) ? K_HOST : K_OTHER;
    case 6: return ieq(n, "expect", 6) ? K_EXPECT : K_OTHER;
    case 7: return ieq(n, "upgrade", 7) ? K_UPGRADE : K_OTHER;
    case 8:
        if (ieq(n, "if-match", 8)) return K_IF_MATCH;
        return ieq(n, "if-range", 8) ? K_IF_RANGE : K_OTHER;
    case 10: return ieq(n, "connection", 10) ? K_CONNECTION : K_OTHER;
    case 13:
        if (ieq(n, "if-none-match", 13)) return K_IF_NONE_MATCH;
        if (ieq(n, "authorization", 13)) return K_AUTHORIZATION;
        return ieq(n, "content-range", 13) ? K_CONTENT_RANGE : K_OTHER;
    case 14: return ieq(n, "content-length", 14) ? K_CONTENT_LENGTH : K_OTHER;
    case 17:
        if (ieq(n, "transfer-encoding", 17)) return K_TRANSFER_ENCODING;
        return ieq(n, "if-modified-since", 17) ? K_IF_MODIFIED_SINCE : K_OTHER;
    case 19: return ieq(n, "if-unmodified-since", 19) ? K_IF_UNMODIFIED_SINCE : K_OTHER;
    }
    return K_OTHER;
}

/* K_* to the tr_http_header_id the caller sees. */
static const uint8_t public_id[] = {
    [K_OTHER] = TR_HTTP_H_OTHER,
    [K_HOST] = TR_HTTP_H_HOST,
    [K_CONTENT_LENGTH] = TR_HTTP_H_CONTENT_LENGTH,
    [K_TRANSFER_ENCODING] = TR_HTTP_H_TRANSFER_ENCODING,
    [K_CONNECTION] = TR_HTTP_H_CONNECTION,
    [K_EXPECT] = TR_HTTP_H_EXPECT,
    [K_UPGRADE] = TR_HTTP_H_UPGRADE,
    [K_IF_MODIFIED_SINCE] = TR_HTTP_H_UNIQUE,
    [K_IF_UNMODIFIED_SINCE] = TR_HTTP_H_UNIQUE,
    [K_IF_MATCH] = TR_HTTP_H_UNIQUE,
    [K_IF_NONE_MATCH] = TR_HTTP_H_UNIQUE,
    [K_IF_RANGE] = TR_HTTP_H_UNIQUE,
    [K_AUTHORIZATION] = TR_HTTP_H_UNIQUE,
    [K_CONTENT_RANGE] = TR_HTTP_H_UNIQUE,
};

/* Records nginx's answer to a refused head; every refusal returns through here. */
static inline int refuse(tr_http_req *r, uint16_t status, const char *reason, uint32_t off,
                         uint32_t len)
{
    r->status = status;
    r->reason = reason;
    r->err.off = off;
    r->err.len = len;
    r->state_ = S_DONE;
    return TR_HTTP_REFUSE;
}

/* parse_line.c: the request line. */
int trh_method_id(const uint8_t *m, uint32_t len);
int64_t trh_validate_host(const uint8_t *h, uint32_t len);
int trh_request_line_done(tr_http_req *r, const uint8_t *b);

/* parse_fields.c: the headers nginx interprets, and the checks on a complete head. */
int trh_header_special(tr_http_req *r, const uint8_t *b, int k, uint32_t line, uint32_t vstart,
                       uint32_t vend, uint32_t line_end);
int trh_head_done(tr_http_req *r, const uint8_t *b, const tr_http_header *hdrs, uint32_t head_len);

/* parse_buffers.c: nginx's header buffers. */
int trh_next_buffer(tr_http_req *r, const tr_http_limits *lim, uint32_t start);

#pragma GCC visibility pop

#endif
