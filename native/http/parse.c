/*
 * parse.c: the request-head state machine (see parse.h). What it accepts and refuses follows
 * what nginx 1.22 answers, byte for byte (test/fixtures/http-refusals.json records it).
 *
 * Shape: one switch on the saved state to resume, then plain code that runs from state to state
 * with goto and scans the long runs (target, header names and values) in tight table loops; the
 * switch is taken only once per call, not once per byte. What the states decide lives beside it:
 * the request line's checks in parse_line.c, the headers nginx interprets and the checks on a
 * complete head in parse_fields.c, nginx's header buffers in parse_buffers.c, the byte classes in
 * parse_tables.c (parse_int.h declares what they share).
 */
#include "parse_int.h"

#include <string.h>

void tr_http_req_init(tr_http_req *req)
{
    memset(req, 0, sizeof(*req));
}

/*
 * A header line is complete: [line, name_end) name, [vstart, vend) value. Every header passes
 * here, so it stays in this file to be inlined; the few nginx interprets go on to
 * trh_header_special.
 */
static inline int header_done(tr_http_req *r, const uint8_t *b, tr_http_header *hdrs,
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
    return trh_header_special(r, b, k, line, vstart, vend, line_end);
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
    r->method_id = (uint8_t)trh_method_id(b + r->method.off, r->method.len);
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
        uint8_t k = trh_uri_class[c];
        if (k == U_PLAIN) {
            mark = c;
            do NEXT(); while (trh_uri_class[c] == U_PLAIN);
            k = trh_uri_class[c];
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
    while (trh_uri_class[c] != U_SP && trh_uri_class[c] != U_BAD && trh_uri_class[c] != U_CR
           && trh_uri_class[c] != U_LF)
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
    if (trh_request_line_done(r, b) != 0) return TR_HTTP_REFUSE;
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
    if (trh_request_line_done(r, b) != 0) return TR_HTTP_REFUSE;
    r->pos_ = p + 1;
    return trh_head_done(r, b, hdrs, p + 1);

    /* ---- header lines ---- */
/* err: the line up to the byte nginx blames, that byte last (the error log prints it in hex) */
#define HDR_INVALID() return refuse(r, 400, "client sent invalid header line", line, p + 1 - line)
s_hdr_start:
    STATE(S_HDR_START)
    line = p;
    mark = 0; /* bit 0: the name has bytes nginx ignores the header for */
    if (trh_name_ok[c]) goto name_loop;
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
        while (trh_name_ok[c]) NEXT();
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
    while (!trh_value_stop[c]) NEXT();
    if (c == 0) HDR_INVALID();
value_end:
    r->vstop_ = p; /* where the line's CR or LF is */
    if (c == '\r') {
        STATE(S_HDR_LF)
        NEXT();
s_hdr_lf:
        while (c == '\r') NEXT(); /* nginx takes "\r\r\n" as a line end */
        if (c != '\n') {
            /* nginx blames where the value ended: its first trailing space, else the CR */
            uint32_t ve = r->vstop_;
            while (ve > r->vstart_ && b[ve - 1] == ' ') ve--;
            return refuse(r, 400, "client sent invalid header line", line, ve + 1 - line);
        }
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
    if (c != '\n') return refuse(r, 400, "client sent invalid header line", line, 1); /* the CR */
end_of_head:
    r->pos_ = p + 1;
    return trh_head_done(r, b, hdrs, p + 1);

again:
    if (p >= r->bufend_) {
        /* nginx's buffer is full: it takes the next one before reading on */
        if (trh_next_buffer(r, lim, line) != 0) {
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
