/* gzip.c: the engine's gzip of an answer it holds whole (a small file, a return text, an error
   page): one deflate stream per thread that compresses (the engine's here, JS's in gzip_napi.c),
   reset between answers, so an answer costs no zlib allocation. zlib is Node's own (its headers
   come with Node's, its symbols are in the process), so the engine needs no library of its own. */
#include <stdlib.h>
#include "gzip.h"

static te_gz engine_gz = TE_GZ_INIT;

const char *te_gzip_with(te_gz *g, const char *p, size_t n, int level, size_t *out_len)
{
    if (g->level != level) {
        if (g->level >= 0) deflateEnd(&g->zs);
        g->level = -1;
        /* windowBits 15 + 16: a gzip header and trailer, as nginx's gzip filter writes */
        if (deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
        g->level = level;
    } else if (deflateReset(&g->zs) != Z_OK) {
        return NULL;
    }
    size_t bound = deflateBound(&g->zs, (uLong)n) + 32;
    if (bound > g->out_cap) {
        char *b = realloc(g->out, bound);
        if (!b) return NULL;
        g->out = b;
        g->out_cap = bound;
    }
    g->zs.next_in = (Bytef *)p;
    g->zs.avail_in = (uInt)n;
    g->zs.next_out = (Bytef *)g->out;
    g->zs.avail_out = (uInt)g->out_cap;
    if (deflate(&g->zs, Z_FINISH) != Z_STREAM_END) return NULL;
    *out_len = g->out_cap - g->zs.avail_out;
    return g->out;
}

const char *te_gzip(const char *p, size_t n, int level, size_t *out_len)
{
    return te_gzip_with(&engine_gz, p, n, level, out_len);
}
