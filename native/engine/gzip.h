/* gzip.h: gzip members made by deflate streams kept between answers (native/engine/gzip.c). */
#ifndef TRESTY_ENGINE_GZIP_H
#define TRESTY_ENGINE_GZIP_H
#include <stddef.h>
#include <zlib.h>

/* A deflate stream kept between answers (reset, not remade) and its output buffer; all zero
   (level 0) until first used. */
typedef struct {
    z_stream zs;
    int level;
    char *out;
    size_t out_cap;
} te_gz;

/* Starts a new gzip member on g at `level` (1..9): the stream is reset, or made when new or at
   another level. 0, or -1 on failure. */
int te_gzip_begin(te_gz *g, int level);

/* Compresses p[0, n) on g's member, then Z_SYNC_FLUSH, or Z_FINISH with `end`: the bytes made,
   in g's buffer the next call reuses; NULL on failure. */
const char *te_gzip_more(te_gz *g, const char *p, size_t n, int end, size_t *out_len);

/* One whole member of p[0, n) made with g (begin, then more with end). */
const char *te_gzip_with(te_gz *g, const char *p, size_t n, int level, size_t *out_len);

/* The same with the engine thread's own stream. */
const char *te_gzip(const char *p, size_t n, int level, size_t *out_len);
#endif
