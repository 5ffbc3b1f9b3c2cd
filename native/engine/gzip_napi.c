/*
 * The JS gzip filter's compressors (src/request/gzip-stream.ts), registered by addon.c:
 *   gzip(bytes, level) -> Buffer: a whole body, by one deflate stream kept for the JS thread and
 *     reset per answer, where zlib.gzipSync would make and zero a new ~256 KB stream per request;
 *   gzipOpen(level) -> handle, gzipPush(handle, bytes, end) -> Buffer: a body flushed in parts,
 *     each push a Z_SYNC_FLUSH (Z_FINISH with end), by a stream taken from a pool of reset ones
 *     and given back at the end; one a request drops is given back when its handle is collected.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include "addon.h"
#include "gzip.h"

/* Per JS thread (a worker_thread loading the addon gets its own): a handle is used and collected
   on the thread that made it. */
static _Thread_local te_gz js_gz;

/* Streams given back, kept for the next bodies (a few: each holds ~256 KB). */
#define POOL_MAX 16
static _Thread_local te_gz *pool[POOL_MAX];
static _Thread_local int pooled;

/* A big body's output buffer is not kept idle. */
#define KEEP_OUT (256 * 1024)
static void trim(te_gz *g)
{
    if (g->out_cap <= KEEP_OUT) return;
    free(g->out);
    g->out = NULL;
    g->out_cap = 0;
}

typedef struct { te_gz *g; } slot;

static void give_back(te_gz *g)
{
    if (pooled < POOL_MAX) {
        trim(g);
        pool[pooled++] = g;
        return;
    }
    if (g->level > 0) deflateEnd(&g->zs);
    free(g->out);
    free(g);
}

static void slot_gone(napi_env env, void *data, void *hint)
{
    (void)env; (void)hint;
    slot *s = data;
    if (s->g) give_back(s->g);
    free(s);
}

static int bytes_arg(napi_env env, napi_value v, void **p, size_t *n)
{
    napi_typedarray_type t;
    return napi_get_typedarray_info(env, v, &t, n, p, NULL, NULL) != napi_ok || t != napi_uint8_array;
}

static int level_arg(napi_env env, napi_value v, uint32_t *level)
{
    return te_arg_u32(env, v, level) || *level < 1 || *level > 9;
}

napi_value te_js_gzip(napi_env env, napi_callback_info info)
{
    size_t argc = 2, n = 0, zn = 0;
    napi_value a[2], out;
    void *p = NULL;
    uint32_t level;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || bytes_arg(env, a[0], &p, &n) || level_arg(env, a[1], &level)) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "gzip(Uint8Array, level 1..9)");
        return NULL;
    }
    const char *z = te_gzip_with(&js_gz, n ? p : "", n, (int)level, &zn);
    if (!z) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "gzip: zlib could not compress the body");
        return NULL;
    }
    napi_status st = napi_create_buffer_copy(env, zn, z, NULL, &out);
    trim(&js_gz);
    return st == napi_ok ? out : NULL;
}

napi_value te_js_gzip_open(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], out;
    uint32_t level;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || level_arg(env, a[0], &level)) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "gzipOpen(level 1..9)");
        return NULL;
    }
    te_gz *g = pooled ? pool[--pooled] : calloc(1, sizeof *g);
    slot *s = malloc(sizeof *s);
    if (!g || !s || te_gzip_begin(g, (int)level) != 0) {
        if (g) give_back(g);
        free(s);
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "gzipOpen: zlib could not make a stream");
        return NULL;
    }
    s->g = g;
    if (napi_create_external(env, s, slot_gone, NULL, &out) != napi_ok) {
        give_back(g);
        free(s);
        return NULL;
    }
    return out;
}

napi_value te_js_gzip_push(napi_env env, napi_callback_info info)
{
    size_t argc = 3, n = 0, zn = 0;
    napi_value a[3], out;
    void *p = NULL, *data = NULL;
    bool end = false;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_external(env, a[0], &data) != napi_ok
        || bytes_arg(env, a[1], &p, &n) || napi_get_value_bool(env, a[2], &end) != napi_ok) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "gzipPush(handle, Uint8Array, end)");
        return NULL;
    }
    slot *s = data;
    if (!s->g) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "gzipPush: the stream has ended");
        return NULL;
    }
    const char *z = te_gzip_more(s->g, n ? p : "", n, end, &zn);
    if (!z) {
        give_back(s->g);
        s->g = NULL;
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "gzipPush: zlib could not compress the body");
        return NULL;
    }
    napi_status st = napi_create_buffer_copy(env, zn, z, NULL, &out);
    if (end) {
        give_back(s->g);
        s->g = NULL;
    }
    return st == napi_ok ? out : NULL;
}
