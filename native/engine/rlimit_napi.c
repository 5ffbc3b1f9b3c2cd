/*
 * setNofile(n) -> 0 | -errno, registered by addon.c: worker_rlimit_nofile. Node has no
 * setrlimit(), and a worker must raise its own open-files limit (both the soft and the hard
 * one, as nginx's worker does) before it accepts connections.
 * setCore(bytes) -> 0 | -errno: worker_rlimit_core, the largest core file (soft and hard).
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <sys/resource.h>
#include "addon.h"

napi_value te_js_set_nofile(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], out;
    uint32_t n = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || te_arg_u32(env, a[0], &n)) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "setNofile(n)");
        return NULL;
    }
    struct rlimit r = { .rlim_cur = n, .rlim_max = n };
    int rc = setrlimit(RLIMIT_NOFILE, &r) == 0 ? 0 : -errno;
    napi_create_int32(env, rc, &out);
    return out;
}

napi_value te_js_set_core(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], out;
    double n = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1
        || napi_get_value_double(env, a[0], &n) != napi_ok || !(n >= 0)) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "setCore(bytes)");
        return NULL;
    }
    struct rlimit r = { .rlim_cur = (rlim_t)n, .rlim_max = (rlim_t)n };
    int rc = setrlimit(RLIMIT_CORE, &r) == 0 ? 0 : -errno;
    napi_create_int32(env, rc, &out);
    return out;
}
