/* gzip.h: one gzip member made of a whole answer body (native/engine/gzip.c). */
#ifndef TRESTY_ENGINE_GZIP_H
#define TRESTY_ENGINE_GZIP_H
#include <stddef.h>
#include <zlib.h>

/* A deflate stream kept between answers (reset, not remade) and its output buffer. */
typedef struct {
    z_stream zs;
    int level; /* -1 until made */
    char *out;
    size_t out_cap;
} te_gz;

#define TE_GZ_INIT { .level = -1 }

/* The compressed bytes of p[0, n) at `level` made with g, in g's buffer the next call reuses;
   NULL on failure. */
const char *te_gzip_with(te_gz *g, const char *p, size_t n, int level, size_t *out_len);

/* The same with the engine thread's own stream. */
const char *te_gzip(const char *p, size_t n, int level, size_t *out_len);
#endif
