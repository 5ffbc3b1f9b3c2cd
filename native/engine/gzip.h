/* gzip.h: one gzip member made of a whole answer body (native/engine/gzip.c). */
#ifndef TRESTY_ENGINE_GZIP_H
#define TRESTY_ENGINE_GZIP_H
#include <stddef.h>

/* The compressed bytes of p[0, n) at `level`, in a buffer the next call reuses; NULL on failure. */
const char *te_gzip(const char *p, size_t n, int level, size_t *out_len);
#endif
