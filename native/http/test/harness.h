/*
 * harness.h: feeding the parser and the decoder in pieces, shared by the unit tests and the
 * fuzzers. Each piece is a private heap copy sized exactly, so AddressSanitizer sees a read past
 * the bytes given.
 */
#ifndef TR_HTTP_TEST_HARNESS_H
#define TR_HTTP_TEST_HARNESS_H

#include "parse.h"

#include <stdlib.h>
#include <string.h>

#ifndef CHUNK_MAX
#define CHUNK_MAX 4096 /* the longest chunked input the feeder takes */
#endif

#define MAXH 64

struct outcome {
    int rc;
    tr_http_req req;
    tr_http_header hdrs[MAXH];
};

/* Feeds raw in pieces ending at the given cut points (ascending, last == len). */
static void feed(const char *raw, const unsigned *cuts, int ncuts,
                 const tr_http_limits *lim, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    tr_http_req_init(&o->req);
    o->rc = TR_HTTP_AGAIN;
    for (int i = 0; i < ncuts && o->rc == TR_HTTP_AGAIN; i++) {
        char *b = malloc(cuts[i] ? cuts[i] : 1);
        memcpy(b, raw, cuts[i]);
        o->rc = tr_http_parse_head(&o->req, b, cuts[i], o->hdrs, lim);
        free(b);
    }
}

static int same(const struct outcome *a, const struct outcome *b)
{
    if (a->rc != b->rc) return 0;
    if (a->rc == TR_HTTP_REFUSE)
        return a->req.status == b->req.status && strcmp(a->req.reason, b->req.reason) == 0;
    if (a->rc == TR_HTTP_AGAIN) return 1;
    const tr_http_req *x = &a->req, *y = &b->req;
    if (x->flags != y->flags || x->nheaders != y->nheaders || x->version != y->version
        || x->method_id != y->method_id || x->head_len != y->head_len
        || x->content_length != y->content_length)
        return 0;
    if (memcmp(&x->method, &y->method, sizeof(tr_http_slice)) || memcmp(&x->target, &y->target, sizeof(tr_http_slice))
        || memcmp(&x->path, &y->path, sizeof(tr_http_slice)) || memcmp(&x->query, &y->query, sizeof(tr_http_slice))
        || memcmp(&x->host, &y->host, sizeof(tr_http_slice)))
        return 0;
    return memcmp(a->hdrs, b->hdrs, x->nheaders * sizeof(tr_http_header)) == 0;
}

struct chunk_outcome {
    int rc;
    int status;
    char body[CHUNK_MAX];
    size_t body_len;
    size_t raw_used; /* raw bytes consumed in all */
    const char *broken; /* an invariant the decoder broke, or NULL */
};

/*
 * Feeds raw bytes as an engine would: a window that gets the next piece appended, the
 * decoder run over it, produced bytes taken out and consumed bytes dropped from the front.
 */
static void feed_chunked(const char *raw, const size_t *cuts, int ncuts,
                         unsigned long long max_body, struct chunk_outcome *o)
{
    tr_http_chunked c;
    tr_http_chunked_init(&c, max_body);
    memset(o, 0, sizeof(*o));
    o->rc = TR_HTTP_AGAIN;
    static char window[CHUNK_MAX];
    size_t wlen = 0, fed = 0;
    for (int i = 0; i < ncuts && o->rc == TR_HTTP_AGAIN; i++) {
        memcpy(window + wlen, raw + fed, cuts[i] - fed);
        wlen += cuts[i] - fed;
        fed = cuts[i];
        char *b = malloc(wlen ? wlen : 1);
        memcpy(b, window, wlen);
        size_t used = 99999, made = 99999;
        o->rc = tr_http_chunked_decode(&c, b, wlen, &used, &made);
        if (used > wlen || made > used) {
            o->broken = "decoder used more bytes than it had, or made more than it used";
            free(b);
            return;
        }
        memcpy(o->body + o->body_len, b, made);
        o->body_len += made;
        o->raw_used += used;
        memmove(window, b + used, wlen - used);
        wlen -= used;
        free(b);
        if (o->rc == TR_HTTP_AGAIN && wlen != 0) o->broken = "AGAIN left bytes unused";
    }
    o->status = c.status;
    if (o->rc != TR_HTTP_REFUSE && c.total != o->body_len) o->broken = "total differs from the bytes produced";
}


#endif
