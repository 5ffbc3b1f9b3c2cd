/*
 * fuzz_driver.c: a seeded random + mutation fuzzer in plain C (any compiler with ASan/UBSan),
 * for machines without libFuzzer. Mutates valid requests, chunked bodies and the shapes given
 * in a corpus file, and runs each result through fuzz_core.h's checks.
 *
 *     fuzz_driver SECONDS [SEED] [CORPUS]
 * CORPUS: inputs, each a 4-byte little-endian length then the bytes (the refusal table).
 * Prints "ok N inputs in S s (seed X)"; aborts with the failing input on a broken invariant.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_core.h"

static const char *builtin[] = {
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /a/b/../c/./d%20e//f?x=1&y=%zz#frag HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: "
    "fuzz\r\nAccept: */*\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    "GET http://[::1]:80/p?q HTTP/1.0\r\nConnection: keep-alive\r\nX_Under: 1\r\nX@Bad: 2\r\n\r\n",
    "\r\n\nGET /\r\n",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "a;x\nabcdefghij\n0\nX\n\n",
    "GET / HTTP/1.1\nHost: a.b.\nIf-Modified-Since: x\nContent-Range: y\n\n",
};

/* Bytes that steer a parser: separators, line ends, controls, digits, escapes. */
static const uint8_t interesting[] = {'\r', '\n', ' ', '\t', ':', ';', '/', '.', '%', '?', '#', '_',
                                      '[', ']', '@', '0', '9', 'a', 'f', 'F', 'H', 0, 1, 0x7f, 0x80, 0xff};

static const char *tokens[] = {"\r\n", "\r\n\r\n", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "Host: ",
                               "Content-Length: ", "Transfer-Encoding: chunked", "Connection: close",
                               "Expect: 100-continue", "%2e%2e", "/../", "//", "ffffffffffffffff",
                               "0\r\n\r\n", "chunked", "\r\n ", "Content-Length: 0\r\n"};

struct input {
    uint8_t *b;
    size_t n;
};

static struct input *pool;
static size_t npool, cap;

static void add(const uint8_t *b, size_t n)
{
    if (npool == cap) pool = realloc(pool, (cap = cap ? cap * 2 : 64) * sizeof(*pool));
    pool[npool].b = malloc(n ? n : 1);
    memcpy(pool[npool].b, b, n);
    pool[npool++].n = n;
}

static void load_corpus(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        exit(2);
    }
    uint8_t hdr[4];
    while (fread(hdr, 1, 4, f) == 4) {
        size_t n = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        uint8_t *b = malloc(n ? n : 1);
        if (fread(b, 1, n, f) != n) break;
        add(b, n);
        free(b);
    }
    fclose(f);
}

/* One to four mutations of a pool input into out; returns the new length. */
static size_t mutate(uint8_t *out, size_t max)
{
    const struct input *src = &pool[fz_rand() % npool];
    size_t n = src->n < max ? src->n : max;
    memcpy(out, src->b, n);
    int times = 1 + (int)(fz_rand() % 4);
    for (int t = 0; t < times; t++) {
        size_t at = n ? fz_rand() % (n + 1) : 0;
        switch (fz_rand() % 9) {
        case 0: /* flip a bit */
            if (n) out[fz_rand() % n] ^= (uint8_t)(1u << (fz_rand() % 8));
            break;
        case 1: /* set a byte to an interesting one */
            if (n) out[fz_rand() % n] = interesting[fz_rand() % sizeof(interesting)];
            break;
        case 2: /* insert an interesting byte */
            if (n < max) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = interesting[fz_rand() % sizeof(interesting)];
                n++;
            }
            break;
        case 3: { /* delete a range */
            size_t len = 1 + fz_rand() % 8;
            if (at + len <= n) {
                memmove(out + at, out + at + len, n - at - len);
                n -= len;
            }
            break;
        }
        case 4: { /* duplicate a range (a header line, a chunk) */
            if (!n) break;
            size_t from = fz_rand() % n, len = 1 + fz_rand() % 40;
            if (from + len > n) len = n - from;
            if (n + len <= max) {
                uint8_t piece[40];
                memcpy(piece, out + from, len);
                memmove(out + at + len, out + at, n - at);
                memcpy(out + at, piece, len);
                n += len;
            }
            break;
        }
        case 5: { /* insert a token */
            const char *tok = tokens[fz_rand() % (sizeof(tokens) / sizeof(tokens[0]))];
            size_t len = strlen(tok);
            if (n + len <= max) {
                memmove(out + at + len, out + at, n - at);
                memcpy(out + at, tok, len);
                n += len;
            }
            break;
        }
        case 6: /* truncate */
            n = at;
            break;
        case 7: { /* splice the tail of another input */
            const struct input *o = &pool[fz_rand() % npool];
            size_t from = o->n ? fz_rand() % o->n : 0, len = o->n - from;
            if (at + len > max) len = max - at;
            memcpy(out + at, o->b + from, len);
            n = at + len;
            break;
        }
        default: /* a run of random bytes */
            for (size_t k = 0, len = 1 + fz_rand() % 6; k < len && at + k < n; k++)
                out[at + k] = (uint8_t)fz_rand();
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : (uint64_t)time(NULL);
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        add((const uint8_t *)builtin[i], strlen(builtin[i]));
    if (argc > 3) load_corpus(argv[3]);

    static uint8_t buf[FUZZ_MAX_LEN];
    unsigned long execs = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* every input as given first, then mutations */
    for (size_t i = 0; i < npool; i++, execs++) fuzz_one(pool[i].b, pool[i].n);
    uint64_t state = seed * 2654435761u + 1;
    for (;;) {
        fz_rng = state;
        size_t n = mutate(buf, sizeof(buf));
        state = fz_rng;
        /* a mutation that found a new shape joins the pool now and then */
        if (fz_rand() % 64 == 0 && npool < 4096) add(buf, n);
        state = fz_rng;
        fuzz_one(buf, n);
        execs++;
        if ((execs & 63) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            if (el >= seconds) {
                printf("ok %lu inputs in %.1f s (seed %llu)\n", execs, el, (unsigned long long)seed);
                return 0;
            }
        }
    }
}
