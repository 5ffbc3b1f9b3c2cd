/*
 * serverNames(names), registered by addon.c: the servers' first server_names, numbered as JS
 * numbers them, so that serverOf(id, index) can make the engine's own error-log lines name the
 * server a request's Host chose, as nginx's do.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "addon.h"

/* serverNames([name, ...]): the servers' first server_names, numbered for serverOf(). */
napi_value te_js_server_names(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], item;
    uint32_t n = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_array_length(env, a[0], &n) != napi_ok || n > 0xfffe)
    {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "serverNames(names)");
        return NULL;
    }
    te_engine *e = te_addon_engine();
    te_name *names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "serverNames: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        char tmp[256];
        size_t len = 0;
        if (napi_get_element(env, a[0], i, &item) != napi_ok || napi_get_value_string_utf8(env, item, tmp, sizeof tmp, &len) != napi_ok) {
            free(names);
            napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "serverNames: names must be strings");
            return NULL;
        }
        names[i].n = (uint8_t)(len > 255 ? 255 : len);
        memcpy(names[i].p, tmp, names[i].n);
    }
    free(e->snames);
    e->snames = names;
    e->nsnames = n;
    return NULL;
}
