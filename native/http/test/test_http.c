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
#include "harness.h"

static int failures, checks;

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
    printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

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

/* ---- options and header ids ---- */

static void test_options(void)
{
    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    static struct outcome o;
    const char *raw = "GET / HTTP/1.1\r\nHost: x\r\nX_A: 1\r\nX@B: 2\r\nContent-Length: 0\r\n"
                      "Connection: close\r\nExpect: 100-continue\r\nUpgrade: h2c\r\nIf-Match: a\r\n\r\n";
    unsigned all[1] = {(unsigned)strlen(raw)};
    /* nginx's defaults: both invalid names dropped */
    feed(raw, all, 1, &lim, &o);
    CHECK(o.rc > 0 && o.req.nheaders == 6 && (o.req.flags & TR_HTTP_F_IGNORED), "defaults: rc %d, %u headers", o.rc, o.req.nheaders);
    if (o.rc > 0) {
        CHECK(o.hdrs[0].id == TR_HTTP_H_HOST && o.hdrs[1].id == TR_HTTP_H_CONTENT_LENGTH
              && o.hdrs[2].id == TR_HTTP_H_CONNECTION && o.hdrs[3].id == TR_HTTP_H_EXPECT
              && o.hdrs[4].id == TR_HTTP_H_UPGRADE && o.hdrs[5].id == TR_HTTP_H_UNIQUE,
              "header ids %u %u %u %u %u %u", o.hdrs[0].id, o.hdrs[1].id, o.hdrs[2].id, o.hdrs[3].id, o.hdrs[4].id, o.hdrs[5].id);
        CHECK(slice_is(raw, o.hdrs[3].value, "100-continue") && slice_is(raw, o.hdrs[3].name, "Expect"), "expect slices");
        CHECK((o.req.flags & (TR_HTTP_F_EXPECT_CONTINUE | TR_HTTP_F_UPGRADE | TR_HTTP_F_CONTENT_LENGTH))
              == (TR_HTTP_F_EXPECT_CONTINUE | TR_HTTP_F_UPGRADE | TR_HTTP_F_CONTENT_LENGTH)
              && !(o.req.flags & TR_HTTP_F_KEEPALIVE), "flags %#x", o.req.flags);
    }
    /* underscores_in_headers on: X_A is a header */
    lim.underscores_in_headers = 1;
    feed(raw, all, 1, &lim, &o);
    CHECK(o.rc > 0 && o.req.nheaders == 7 && slice_is(raw, o.hdrs[1].name, "X_A"), "underscores on: %u headers", o.req.nheaders);
    /* ignore_invalid_headers off: both kept */
    lim.underscores_in_headers = 0;
    lim.ignore_invalid_headers = 0;
    feed(raw, all, 1, &lim, &o);
    CHECK(o.rc > 0 && o.req.nheaders == 8 && !(o.req.flags & TR_HTTP_F_IGNORED)
          && slice_is(raw, o.hdrs[2].name, "X@B") && o.hdrs[2].id == TR_HTTP_H_OTHER,
          "ignore off: %u headers", o.req.nheaders);
    /* a refusal names the offending line */
    const char *dup = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
    unsigned dl[1] = {(unsigned)strlen(dup)};
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    feed(dup, dl, 1, &lim, &o);
    CHECK(o.rc == TR_HTTP_REFUSE && o.req.status == 400 && slice_is(dup, o.req.err, "Content-Length: 2")
          && strcmp(o.req.reason, "client sent duplicate header line") == 0,
          "duplicate: err %.*s", (int)o.req.err.len, dup + o.req.err.off);
}

/* ---- chunked bodies ---- */

struct chunk_case {
    const char *name;
    const char *raw;
    int expect;          /* TR_HTTP_DONE, TR_HTTP_AGAIN or TR_HTTP_REFUSE */
    int status;          /* with REFUSE */
    const char *body;    /* decoded body (with DONE or AGAIN) */
    const char *rest;    /* with DONE: the bytes after the body */
    unsigned long long max_body;
};

static const struct chunk_case chunk_cases[] = {
    {"one chunk", "5\r\nhello\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "hello", "", 0},
    {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "hello world", "", 0},
    {"pipelined after", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", TR_HTTP_DONE, 0, "abc", "GET / HTTP/1.1\r\n", 0},
    {"lf only", "3\nabc\n0\n\n", TR_HTTP_DONE, 0, "abc", "", 0},
    {"extensions", "3;a=b;c\r\nabc\r\n0;x\r\n\r\n", TR_HTTP_DONE, 0, "abc", "", 0},
    {"space after size", "3 \r\nabc\r\n0\t\r\n\r\n", TR_HTTP_DONE, 0, "abc", "", 0},
    {"upper hex", "A\r\n0123456789\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "0123456789", "", 0},
    {"leading zeros", "00000000000000000003\r\nabc\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "abc", "", 0},
    {"trailers", "3\r\nabc\r\n0\r\nX-A: 1\r\nX B\r\n\r\nnext", TR_HTTP_DONE, 0, "abc", "next", 0},
    {"empty body", "0\r\n\r\n", TR_HTTP_DONE, 0, "", "", 0},
    {"data with crlf inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "\r\n\r\n", "", 0},
    {"incomplete data", "5\r\nhel", TR_HTTP_AGAIN, 0, "hel", NULL, 0},
    {"incomplete trailer", "5\r\nhello\r\n0\r\nX-A", TR_HTTP_AGAIN, 0, "hello", NULL, 0},
    {"largest size", "7ffffffffffffff\r\nabc", TR_HTTP_AGAIN, 0, "abc", NULL, 0},
    {"size 2^59", "800000000000000\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"overflow", "ffffffffffffffffff\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"space before size", " 5\r\nhello\r\n0\r\n\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"0x", "0x5\r\nhello\r\n0\r\n\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"empty size", "\r\nhello\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"no crlf after data", "5\r\nhelloX0\r\n\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"cr without lf", "5\rhello\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"last chunk cr cr", "0\r\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"trailer cr then garbage", "0\r\nX\rY\r\n\r\n", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"final cr then garbage", "0\r\n\rX", TR_HTTP_REFUSE, 400, NULL, NULL, 0},
    {"over max body in one chunk", "b\r\nhello world\r\n0\r\n\r\n", TR_HTTP_REFUSE, 413, NULL, NULL, 10},
    {"over max body over chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", TR_HTTP_REFUSE, 413, NULL, NULL, 10},
    {"exactly max body", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", TR_HTTP_DONE, 0, "helloworld", "", 10},
};

static void test_chunked(void)
{
    for (size_t i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++) {
        const struct chunk_case *t = &chunk_cases[i];
        size_t len = strlen(t->raw);
        struct chunk_outcome whole, part;
        size_t cuts[512];
        cuts[0] = len;
        feed_chunked(t->raw, cuts, 1, t->max_body, &whole);
        CHECK(!whole.broken, "%s: %s", t->name, whole.broken);
        CHECK(whole.rc == t->expect, "%s: rc %d, want %d", t->name, whole.rc, t->expect);
        if (t->expect == TR_HTTP_REFUSE)
            CHECK(whole.status == t->status, "%s: status %d, want %d", t->name, whole.status, t->status);
        if (t->body)
            CHECK(whole.body_len == strlen(t->body) && memcmp(whole.body, t->body, whole.body_len) == 0,
                  "%s: body %.*s", t->name, (int)whole.body_len, whole.body);
        if (t->rest) CHECK(len - whole.raw_used == strlen(t->rest), "%s: %zu bytes left", t->name, len - whole.raw_used);
        for (int round = 0; round < 60; round++) {
            int n = 0;
            if (round == 0) {
                for (size_t k = 1; k < len; k++) cuts[n++] = k; /* byte by byte */
            } else {
                for (size_t k = 1; k < len; k++)
                    if (rand() % 5 == 0) cuts[n++] = k;
            }
            cuts[n++] = len;
            feed_chunked(t->raw, cuts, n, t->max_body, &part);
            CHECK(!part.broken, "%s: %s", t->name, part.broken);
            CHECK(part.rc == whole.rc && part.status == whole.status && part.raw_used == whole.raw_used
                  && part.body_len == whole.body_len && memcmp(part.body, whole.body, part.body_len) == 0,
                  "%s: split round %d differs (rc %d vs %d)", t->name, round, part.rc, whole.rc);
        }
    }
}

/* ---- normalisation ---- */

static void test_normalize(void)
{
    static const struct { const char *in, *out; } cases[] = {
        {"/a/b", "/a/b"}, {"/a/./b", "/a/b"}, {"/a/../b", "/b"}, {"/a/..", "/"}, {"/a/.", "/a/"},
        {"/.", "/"}, {"/./", "/"}, {"//a///b", "/a/b"}, {"/a%20b", "/a b"}, {"/a%2fb", "/a/b"},
        {"/a/%2e%2e/b", "/b"}, {"/a/.%2e/b", "/b"}, {"/%41%4a", "/AJ"}, {"/a#b/../..", "/a"},
        {"/a/.b", "/a/.b"}, {"/a/..b", "/a/..b"}, {"/a/.../b", "/a/.../b"}, {"/a%3fb", "/a?b"},
        {"/a/b/../../c", "/c"}, {"", "/"}, {"/a%ff", "/a\xff"}, {"/a/b/..//c", "/a/c"},
        {"/..", NULL}, {"/a/../..", NULL}, {"/%2e%2e", NULL}, {"/a%2f..%2f..%2fb", NULL},
        {"/a%zz", NULL}, {"/a%2", NULL}, {"/a%", NULL}, {"/a%00b", NULL}, {"/a%2g", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].in);
        char *in = malloc(len ? len : 1), *out = malloc(len ? len : 1);
        memcpy(in, cases[i].in, len);
        int n = tr_http_normalize_path(in, len, out, 1);
        if (cases[i].out)
            CHECK(n == (int)strlen(cases[i].out) && memcmp(out, cases[i].out, (size_t)n) == 0,
                  "normalize %s: got %d %.*s", cases[i].in, n, n > 0 ? n : 0, out);
        else
            CHECK(n == TR_HTTP_REFUSE, "normalize %s: not refused (%d)", cases[i].in, n);
        free(in);
        free(out);
    }
    char out[16];
    int n = tr_http_normalize_path("//a//b", 6, out, 0);
    CHECK(n == 6 && memcmp(out, "//a//b", 6) == 0, "merge_slashes off: %.*s", n, out);
}

/* ---- limits: nginx's header buffers, the header count ---- */

/*
 * A second, plain model of nginx's header buffers to hold the parser to: lines are packed into
 * a first buffer of `first` bytes, then up to `num` buffers of `size`; a line that crosses a
 * buffer's end moves to the next one, which must be free and must have received less than `size`
 * bytes of the line when it moved (ngx_http_alloc_large_header_buffer). Returns 0 when the head fits, else 414 or 494.
 */
static int model_buffers(const unsigned *lines, int n, unsigned first, unsigned num, unsigned size)
{
    unsigned long end = first, start = 0;
    unsigned busy = 0;
    for (int i = 0; i < n; i++) {
        unsigned long s = start, e = start + lines[i];
        /* nginx takes a new buffer as soon as one is full and the head is not complete */
        while (e > end) {
            if (s < end && end - s >= size) return i == 0 ? 414 : 494;
            if (busy >= num) return i == 0 ? 414 : 494;
            busy++;
            end = s + size;
        }
        start = e;
    }
    return 0;
}

static void test_limits(void)
{
    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    lim.header_buffer = 64;
    lim.large_buffers = 3;
    lim.large_buffer_size = 128;
    static char raw[4096];
    static struct outcome whole, part;
    for (int round = 0; round < 3000; round++) {
        unsigned lines[40];
        int n = 1 + rand() % 12;
        size_t len = 0;
        /* request line, headers, then the empty line */
        for (int i = 0; i < n; i++) {
            unsigned l;
            if (i == 0) {
                l = 16 + (unsigned)(rand() % 150);
                memcpy(raw + len, "GET /", 5);
                memset(raw + len + 5, 'a', l - 16);
                memcpy(raw + len + 5 + l - 16, " HTTP/1.0\r\n", 11);
            } else {
                l = 6 + (unsigned)(rand() % 140);
                memcpy(raw + len, "X: ", 3);
                memset(raw + len + 3, 'b', l - 5);
                memcpy(raw + len + l - 2, "\r\n", 2);
            }
            lines[i] = l;
            len += l;
        }
        memcpy(raw + len, "\r\n", 2);
        len += 2;
        lines[n] = 2;
        int want = model_buffers(lines, n + 1, lim.header_buffer, lim.large_buffers, lim.large_buffer_size);
        unsigned all[1] = {(unsigned)len};
        feed(raw, all, 1, &lim, &whole);
        int got = whole.rc > 0 ? 0 : whole.rc == TR_HTTP_REFUSE ? whole.req.status : -1;
        CHECK(got == want, "limits round %d: parser %d, model %d (%d lines, %zu bytes)", round, got, want, n + 1, len);
        /* and the same when it arrives in pieces */
        unsigned cuts[4096];
        int k = 0;
        for (unsigned c = 1; c < len; c++)
            if (rand() % 9 == 0) cuts[k++] = c;
        cuts[k++] = (unsigned)len;
        feed(raw, cuts, k, &lim, &part);
        CHECK(same(&whole, &part), "limits round %d: split differs", round);
    }

    /* the header count: max_headers fit, one more is refused as nginx's max_headers does */
    tr_http_limits_default(&lim);
    lim.max_headers = 3;
    const char *three = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nX_C: ignored\r\n\r\n";
    unsigned l3[1] = {(unsigned)strlen(three)};
    feed(three, l3, 1, &lim, &whole);
    CHECK(whole.rc == (int)l3[0] && whole.req.nheaders == 3, "3 headers: rc %d", whole.rc);
    const char *four = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    unsigned l4[1] = {(unsigned)strlen(four)};
    feed(four, l4, 1, &lim, &whole);
    CHECK(whole.rc == TR_HTTP_REFUSE && whole.req.status == TR_HTTP_HEADER_TOO_LARGE,
          "4 headers: rc %d status %d", whole.rc, whole.req.status);
}

/* ---- pipelining: each head parsed from where the last one ended ---- */

static void test_pipelined(void)
{
    const char *raw = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                      "POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc"
                      "\r\nGET /3?x HTTP/1.0\r\n\r\n";
    const char *paths[] = {"/1", "/2", "/3"};
    size_t len = strlen(raw), at = 0;
    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    static tr_http_header h[MAXH];
    for (int i = 0; i < 3; i++) {
        tr_http_req r;
        tr_http_req_init(&r);
        int rc = tr_http_parse_head(&r, raw + at, len - at, h, &lim);
        CHECK(rc > 0, "pipelined %d: rc %d", i, rc);
        if (rc <= 0) return;
        CHECK(slice_is(raw + at, r.path, paths[i]), "pipelined %d: path", i);
        at += (size_t)rc + (r.flags & TR_HTTP_F_CONTENT_LENGTH ? r.content_length : 0);
    }
    CHECK(at == len, "pipelined: ended at %zu of %zu", at, len);
}

int main(void)
{
    srand(1);
    test_heads();
    test_options();
    test_chunked();
    test_normalize();
    test_limits();
    test_pipelined();
    if (failures) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
