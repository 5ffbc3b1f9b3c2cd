/*
 * gzip(bytes, level) -> Buffer, registered by addon.c: JS's gzip filter compresses a whole body
 * here (src/request/gzip-stream.ts) with one deflate stream kept for the JS thread and reset per
 * answer, where zlib.gzipSync would make and zero a new ~256 KB stream per request.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "addon.h"
#include "gzip.h"

static te_gz js_gz = TE_GZ_INIT;

napi_value te_js_gzip(napi_env env, napi_callback_info info)
{
    size_t argc = 2, n = 0, zn = 0;
    napi_value a[2], out;
    napi_typedarray_type t;
    void *p = NULL;
    uint32_t level;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2
        || napi_get_typedarray_info(env, a[0], &t, &n, &p, NULL, NULL) != napi_ok || t != napi_uint8_array
        || te_arg_u32(env, a[1], &level) || level < 1 || level > 9) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "gzip(Uint8Array, level 1..9)");
        return NULL;
    }
    const char *z = te_gzip_with(&js_gz, n ? p : "", n, (int)level, &zn);
    if (!z) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "gzip: zlib could not compress the body");
        return NULL;
    }
    if (napi_create_buffer_copy(env, zn, z, NULL, &out) != napi_ok) return NULL;
    return out;
}
