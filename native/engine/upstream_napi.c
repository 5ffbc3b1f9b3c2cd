/*
 * The upstream sockets' N-API functions (upstream.h has the sockets themselves), registered by
 * addon.c: upConnect(ip | /unix/path, port) -> id | -errno, upWrite(id, bytes | latin1 string) ->
 * bytes queued, upPause(id, paused), upClose(id), upCount() -> open upstream sockets.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include "addon.h"
#include "upstream.h"

napi_value te_js_up_connect(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    char ip[128]; /* an address, or a unix socket's path (sun_path is 108 bytes) */
    size_t n;
    uint32_t port;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_string_latin1(env, a[0], ip, sizeof ip, &n) != napi_ok
        || te_arg_u32(env, a[1], &port) || port > 65535) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "upConnect(ip, port)");
        return NULL;
    }
    te_engine *e = te_addon_engine();
    if (!e->in_pass) e->now = te_host_now(e);
    return te_num(env, (double)te_up_connect(e, ip, (int)port));
}

/* Strings are latin1 (request heads): copied through one scratch buffer, no JS Buffer made. */
static char *wscratch;
static size_t wscratch_cap;

napi_value te_js_up_write(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    uint32_t id;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || te_arg_u32(env, a[0], &id)) goto bad;
    napi_valuetype t;
    napi_typeof(env, a[1], &t);
    const char *p;
    size_t n;
    if (t == napi_string) {
        if (napi_get_value_string_latin1(env, a[1], NULL, 0, &n) != napi_ok) goto bad;
        if (n + 1 > wscratch_cap) {
            size_t cap = n + 1 < 4096 ? 4096 : n + 1;
            char *q = realloc(wscratch, cap);
            if (!q) goto bad;
            wscratch = q;
            wscratch_cap = cap;
        }
        napi_get_value_string_latin1(env, a[1], wscratch, wscratch_cap, &n);
        p = wscratch;
    } else {
        void *d;
        napi_typedarray_type tt;
        napi_value ab;
        size_t off;
        if (napi_get_typedarray_info(env, a[1], &tt, &n, &d, &ab, &off) != napi_ok || tt != napi_uint8_array) goto bad;
        p = d;
    }
    if (n > 0xffffffffu) goto bad;
    return te_num(env, (double)te_up_write(te_addon_engine(), id, p, (uint32_t)n));
bad:
    napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "upWrite(id, data: Uint8Array | string)");
    return NULL;
}

napi_value te_js_up_pause(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    uint32_t id;
    bool paused = false;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || te_arg_u32(env, a[0], &id)) return NULL;
    napi_get_value_bool(env, a[1], &paused);
    te_up_pause(te_addon_engine(), id, paused);
    return NULL;
}

napi_value te_js_up_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    uint32_t id;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) == napi_ok && argc == 1 && !te_arg_u32(env, a[0], &id)) te_up_close(te_addon_engine(), id);
    return NULL;
}

napi_value te_js_up_count(napi_env env, napi_callback_info info)
{
    (void)info;
    return te_num(env, te_up_count());
}
