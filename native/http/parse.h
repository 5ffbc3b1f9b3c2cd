/*
 * parse.h: tresty's HTTP/1.1 request parser (the head) and chunked-body decoder.
 *
 * Both are resumable state machines that never allocate (STYLE 16): all state lives in a
 * caller-owned struct, and each call continues where the last one stopped, so a head that
 * arrives in many reads is scanned once. They refuse what nginx 1.22 refuses, with nginx's
 * status and nginx's error-log wording (test/fixtures/http-refusals.json holds the shapes and
 * what real nginx answers to each).
 *
 * Offsets, not pointers: every position the parser reports is an offset from the `buf`
 * passed in, so the caller may move or grow its buffer between calls. Between the calls for
 * one head, `buf` must start at the same byte (the request's first byte) and hold at least the
 * bytes given before; `len` may only grow.
 *
 * Usage, per request on a connection:
 *
 *     tr_http_req req; tr_http_header hdrs[64]; tr_http_limits lim;
 *     tr_http_limits_default(&lim); lim.max_headers = 64;
 *     tr_http_req_init(&req);
 *     for (;;) {                                  // after each read
 *         int rc = tr_http_parse_head(&req, buf, len, hdrs, &lim);
 *         if (rc > 0) break;                      // head is rc bytes; body (if any) at buf + rc
 *         if (rc == TR_HTTP_REFUSE) answer(req.status), log(req.reason), close;
 *         // TR_HTTP_AGAIN: read more, call again
 *     }
 *
 * Pipelining: the next request begins at buf + rc (+ the body); init a new tr_http_req and
 * pass a buf that starts there.
 */
#ifndef TRESTY_HTTP_PARSE_H
#define TRESTY_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Return codes (a complete head returns its length, > 0; the chunked decoder returns DONE). */
#define TR_HTTP_DONE 0
#define TR_HTTP_AGAIN (-1)  /* incomplete: call again with more bytes */
#define TR_HTTP_REFUSE (-2) /* refused: see status, reason, err; nginx answers and closes */

/* nginx's internal status for "Request Header Or Cookie Too Large": on the wire it is a 400
   with that page, and nginx's access log records 494. */
#define TR_HTTP_HEADER_TOO_LARGE 494

/* Methods the engine may want without comparing strings; anything else is TR_HTTP_M_OTHER. */
enum tr_http_method {
    TR_HTTP_M_OTHER = 0,
    TR_HTTP_M_GET,
    TR_HTTP_M_HEAD,
    TR_HTTP_M_POST,
    TR_HTTP_M_PUT,
    TR_HTTP_M_DELETE,
    TR_HTTP_M_OPTIONS,
    TR_HTTP_M_PATCH,
    TR_HTTP_M_TRACE,
    TR_HTTP_M_CONNECT
};

/* Headers the parser interprets; every other header has id TR_HTTP_H_OTHER. */
enum tr_http_header_id {
    TR_HTTP_H_OTHER = 0,
    TR_HTTP_H_HOST,
    TR_HTTP_H_CONTENT_LENGTH,
    TR_HTTP_H_TRANSFER_ENCODING,
    TR_HTTP_H_CONNECTION,
    TR_HTTP_H_EXPECT,
    TR_HTTP_H_UPGRADE,
    TR_HTTP_H_UNIQUE /* one nginx refuses to see twice (If-Modified-Since, Authorization...) */
};

/* tr_http_req.flags */
#define TR_HTTP_F_ABSOLUTE (1u << 0)        /* target is absolute-form: http://host[:port]/... */
#define TR_HTTP_F_ARGS (1u << 1)            /* target has a '?' (query slice is set) */
#define TR_HTTP_F_COMPLEX_URI (1u << 2)     /* path has "//", "/.", '%' or '#': normalise it */
#define TR_HTTP_F_QUOTED_URI (1u << 3)      /* path has '%' (percent-decoding needed) */
#define TR_HTTP_F_KEEPALIVE (1u << 4)       /* keep the connection after the answer */
#define TR_HTTP_F_CHUNKED (1u << 5)         /* Transfer-Encoding: chunked */
#define TR_HTTP_F_CONTENT_LENGTH (1u << 6)  /* content_length is set */
#define TR_HTTP_F_EXPECT_CONTINUE (1u << 7) /* Expect: 100-continue, HTTP/1.1 or later */
#define TR_HTTP_F_UPGRADE (1u << 8)         /* an Upgrade header is present */
#define TR_HTTP_F_CONN_UPGRADE (1u << 9)    /* Connection names the "upgrade" token */
#define TR_HTTP_F_HOST (1u << 10)           /* a Host header is present */
#define TR_HTTP_F_HTTP09 (1u << 11)         /* HTTP/0.9 request ("GET /\r\n"): the head ends with the
                                               request line; nginx answers a body without
                                               status line, then closes */
#define TR_HTTP_F_IGNORED (1u << 12)        /* headers with invalid names were dropped (nginx's
                                               ignore_invalid_headers on) */

/* A span of the caller's buffer. */
typedef struct tr_http_slice {
    uint32_t off;
    uint32_t len;
} tr_http_slice;

typedef struct tr_http_header {
    tr_http_slice name;  /* as sent */
    tr_http_slice value; /* without leading and trailing spaces, as nginx trims it */
    uint32_t id;         /* enum tr_http_header_id */
} tr_http_header;

/* What the caller allows; tr_http_limits_default sets nginx's defaults. Fields may be added at
   the end: always start from tr_http_limits_default. */
typedef struct tr_http_limits {
    uint32_t header_buffer;      /* client_header_buffer_size (1024) */
    uint32_t large_buffers;      /* large_client_header_buffers NUMBER (4) */
    uint32_t large_buffer_size;  /* large_client_header_buffers SIZE (8192) */
    uint32_t max_headers;        /* nginx's max_headers (1000 in Debian's 1.22.1): one header more is
                                    refused (494), dropped invalid headers do not count; also the
                                    capacity of the caller's header array */
    uint8_t underscores_in_headers; /* nginx's underscores_in_headers (off) */
    uint8_t ignore_invalid_headers; /* nginx's ignore_invalid_headers (on) */
} tr_http_limits;

/* One request head. Results are valid once tr_http_parse_head returned > 0; on refusal only
   status, reason and err are. Fields after the "private" mark are the parser's state. */
typedef struct tr_http_req {
    tr_http_slice method;
    tr_http_slice target;       /* the request target as sent */
    tr_http_slice path;         /* origin-form: target before '?'; absolute-form: from the '/'
                                   after the authority (len 0 when there is none: nginx serves
                                   "/"). With TR_HTTP_F_COMPLEX_URI, pass it through
                                   tr_http_normalize_path before matching locations */
    tr_http_slice query;        /* after the '?' (with TR_HTTP_F_ARGS) */
    tr_http_slice host;         /* the host nginx uses: from an absolute-form target, else the
                                   Host header; without port or trailing dot, not lower-cased */
    uint64_t content_length;    /* with TR_HTTP_F_CONTENT_LENGTH */
    uint32_t flags;             /* TR_HTTP_F_* */
    uint32_t nheaders;          /* headers filled in the caller's array */
    uint32_t head_len;          /* bytes of the head, including leading empty lines */
    uint16_t version;           /* major * 1000 + minor, as nginx: 1001 is HTTP/1.1, 9 is 0.9 */
    uint8_t method_id;          /* enum tr_http_method */
    uint8_t unused_;

    /* On TR_HTTP_REFUSE */
    uint16_t status;            /* what nginx answers: 400, 405, 414, 494 (see above), 501, 505 */
    const char *reason;         /* static text in nginx's wording, for the error log */
    tr_http_slice err;          /* the offending bytes (a header line, the target...), may be empty */

    /* private */
    uint32_t pos_;              /* next byte to scan */
    uint32_t state_;
    uint32_t line_;             /* where the current line starts */
    uint32_t mark_;             /* state-specific: the previous path byte, the name's end... */
    uint32_t vstart_, vstop_;   /* the current header value: start, and where its line ends */
    uint32_t bufend_;           /* end of the nginx header buffer the current line is in */
    uint32_t nbusy_;            /* large header buffers nginx would have taken so far */
    uint32_t seen_;             /* bits of the unique headers seen */
    uint32_t conn_;             /* Connection: 1 close, 2 keep-alive (the last header decides) */
    uint32_t cl_idx_, te_idx_, host_idx_; /* header index + 1, 0 when absent */
} tr_http_req;

void tr_http_limits_default(tr_http_limits *lim);
void tr_http_req_init(tr_http_req *req);

/*
 * Parses buf[0, len) from where the last call stopped. Returns the head length (> 0) when the
 * head is complete (up to and including its empty line), TR_HTTP_AGAIN when more bytes are
 * needed, TR_HTTP_REFUSE when nginx would refuse the request (req->status, req->reason).
 * Header slices go to hdrs[0, lim->max_headers). Never reads past buf + len, never writes buf.
 */
int tr_http_parse_head(tr_http_req *req, const char *buf, size_t len, tr_http_header *hdrs,
                       const tr_http_limits *lim);

/*
 * nginx's normalisation of a path the parser flagged TR_HTTP_F_COMPLEX_URI (req->path): %XX
 * decoded, "." and ".." segments resolved, repeated slashes merged (merge_slashes, nginx's
 * default on), the path cut at '#'; an empty path (absolute-form "http://h") becomes "/". `out`
 * must hold max(len, 1) bytes: the result is never longer. Returns its length (>= 1), or
 * TR_HTTP_REFUSE where nginx answers 400 "client sent invalid request" (TR_HTTP_BAD_URI): %00,
 * a bad escape, ".." above the root.
 */
#define TR_HTTP_BAD_URI "client sent invalid request"
int tr_http_normalize_path(const char *path, size_t len, char *out, int merge_slashes);

/* ---- chunked request bodies ---- */

typedef struct tr_http_chunked {
    uint64_t max_body;   /* in: client_max_body_size, 0 for none: a chunk size that would pass it
                            is refused (413) before its bytes are read, as nginx does */
    uint64_t total;      /* out: body bytes produced so far */
    uint64_t size;       /* out: bytes still due in the current chunk */
    uint16_t status;     /* on TR_HTTP_REFUSE: 400 or 413 */
    const char *reason;  /* on TR_HTTP_REFUSE: static text in nginx's wording */
    /* private */
    uint32_t state_;
} tr_http_chunked;

void tr_http_chunked_init(tr_http_chunked *c, uint64_t max_body);

/*
 * Decodes raw bytes buf[0, len) in place, continuing from the last call. Body bytes are moved
 * to buf[0, *produced); *consumed raw bytes were used (*produced <= *consumed <= len). Returns
 * TR_HTTP_DONE when the body ended (the final chunk, trailers and empty line were read: the
 * next pipelined request starts at buf + *consumed), TR_HTTP_AGAIN when all len bytes were used
 * and more are needed, TR_HTTP_REFUSE on a bad body (c->status, c->reason).
 */
int tr_http_chunked_decode(tr_http_chunked *c, char *buf, size_t len, size_t *consumed,
                           size_t *produced);

#endif
