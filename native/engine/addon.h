/* What addon.c shares with the files that hold more of the engine's N-API functions. */
#ifndef TE_ADDON_H
#define TE_ADDON_H
#include <node_api.h>
#include <stdint.h>
#include "engine.h"

/* The process's one engine. */
te_engine *te_addon_engine(void);
/* Called from JS outside a pass: ask the loop for a turn, so what was just queued goes out. */
void te_addon_outside_pass(void);

static inline napi_value te_num(napi_env env, double v)
{
    napi_value r;
    napi_create_double(env, v, &r);
    return r;
}

/* A JS number as u32, clamped to [0, 2^32 - 1]; -1 when it is not a number. */
static inline int te_arg_u32(napi_env env, napi_value v, uint32_t *out)
{
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
    *out = d <= 0 ? 0 : d >= 4294967295.0 ? 4294967295u : (uint32_t)d;
    return 0;
}

/* The bytes of a Buffer (NULL for null / undefined); -1 when it is neither. */
static inline int te_arg_bytes(napi_env env, napi_value v, const char **p, size_t *n)
{
    napi_valuetype t;
    napi_typeof(env, v, &t);
    *p = NULL;
    *n = 0;
    if (t == napi_null || t == napi_undefined) return 0;
    void *d;
    if (napi_get_buffer_info(env, v, &d, n) != napi_ok) return -1;
    *p = d;
    return 0;
}

/* gzip_napi.c */
napi_value te_js_gzip(napi_env env, napi_callback_info info);
napi_value te_js_gzip_open(napi_env env, napi_callback_info info);
napi_value te_js_gzip_push(napi_env env, napi_callback_info info);

/* listen_napi.c */
napi_value te_js_listen(napi_env env, napi_callback_info info);
napi_value te_js_close_fd(napi_env env, napi_callback_info info);
napi_value te_js_fd_address(napi_env env, napi_callback_info info);
/* [addr, port] of a socket's local end, or null (fd < 0 or not a socket). */
napi_value te_sock_address(napi_env env, int fd);

/* names_napi.c */
napi_value te_js_server_names(napi_env env, napi_callback_info info);
napi_value te_js_address_names(napi_env env, napi_callback_info info);
napi_value te_js_set_software(napi_env env, napi_callback_info info);

/* stat_napi.c */
napi_value te_js_status_attach(napi_env env, napi_callback_info info);

/* rlimit_napi.c */
napi_value te_js_set_nofile(napi_env env, napi_callback_info info);
napi_value te_js_set_core(napi_env env, napi_callback_info info);

/* conn_napi.c */
napi_value te_js_body_start(napi_env env, napi_callback_info info);
napi_value te_js_server_of(napi_env env, napi_callback_info info);
napi_value te_js_body_raw(napi_env env, napi_callback_info info);
napi_value te_js_body_pause(napi_env env, napi_callback_info info);
napi_value te_js_body_resume(napi_env env, napi_callback_info info);
napi_value te_js_cut(napi_env env, napi_callback_info info);
napi_value te_js_pressure(napi_env env, napi_callback_info info);
napi_value te_js_peer_address(napi_env env, napi_callback_info info);
napi_value te_js_next_number(napi_env env, napi_callback_info info);
napi_value te_js_local_address(napi_env env, napi_callback_info info);

/* tls_napi.c */
napi_value te_js_tls_built(napi_env env, napi_callback_info info);
napi_value te_js_tls_context(napi_env env, napi_callback_info info);
napi_value te_js_tls_listener(napi_env env, napi_callback_info info);
napi_value te_js_tls_sni(napi_env env, napi_callback_info info);
napi_value te_js_tls_info(napi_env env, napi_callback_info info);
napi_value te_js_tls_flags(napi_env env, napi_callback_info info);
napi_value te_js_tls_cert_hook(napi_env env, napi_callback_info info);
napi_value te_js_tls_cert_done(napi_env env, napi_callback_info info);
napi_value te_js_tls_conf_check(napi_env env, napi_callback_info info);
/* Keeps the function argument of a hook setter in *ref (replacing the one kept before). */
int te_keep_fn(napi_env env, napi_callback_info info, napi_ref *ref, napi_env *at);
/* tls_ocsp_napi.c */
napi_value te_js_ocsp_request(napi_env env, napi_callback_info info);
napi_value te_js_ocsp_check(napi_env env, napi_callback_info info);
napi_value te_js_tls_ocsp_hook(napi_env env, napi_callback_info info);
napi_value te_js_tls_staple(napi_env env, napi_callback_info info);

/* upstream_napi.c */
napi_value te_js_up_connect(napi_env env, napi_callback_info info);
napi_value te_js_up_write(napi_env env, napi_callback_info info);
napi_value te_js_up_pause(napi_env env, napi_callback_info info);
napi_value te_js_up_close(napi_env env, napi_callback_info info);
napi_value te_js_up_count(napi_env env, napi_callback_info info);

#endif
