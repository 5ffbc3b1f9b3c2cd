/* gzip.c: the engine's gzip of an answer it holds whole (a small file, a return text, an error
   page): one deflate stream per worker thread, reset between answers, so a request costs no
   zlib allocation. zlib is Node's own (its headers come with Node's, its symbols are in the
   process), so the engine needs no library of its own for it. */
#include <stdlib.h>
#include <zlib.h>
#include "gzip.h"

static z_stream zs;
static int zs_level = -1;
static char *out;
static size_t out_cap;

const char *te_gzip(const char *p, size_t n, int level, size_t *out_len)
{
    if (zs_level != level) {
        if (zs_level >= 0) deflateEnd(&zs);
        zs_level = -1;
        /* windowBits 15 + 16: a gzip header and trailer, as nginx's gzip filter writes */
        if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
        zs_level = level;
    } else if (deflateReset(&zs) != Z_OK) {
        return NULL;
    }
    size_t bound = deflateBound(&zs, (uLong)n) + 32;
    if (bound > out_cap) {
        char *b = realloc(out, bound);
        if (!b) return NULL;
        out = b;
        out_cap = bound;
    }
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)out_cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return NULL;
    *out_len = out_cap - zs.avail_out;
    return out;
}
