/* gzip.c: gzip by deflate streams kept between answers: the engine's own for an answer it holds
   whole (a small file, a return text, an error page), JS's in gzip_napi.c. A stream is reset, not
   remade, per answer, so an answer costs no zlib allocation. zlib is Node's own (its headers come
   with Node's, its symbols are in the process), so the engine needs no library of its own. */
#include <stdlib.h>
#include "gzip.h"

static te_gz engine_gz;

int te_gzip_begin(te_gz *g, int level)
{
    if (g->level == level) return deflateReset(&g->zs) == Z_OK ? 0 : -1;
    if (g->level > 0) deflateEnd(&g->zs);
    g->level = 0;
    /* windowBits 15 + 16: a gzip header and trailer, as nginx's gzip filter writes */
    if (deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    g->level = level;
    return 0;
}

/* Room for at least `need` bytes of output. */
static int room(te_gz *g, size_t need)
{
    if (need <= g->out_cap) return 0;
    char *b = realloc(g->out, need);
    if (!b) return -1;
    g->out = b;
    g->out_cap = need;
    return 0;
}

const char *te_gzip_more(te_gz *g, const char *p, size_t n, int end, size_t *out_len)
{
    /* deflateBound covers the input; the flush's marker and the trailer fit in the 32 more */
    if (room(g, deflateBound(&g->zs, (uLong)n) + 32)) return NULL;
    g->zs.next_in = (Bytef *)p;
    g->zs.avail_in = (uInt)n;
    size_t made = 0;
    for (;;) {
        g->zs.next_out = (Bytef *)g->out + made;
        g->zs.avail_out = (uInt)(g->out_cap - made);
        int rc = deflate(&g->zs, end ? Z_FINISH : Z_SYNC_FLUSH);
        made = g->out_cap - g->zs.avail_out;
        if (end && rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) return NULL;
        /* Z_BUF_ERROR with room left: nothing more to make (the flush was complete) */
        if (g->zs.avail_out > 0) {
            if (!end) break;
            if (rc == Z_BUF_ERROR) return NULL;
            continue;
        }
        if (room(g, g->out_cap * 2)) return NULL;
    }
    *out_len = made;
    return g->out;
}

const char *te_gzip_with(te_gz *g, const char *p, size_t n, int level, size_t *out_len)
{
    return te_gzip_begin(g, level) ? NULL : te_gzip_more(g, p, n, 1, out_len);
}

const char *te_gzip(const char *p, size_t n, int level, size_t *out_len)
{
    return te_gzip_with(&engine_gz, p, n, level, out_len);
}
