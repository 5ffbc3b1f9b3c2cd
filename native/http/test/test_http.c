/*
 * test_http.c: table-driven tests of the head parser and the chunked decoder. Every head case
 * is parsed whole, byte by byte and in random splits; the results must be identical.
 * Prints one line per failure and "ok N checks" at the end; exits 1 on any failure.
 */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static int failures, checks;

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
    printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

#define MAXH 64

struct outcome {
    int rc;
    tr_http_req req;
    tr_http_header hdrs[MAXH];
};

/* Feeds raw[0, len) in pieces ending at the given cut points (ascending, last == len). */
static void feed(const char *raw, const unsigned *cuts, int ncuts,
                 const tr_http_limits *lim, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    tr_http_req_init(&o->req);
    o->rc = TR_HTTP_AGAIN;
    /* a private copy sized exactly, so ASan sees any read past len */
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

static int slice_is(const char *raw, tr_http_slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(raw + s.off, want, s.len) == 0;
}

static void test_heads(void)
{
    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    static struct outcome whole, part;
    for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
        const struct head_case *t = &head_cases[i];
        unsigned len = t->rawlen ? t->rawlen : (unsigned)strlen(t->raw);
        unsigned all[1] = {len};
        feed(t->raw, all, 1, &lim, &whole);
        int kind = whole.rc > 0 ? OK : whole.rc == TR_HTTP_AGAIN ? AGAIN : REFUSE;
        CHECK(kind == t->expect, "%s: rc %d (status %d %s), want kind %d", t->name, whole.rc,
              whole.req.status, whole.req.reason ? whole.req.reason : "", t->expect);
        if (kind == REFUSE && t->expect == REFUSE)
            CHECK(whole.req.status == t->status, "%s: status %d, want %d", t->name, whole.req.status, t->status);
        if (kind == OK && t->expect == OK) {
            const tr_http_req *r = &whole.req;
            CHECK(whole.rc == (int)len, "%s: head length %d, want %u", t->name, whole.rc, len);
            if (t->method) CHECK(slice_is(t->raw, r->method, t->method), "%s: method", t->name);
            if (t->path) CHECK(slice_is(t->raw, r->path, t->path), "%s: path", t->name);
            if (t->query) CHECK(slice_is(t->raw, r->query, t->query), "%s: query", t->name);
            if (t->host) CHECK(slice_is(t->raw, r->host, t->host), "%s: host %.*s", t->name, (int)r->host.len, t->raw + r->host.off);
            if (t->version) CHECK(r->version == t->version, "%s: version %d", t->name, r->version);
            CHECK((r->flags & t->flags_set) == t->flags_set, "%s: flags %#x lack %#x", t->name, r->flags, t->flags_set);
            CHECK((r->flags & t->flags_clear) == 0, "%s: flags %#x have %#x", t->name, r->flags, t->flags_clear);
            if (t->nheaders >= 0) CHECK((int)r->nheaders == t->nheaders, "%s: %u headers", t->name, r->nheaders);
            if (t->content_length >= 0) CHECK((long long)r->content_length == t->content_length, "%s: content length %llu", t->name, (unsigned long long)r->content_length);
        }
        /* byte by byte */
        unsigned cuts[4096];
        for (unsigned k = 0; k < len; k++) cuts[k] = k + 1;
        feed(t->raw, cuts, (int)len, &lim, &part);
        CHECK(same(&whole, &part), "%s: byte-by-byte differs (rc %d vs %d)", t->name, part.rc, whole.rc);
        /* random splits */
        for (int round = 0; round < 50; round++) {
            int n = 0;
            for (unsigned k = 1; k < len; k++)
                if (rand() % 7 == 0) cuts[n++] = k;
            cuts[n++] = len;
            feed(t->raw, cuts, n, &lim, &part);
            CHECK(same(&whole, &part), "%s: split round %d differs", t->name, round);
        }
    }
}

int main(void)
{
    srand(1);
    test_heads();
    if (failures) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
