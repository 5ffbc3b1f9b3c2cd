/*
 * bench_parser.c: what parsing one request head costs (native/http/parse.c), in ns per request,
 * next to the least any parser must do: finding the head's end with memmem("\r\n\r\n").
 * Heads: a minimal GET, a browser-like GET (Chrome's headers, ~700 bytes), the browser head fed
 * in two pieces (resumption), and a 4 KB chunked body decoded in place (16 chunks).
 * Each row: the median of 7 rounds of N iterations, timed in thread CPU time (so that a busy
 * machine's waits for a core do not count); the ratio is parser / memmem in the same round.
 *
 *     make -C bench/parser run            (or: taskset -c 1 make -C bench/parser run)
 */
#define _POSIX_C_SOURCE 200809L
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"

static const char minimal[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static const char browser[] =
    "GET /products/shoes/running?color=blue&size=42&sort=price HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://shop.example.com/products/shoes\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
    "Cookie: session=8f2a1c9d7e6b5a4f3e2d1c0b; theme=dark; cart=3\r\n"
    "\r\n";

static volatile uint64_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: waiting for a core does not count */
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static tr_http_header hdrs[100];
static tr_http_limits lim;

static double run_parse(const char *head, size_t len, size_t split, long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        tr_http_req r;
        tr_http_req_init(&r);
        int rc;
        if (split) {
            rc = tr_http_parse_head(&r, head, split, hdrs, &lim);
            if (rc == TR_HTTP_AGAIN) rc = tr_http_parse_head(&r, head, len, hdrs, &lim);
        } else {
            rc = tr_http_parse_head(&r, head, len, hdrs, &lim);
        }
        if (rc != (int)len) { fprintf(stderr, "parse failed: %d %s\n", rc, r.reason); exit(1); }
        sink += r.nheaders + r.path.len;
    }
    return (now() - t0) / (double)iters;
}

static double run_memmem(const char *head, size_t len, long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        const char *e = memmem(head, len, "\r\n\r\n", 4);
        sink += (uint64_t)(e - head);
    }
    return (now() - t0) / (double)iters;
}

static char body_raw[8192], body_work[8192];
static size_t body_len;

static double run_chunked(long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        memcpy(body_work, body_raw, body_len); /* decoding is in place */
        tr_http_chunked c;
        tr_http_chunked_init(&c, 0);
        size_t used, made;
        if (tr_http_chunked_decode(&c, body_work, body_len, &used, &made) != TR_HTTP_DONE) exit(1);
        sink += made;
    }
    return (now() - t0) / (double)iters;
}

static double run_copy(long iters)
{
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        memcpy(body_work, body_raw, body_len);
        sink += (uint8_t)body_work[i % body_len];
    }
    return (now() - t0) / (double)iters;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define ROUNDS 7

int main(void)
{
    tr_http_limits_default(&lim);
    lim.max_headers = 100;
    for (int k = 0; k < 16; k++) {
        body_len += (size_t)sprintf(body_raw + body_len, "100\r\n");
        memset(body_raw + body_len, 'a' + k, 256);
        body_len += 256;
        body_len += (size_t)sprintf(body_raw + body_len, "\r\n");
    }
    body_len += (size_t)sprintf(body_raw + body_len, "0\r\n\r\n");

    struct row { const char *name; const char *head; size_t len, split; } rows[] = {
        {"minimal GET (27 B)", minimal, sizeof(minimal) - 1, 0},
        {"browser GET", browser, sizeof(browser) - 1, 0},
        {"browser GET, in 2 pieces", browser, sizeof(browser) - 1, (sizeof(browser) - 1) / 2},
    };
    long iters = 1000000;
    printf("%-30s %8s %12s %12s %8s\n", "input", "bytes", "parser ns", "memmem ns", "ratio");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double p[ROUNDS], m[ROUNDS], ratio[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            p[r] = run_parse(rows[i].head, rows[i].len, rows[i].split, iters);
            m[r] = run_memmem(rows[i].head, rows[i].len, iters);
            ratio[r] = p[r] / m[r];
        }
        qsort(p, ROUNDS, sizeof(double), cmp);
        qsort(m, ROUNDS, sizeof(double), cmp);
        qsort(ratio, ROUNDS, sizeof(double), cmp);
        printf("%-30s %8zu %12.1f %12.1f %7.1fx   (parser spread %.1f-%.1f ns, %.2f GB/s)\n",
               rows[i].name, rows[i].len, p[ROUNDS / 2], m[ROUNDS / 2], ratio[ROUNDS / 2], p[0],
               p[ROUNDS - 1], (double)rows[i].len / p[ROUNDS / 2]);
    }
    double c[ROUNDS], cp[ROUNDS], cr[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        c[r] = run_chunked(iters / 10);
        cp[r] = run_copy(iters / 10);
        cr[r] = c[r] / cp[r];
    }
    qsort(c, ROUNDS, sizeof(double), cmp);
    qsort(cp, ROUNDS, sizeof(double), cmp);
    qsort(cr, ROUNDS, sizeof(double), cmp);
    printf("%-30s %8zu %12.1f %12.1f %7.1fx   (decode incl. the copy; second column: the copy alone, %.2f GB/s)\n",
           "chunked 4 KB body, 16 chunks", body_len, c[ROUNDS / 2], cp[ROUNDS / 2], cr[ROUNDS / 2],
           (double)body_len / c[ROUNDS / 2]);
    return sink == 42; /* keep sink alive */
}
