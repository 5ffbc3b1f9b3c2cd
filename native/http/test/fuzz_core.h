/*
 * fuzz_core.h: one fuzz input through the head parser, the normaliser and the chunked decoder,
 * checking what must hold for any bytes at all:
 *  - the results are in range: a head length within the input, every slice inside the head, a
 *    refusal with one of nginx's statuses and a reason;
 *  - feeding the same bytes in random pieces (and byte by byte, for short inputs) gives the
 *    same result as feeding them whole;
 *  - the decoder never uses more bytes than it has or makes more than it used;
 *  - a normalised path starts with '/' and has no "." or ".." segment or "//" left, and a
 *    path not flagged TR_HTTP_F_COMPLEX_URI comes out of the normaliser unchanged.
 * Reads past the input are AddressSanitizer's to catch (every piece is an exact heap copy).
 * Used by fuzz_driver.c (plain C, any compiler with ASan) and fuzz_libfuzzer.c (clang).
 */
#ifndef TR_HTTP_FUZZ_CORE_H
#define TR_HTTP_FUZZ_CORE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define FUZZ_MAX_LEN 3000 /* longer inputs are cut: splits cost O(n) per round */

static uint64_t fz_rng;

static uint32_t fz_rand(void)
{
    fz_rng ^= fz_rng << 13;
    fz_rng ^= fz_rng >> 7;
    fz_rng ^= fz_rng << 17;
    return (uint32_t)(fz_rng >> 11);
}

static void fz_fail(const char *what, const uint8_t *d, size_t n)
{
    fprintf(stderr, "FUZZ INVARIANT BROKEN: %s\ninput (%zu bytes):\n", what, n);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x%s", d[i], i % 32 == 31 ? "\n" : "");
    fprintf(stderr, "\n");
    abort();
}

static int fz_slice_in(tr_http_slice s, size_t end)
{
    return (size_t)s.off + s.len <= end;
}

static void fz_check_path(const uint8_t *d, size_t n, const char *path, size_t len)
{
    size_t cap = len ? len : 1;
    char *out = malloc(cap);
    int r = tr_http_normalize_path(path, len, out, 1);
    if (r != TR_HTTP_REFUSE) {
        if (r < 1 || (size_t)r > cap) fz_fail("normalised length out of range", d, n);
        if (out[0] != '/') fz_fail("normalised path does not start with /", d, n);
        for (int i = 0; i < r; i++) {
            if (out[i] != '/') continue;
            /* the segment after this slash */
            int j = i + 1;
            while (j < r && out[j] != '/') j++;
            int seg = j - i - 1;
            if (j < r && seg == 0) fz_fail("normalised path has //", d, n);
            if ((seg == 1 && out[i + 1] == '.') || (seg == 2 && out[i + 1] == '.' && out[i + 2] == '.'))
                fz_fail("normalised path has a dot segment", d, n);
        }
    }
    free(out);
}

static void fz_check_head(const uint8_t *d, size_t n, const tr_http_limits *lim)
{
    static struct outcome whole, part;
    static unsigned cuts[FUZZ_MAX_LEN + 1];
    const char *raw = (const char *)d;
    cuts[0] = (unsigned)n;
    feed(raw, cuts, 1, lim, &whole);
    const tr_http_req *r = &whole.req;
    if (whole.rc == TR_HTTP_REFUSE) {
        switch (r->status) {
        case 400: case 405: case 414: case TR_HTTP_HEADER_TOO_LARGE: case 501: case 505: break;
        default: fz_fail("refusal with an unexpected status", d, n);
        }
        if (!r->reason || !r->reason[0]) fz_fail("refusal without a reason", d, n);
        if (!fz_slice_in(r->err, n)) fz_fail("err slice past the input", d, n);
    } else if (whole.rc > 0) {
        size_t h = (size_t)whole.rc;
        if (h > n || r->head_len != h) fz_fail("head length out of range", d, n);
        if (r->nheaders > lim->max_headers) fz_fail("more headers than allowed", d, n);
        if (!fz_slice_in(r->method, h) || !fz_slice_in(r->target, h) || !fz_slice_in(r->path, h)
            || !fz_slice_in(r->query, h) || !fz_slice_in(r->host, h) || r->method.len == 0)
            fz_fail("request slice out of range", d, n);
        for (uint32_t i = 0; i < r->nheaders; i++)
            if (!fz_slice_in(whole.hdrs[i].name, h) || !fz_slice_in(whole.hdrs[i].value, h))
                fz_fail("header slice out of range", d, n);
        if (r->version != 9 && (r->version < 1000 || r->version > 1999)) fz_fail("version out of range", d, n);
        if ((r->flags & TR_HTTP_F_CHUNKED) && (r->flags & TR_HTTP_F_CONTENT_LENGTH))
            fz_fail("both chunked and Content-Length", d, n);
        if (r->flags & TR_HTTP_F_COMPLEX_URI) {
            fz_check_path(d, n, raw + r->path.off, r->path.len);
        } else if (r->path.len > 0) {
            /* a path not flagged must need no normalising */
            char *out = malloc(r->path.len);
            int k = tr_http_normalize_path(raw + r->path.off, r->path.len, out, 1);
            if (k != (int)r->path.len || memcmp(out, raw + r->path.off, r->path.len) != 0)
                fz_fail("a path that needs normalising is not flagged complex", d, n);
            free(out);
        }
    } else if (whole.rc != TR_HTTP_AGAIN) {
        fz_fail("unknown return code", d, n);
    }
    /* the same bytes in pieces */
    int rounds = n < 400 ? 4 : 2;
    for (int round = 0; round < rounds; round++) {
        int k = 0;
        if (round == 0 && n < 400) {
            for (size_t c = 1; c < n; c++) cuts[k++] = (unsigned)c;
        } else {
            unsigned every = 1 + fz_rand() % 16;
            for (size_t c = 1; c < n; c++)
                if (fz_rand() % every == 0) cuts[k++] = (unsigned)c;
        }
        cuts[k++] = (unsigned)n;
        feed(raw, cuts, k, lim, &part);
        if (!same(&whole, &part)) fz_fail("pieces give another result than the whole", d, n);
    }
}

static void fz_check_chunked(const uint8_t *d, size_t n, unsigned long long max_body)
{
    static struct chunk_outcome whole, part;
    static size_t cuts[CHUNK_MAX + 1];
    if (n > CHUNK_MAX) n = CHUNK_MAX;
    cuts[0] = n;
    feed_chunked((const char *)d, cuts, 1, max_body, &whole);
    if (whole.broken) fz_fail(whole.broken, d, n);
    if (whole.rc == TR_HTTP_REFUSE && whole.status != 400 && whole.status != 413)
        fz_fail("chunked refusal with an unexpected status", d, n);
    if (whole.raw_used > n) fz_fail("decoder used more bytes than given", d, n);
    for (int round = 0; round < 3; round++) {
        int k = 0;
        unsigned every = 1 + fz_rand() % 8;
        for (size_t c = 1; c < n; c++)
            if (round == 0 || fz_rand() % every == 0) cuts[k++] = c;
        cuts[k++] = n;
        feed_chunked((const char *)d, cuts, k, max_body, &part);
        if (part.broken) fz_fail(part.broken, d, n);
        if (part.rc != whole.rc || part.status != whole.status || part.raw_used != whole.raw_used
            || part.body_len != whole.body_len || memcmp(part.body, whole.body, part.body_len) != 0)
            fz_fail("chunked pieces give another result than the whole", d, n);
    }
}

static void fuzz_one(const uint8_t *d, size_t n)
{
    if (n > FUZZ_MAX_LEN) n = FUZZ_MAX_LEN;
    /* splits depend on the input only, so a failure replays */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 1099511628211ull;
    fz_rng = h | 1;

    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    fz_check_head(d, n, &lim);
    /* tiny buffers and counts, so the limits are reached at every size */
    lim.header_buffer = 1 + fz_rand() % 64;
    lim.large_buffers = 1 + fz_rand() % 4;
    lim.large_buffer_size = 4 + fz_rand() % 200;
    lim.max_headers = fz_rand() % 8;
    lim.underscores_in_headers = fz_rand() & 1;
    lim.ignore_invalid_headers = fz_rand() & 1;
    fz_check_head(d, n, &lim);

    /* the input as a chunked body, and what follows a head as one */
    fz_check_chunked(d, n, fz_rand() & 1 ? 0 : fz_rand() % 64);
    static struct outcome o;
    static unsigned all[1];
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    all[0] = (unsigned)n;
    feed((const char *)d, all, 1, &lim, &o);
    if (o.rc > 0) fz_check_chunked(d + o.rc, n - (size_t)o.rc, 0);
}

#endif
