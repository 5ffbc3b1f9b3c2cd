/*
 * parse.c: the request-head state machine (see parse.h). What it accepts and refuses follows
 * what nginx 1.22 answers, byte for byte (test/fixtures/http-refusals.json records it).
 *
 * Shape: one switch on the saved state to resume, then plain code that runs from state to state
 * with goto and scans the long runs (target, header names and values) in tight table loops; the
 * switch is taken only once per call, not once per byte.
 */
#include "parse.h"

#include <string.h>

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

/* 1: a byte of a header name nginx takes as valid (letters, digits, '-'). */
static const uint8_t name_ok[256] = {
    ['-'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Classes of target bytes: 0 plain, else a byte the path scan must look at. */
enum { U_PLAIN = 0, U_BAD, U_SP, U_SLASH, U_DOT, U_PCT, U_HASH, U_QUERY, U_CR, U_LF };
#define P U_PLAIN
#define B U_BAD /* nginx 1.22 refuses controls, DEL and spaces in the target */
#define S U_SP
#define L U_SLASH
#define D U_DOT
#define C U_PCT
#define H U_HASH
#define Q U_QUERY
#define R U_CR
#define N U_LF
static const uint8_t uri_class[256] = {
    B, B, B, B, B, B, B, B, B, B, N, B, B, R, B, B,
    B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
    S, P, P, H, P, C, P, P, P, P, P, P, P, P, D, L,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, Q,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, B,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
};
#undef P
#undef B
#undef S
#undef L
#undef D
#undef C
#undef H
#undef Q
#undef R
#undef N

/* 1: a byte that ends or breaks a header value (NUL, LF, CR); everything else is value. */
static const uint8_t value_stop[256] = {[0] = 1, ['\n'] = 1, ['\r'] = 1};

void tr_http_limits_default(tr_http_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->header_buffer = 1024;
    lim->large_buffers = 4;
    lim->large_buffer_size = 8192;
    lim->max_headers = 1000;
    lim->underscores_in_headers = 0;
    lim->ignore_invalid_headers = 1;
}

void tr_http_req_init(tr_http_req *req)
{
    memset(req, 0, sizeof(*req));
}

static inline uint8_t lower(uint8_t c)
{
    return (uint8_t)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Case-insensitive compare of buf[off, off+len) with a lower-case literal of the same length. */
static int ieq(const uint8_t *p, const char *lit, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (lower(p[i]) != (uint8_t)lit[i]) return 0;
    return 1;
}

/* Case-insensitive substring search, as nginx's ngx_strcasestrn for Connection values. */
static int icontains(const uint8_t *p, uint32_t len, const char *lit, uint32_t n)
{
    if (n > len) return 0;
    for (uint32_t i = 0; i + n <= len; i++)
        if (ieq(p + i, lit, n)) return 1;
    return 0;
}

static int header_kind(const uint8_t *n, uint32_t len)
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

/*
 * nginx's ngx_http_validate_host: no "..", no '/', no controls or spaces, a non-empty name.
 * Returns the host's length without port and trailing dot, or -1 when invalid.
 */
static int64_t validate_host(const uint8_t *h, uint32_t len)
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

static int refuse(tr_http_req *r, uint16_t status, const char *reason, uint32_t off, uint32_t len)
{
    r->status = status;
    r->reason = reason;
    r->err.off = off;
    r->err.len = len;
    r->state_ = S_DONE;
    return TR_HTTP_REFUSE;
}

/*
 * nginx's header buffers. The head is read into a client_header_buffer_size buffer; when one is
 * full and the head is not complete, nginx takes a large buffer (at most NUMBER of them) and
 * moves the line being read into it, which must have received less than SIZE bytes so far
 * (ngx_http_alloc_large_header_buffer). The parser scans no further than the current buffer's
 * end (bufend_), so a bad byte past it is never seen before nginx would refuse the size.
 * `start`: where the current line begins. Returns 0, or -1 when nginx would refuse.
 */
static int next_buffer(tr_http_req *r, const tr_http_limits *lim, uint32_t start)
{
    if (r->state_ == S_START) {
        /* a buffer filled with empty lines is emptied and reused */
        r->bufend_ += r->nbusy_ ? lim->large_buffer_size : lim->header_buffer;
        return 0;
    }
    if (start < r->bufend_ && r->bufend_ - start >= lim->large_buffer_size) return -1;
    if (r->nbusy_ >= lim->large_buffers) return -1;
    r->nbusy_++;
    r->bufend_ = start + lim->large_buffer_size;
    return 0;
}

/* The request line is complete: the host of an absolute-form target must be valid. */
static int request_line_done(tr_http_req *r, const uint8_t *b)
{
    if (!(r->flags & TR_HTTP_F_ABSOLUTE)) {
        r->host.off = r->host.len = 0;
        return 0;
    }
    int64_t hl = validate_host(b + r->host.off, r->host.len);
    if (hl < 0)
        return refuse(r, 400, "client sent invalid host in request line", r->host.off,
                      r->host.len);
    r->host.len = (uint32_t)hl;
    return 0;
}

static int method_id(const uint8_t *m, uint32_t len)
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

/* A header line is complete: [line, name_end) name, [vstart, vend) value, kind k. */
static int header_done(tr_http_req *r, const uint8_t *b, tr_http_header *hdrs,
                       const tr_http_limits *lim, uint32_t line, uint32_t name_end,
                       uint32_t vstart, uint32_t vend, uint32_t line_end, int invalid)
{
    if (invalid && lim->ignore_invalid_headers) {
        r->flags |= TR_HTTP_F_IGNORED;
        return 0;
    }
    int k = invalid ? K_OTHER : header_kind(b + line, name_end - line);
    if (r->nheaders >= lim->max_headers)
        return refuse(r, TR_HTTP_HEADER_TOO_LARGE, "client sent too many header lines", line,
                      line_end - line);
    tr_http_header *h = &hdrs[r->nheaders++];
    h->name.off = line;
    h->name.len = name_end - line;
    h->value.off = vstart;
    h->value.len = vend - vstart;
    h->id = public_id[k];
    if (k == K_OTHER) return 0;

    const uint8_t *v = b + vstart;
    uint32_t vlen = vend - vstart;
    switch (k) {
    case K_HOST: {
        if (r->host_idx_)
            return refuse(r, 400, "client sent duplicate host header", line, line_end - line);
        r->host_idx_ = r->nheaders;
        r->flags |= TR_HTTP_F_HOST;
        int64_t hl = validate_host(v, vlen);
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
static int head_done(tr_http_req *r, const uint8_t *b, const tr_http_header *hdrs,
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

int tr_http_parse_head(tr_http_req *r, const char *buf, size_t len, tr_http_header *hdrs,
                       const tr_http_limits *lim)
{
    const uint8_t *b = (const uint8_t *)buf;
    if (len > 0x7fffffff) len = 0x7fffffff;
    uint32_t p = r->pos_;
    uint32_t line = r->line_;
    uint32_t mark = r->mark_; /* state-specific: see each state */
    uint32_t n;               /* scan end: the bytes given, or the nginx buffer's end */
    uint8_t c;

    if (r->state_ == S_DONE) return r->status ? TR_HTTP_REFUSE : (int)r->head_len;
    if (r->bufend_ == 0) r->bufend_ = lim->header_buffer ? lim->header_buffer : 1;

#define NEXT() do { if (++p >= n) goto again; c = b[p]; } while (0)

resume:
    n = (uint32_t)len < r->bufend_ ? (uint32_t)len : r->bufend_;
    if (p >= n) goto again;
    c = b[p];
    switch (r->state_) {
    case S_START: goto s_start;
    case S_METHOD: goto s_method;
    case S_SP_URI: goto s_sp_uri;
    case S_SCHEME: goto s_scheme;
    case S_SCHEME_S1: goto s_scheme_s1;
    case S_SCHEME_S2: goto s_scheme_s2;
    case S_HOST_START: goto s_host_start;
    case S_HOST: goto s_host;
    case S_HOST_LIT: goto s_host_lit;
    case S_HOST_END: goto s_host_end;
    case S_PORT: goto s_port;
    case S_PATH: goto s_path;
    case S_QUERY: goto s_query;
    case S_SP_VER: goto s_sp_ver;
    case S_PROTO: goto s_proto;
    case S_MAJOR1: goto s_major1;
    case S_MAJOR: goto s_major;
    case S_MINOR1: goto s_minor1;
    case S_MINOR: goto s_minor;
    case S_SP_AFTER_VER: goto s_sp_after_ver;
    case S_RL_LF: goto s_rl_lf;
    case S_09_LF: goto s_09_lf;
    case S_HDR_START: goto s_hdr_start;
    case S_NAME: goto s_name;
    case S_SP_VALUE: goto s_sp_value;
    case S_VALUE: goto s_value;
    case S_HDR_LF: goto s_hdr_lf;
    case S_END_LF: goto s_end_lf;
    default: return TR_HTTP_REFUSE;
    }

#define STATE(s) r->state_ = (s);
#define BAD_REQUEST() return refuse(r, 400, "client sent invalid request", line, p + 1 - line)

    /* ---- request line ---- */
s_start:
    STATE(S_START)
    while (c == '\r' || c == '\n') NEXT();
    line = p;
    r->method.off = p;
    if (!((c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
        return refuse(r, 400, "client sent invalid method", line, 1);
    STATE(S_METHOD)
s_method:
    while ((c >= 'A' && c <= 'Z') || c == '_' || c == '-') NEXT();
    if (c != ' ')
        return refuse(r, 400, "client sent invalid method", line, p + 1 - line);
    r->method.len = p - r->method.off;
    r->method_id = (uint8_t)method_id(b + r->method.off, r->method.len);
    STATE(S_SP_URI)
    NEXT();
s_sp_uri:
    while (c == ' ') NEXT();
    r->target.off = p;
    if (c == '/') {
        r->path.off = p;
        goto path_slash;
    }
    if (lower(c) < 'a' || lower(c) > 'z') BAD_REQUEST();
    r->flags |= TR_HTTP_F_ABSOLUTE;
    STATE(S_SCHEME)
    NEXT();
s_scheme:
    while ((lower(c) >= 'a' && lower(c) <= 'z') || (c >= '0' && c <= '9') || c == '+'
           || c == '-' || c == '.')
        NEXT();
    if (c != ':') BAD_REQUEST();
    STATE(S_SCHEME_S1)
    NEXT();
s_scheme_s1:
    if (c != '/') BAD_REQUEST();
    STATE(S_SCHEME_S2)
    NEXT();
s_scheme_s2:
    if (c != '/') BAD_REQUEST();
    STATE(S_HOST_START)
    NEXT();
s_host_start:
    r->host.off = p;
    if (c == '[') {
        STATE(S_HOST_LIT)
        NEXT();
        goto s_host_lit;
    }
    STATE(S_HOST)
s_host:
    while ((lower(c) >= 'a' && lower(c) <= 'z') || (c >= '0' && c <= '9') || c == '.'
           || c == '-')
        NEXT();
    r->host.len = p - r->host.off;
    goto host_end;
s_host_lit:
    for (;;) {
        if ((lower(c) >= 'a' && lower(c) <= 'z') || (c >= '0' && c <= '9')) { NEXT(); continue; }
        switch (c) {
        case ':': case '-': case '.': case '_': case '~': case '!': case '$': case '&':
        case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
            NEXT();
            continue;
        case ']':
            r->host.len = p + 1 - r->host.off;
            STATE(S_HOST_END)
            NEXT();
            goto s_host_end;
        default:
            BAD_REQUEST();
        }
    }
s_host_end:
host_end:
    STATE(S_HOST_END)
    switch (c) {
    case ':':
        STATE(S_PORT)
        NEXT();
        goto s_port;
    case '/':
        r->path.off = p;
        goto path_slash;
    case '?':
        r->path.off = p;
        goto query_start;
    case ' ':
        r->path.off = p;
        r->target.len = p - r->target.off;
        goto target_end;
    default:
        BAD_REQUEST();
    }
s_port:
    while (c >= '0' && c <= '9') NEXT();
    switch (c) {
    case '/': r->path.off = p; goto path_slash;
    case '?': r->path.off = p; goto query_start;
    case ' ': r->path.off = p; r->target.len = p - r->target.off; goto target_end;
    default: BAD_REQUEST();
    }

    /* The path: plain bytes in a table loop; '/', '.', '%', '#' mark a complex URI. */
path_slash:
    STATE(S_PATH)
    mark = '/';
    NEXT();
s_path:
    for (;;) {
        uint8_t k = uri_class[c];
        if (k == U_PLAIN) {
            mark = c;
            do NEXT(); while (uri_class[c] == U_PLAIN);
            k = uri_class[c];
        }
        switch (k) {
        case U_SLASH:
        case U_DOT:
            if (mark == '/') r->flags |= TR_HTTP_F_COMPLEX_URI;
            mark = c;
            NEXT();
            continue;
        case U_PCT:
            r->flags |= TR_HTTP_F_COMPLEX_URI | TR_HTTP_F_QUOTED_URI;
            mark = c;
            NEXT();
            continue;
        case U_HASH:
            r->flags |= TR_HTTP_F_COMPLEX_URI;
            mark = c;
            NEXT();
            continue;
        case U_QUERY:
            goto query_start;
        case U_SP:
            r->path.len = p - r->path.off;
            r->target.len = p - r->target.off;
            goto target_end;
        case U_CR:
        case U_LF:
            r->path.len = p - r->path.off;
            r->target.len = p - r->target.off;
            goto http09;
        default:
            BAD_REQUEST();
        }
    }
query_start:
    r->path.len = p - r->path.off;
    r->flags |= TR_HTTP_F_ARGS;
    r->query.off = p + 1;
    STATE(S_QUERY)
    NEXT();
s_query:
    while (uri_class[c] != U_SP && uri_class[c] != U_BAD && uri_class[c] != U_CR
           && uri_class[c] != U_LF)
        NEXT();
    r->query.len = p - r->query.off;
    r->target.len = p - r->target.off;
    if (c == ' ') goto target_end;
    if (c == '\r' || c == '\n') goto http09;
    BAD_REQUEST();

target_end:
    STATE(S_SP_VER)
    NEXT();
s_sp_ver:
    while (c == ' ') NEXT();
    if (c == '\r' || c == '\n') goto http09;
    mark = 0;
    STATE(S_PROTO)
s_proto:
    /* mark: how much of "HTTP/" matched so far */
    while (mark < 5) {
        if (c != (uint8_t)"HTTP/"[mark]) BAD_REQUEST();
        mark++;
        NEXT();
    }
    STATE(S_MAJOR1)
s_major1:
    if (c < '1' || c > '9') BAD_REQUEST();
    r->version = (uint16_t)((c - '0') * 1000);
    if (c > '1') return refuse(r, 505, "client sent invalid version", line, p + 1 - line);
    STATE(S_MAJOR)
    NEXT();
s_major:
    /* a second digit makes the major version 10 or more */
    if (c >= '0' && c <= '9') return refuse(r, 505, "client sent invalid version", line, p + 1 - line);
    if (c != '.') BAD_REQUEST();
    STATE(S_MINOR1)
    NEXT();
s_minor1:
    if (c < '0' || c > '9') BAD_REQUEST();
    r->version = (uint16_t)(r->version + (c - '0'));
    STATE(S_MINOR)
    NEXT();
s_minor:
    while (c >= '0' && c <= '9') {
        uint32_t minor = r->version % 1000u;
        if (minor > 99) BAD_REQUEST();
        r->version = (uint16_t)(r->version - minor + minor * 10 + (uint32_t)(c - '0'));
        NEXT();
    }
    STATE(S_SP_AFTER_VER)
s_sp_after_ver:
    while (c == ' ') NEXT();
    if (c == '\n') goto rl_done;
    if (c != '\r') BAD_REQUEST();
    STATE(S_RL_LF)
    NEXT();
s_rl_lf:
    if (c != '\n') BAD_REQUEST();
rl_done:
    if (request_line_done(r, b) != 0) return TR_HTTP_REFUSE;
    line = p + 1;
    STATE(S_HDR_START)
    NEXT();
    goto s_hdr_start;

http09:
    r->version = 9;
    r->flags |= TR_HTTP_F_HTTP09;
    if (r->method_id != TR_HTTP_M_GET)
        return refuse(r, 400, "client sent invalid method in HTTP/0.9 request", line,
                      p + 1 - line);
    if (c == '\r') {
        STATE(S_09_LF)
        NEXT();
s_09_lf:
        if (c != '\n') BAD_REQUEST();
    }
    if (request_line_done(r, b) != 0) return TR_HTTP_REFUSE;
    r->pos_ = p + 1;
    return head_done(r, b, hdrs, p + 1);

    /* ---- header lines ---- */
#define HDR_INVALID() return refuse(r, 400, "client sent invalid header line", line, p + 1 - line)
s_hdr_start:
    STATE(S_HDR_START)
    line = p;
    mark = 0; /* bit 0: the name has bytes nginx ignores the header for */
    if (name_ok[c]) goto name_loop;
    if (c == '\r') {
        STATE(S_END_LF)
        NEXT();
        goto s_end_lf;
    }
    if (c == '\n') goto end_of_head;
    if (c <= 0x20 || c == 0x7f || c == ':') HDR_INVALID();
    if (!(c == '_' && lim->underscores_in_headers)) mark = 1;
name_loop:
    STATE(S_NAME)
    NEXT();
s_name:
    for (;;) {
        while (name_ok[c]) NEXT();
        if (c == ':') break;
        if (c == '\r' || c == '\n') break;
        if (c <= 0x20 || c == 0x7f) HDR_INVALID();
        if (!(c == '_' && lim->underscores_in_headers)) mark |= 1;
        NEXT();
    }
    /* mark: bit 0 invalid name; bits 1..: name end (the name ends here) */
    mark = (mark & 1) | ((p - line) << 1);
    if (c != ':') {
        /* a line without a colon is a header with an empty value, as nginx takes it */
        r->mark_ = mark;
        r->vstart_ = p;
        goto value_end;
    }
    STATE(S_SP_VALUE)
    NEXT();
s_sp_value:
    while (c == ' ') NEXT();
    r->vstart_ = p; /* value start */
    STATE(S_VALUE)
s_value:
    /* Values are most of a head: skip 8 bytes at a time while none is below 14 (NUL, CR and LF
       are; a tab only sends that word to the byte loop). */
    while (p + 8 <= n) {
        uint64_t w;
        memcpy(&w, b + p, 8);
        if (((w - UINT64_C(0x0e0e0e0e0e0e0e0e)) & ~w & UINT64_C(0x8080808080808080)) != 0) break;
        p += 8;
    }
    if (p >= n) goto again;
    c = b[p];
    while (!value_stop[c]) NEXT();
    if (c == 0) HDR_INVALID();
value_end:
    r->vstop_ = p; /* where the line's CR or LF is */
    if (c == '\r') {
        STATE(S_HDR_LF)
        NEXT();
s_hdr_lf:
        while (c == '\r') NEXT(); /* nginx takes "\r\r\n" as a line end */
        if (c != '\n') HDR_INVALID();
    }
    {
        uint32_t name_end = line + (mark >> 1);
        uint32_t vs = r->vstart_, ve = r->vstop_;
        while (ve > vs && b[ve - 1] == ' ') ve--;
        if (header_done(r, b, hdrs, lim, line, name_end, vs, ve, r->vstop_, (int)(mark & 1)) != 0)
            return TR_HTTP_REFUSE;
    }
    line = p + 1;
    STATE(S_HDR_START)
    NEXT();
    goto s_hdr_start;

s_end_lf:
    if (c != '\n') HDR_INVALID();
end_of_head:
    r->pos_ = p + 1;
    return head_done(r, b, hdrs, p + 1);

again:
    if (p >= r->bufend_) {
        /* nginx's buffer is full: it takes the next one before reading on */
        if (next_buffer(r, lim, line) != 0) {
            if (r->state_ < S_HDR_START)
                return refuse(r, 414, "client sent too long URI", line, p - line);
            return refuse(r, TR_HTTP_HEADER_TOO_LARGE, "client sent too long header line", line,
                          p - line);
        }
        if (p < (uint32_t)len) goto resume;
    }
    r->pos_ = p;
    r->line_ = line;
    r->mark_ = mark;
    return TR_HTTP_AGAIN;
#undef NEXT
#undef STATE
#undef BAD_REQUEST
#undef HDR_INVALID
}
