/*
 * ssl_stapling's N-API functions, registered by addon.c (tls_ocsp.c does the work):
 *   ocspRequest(certPem, issuerPem) -> Buffer   the DER OCSP request (throws with OpenSSL's reason)
 *   ocspCheck(resp, certPem, issuerPem, chainPem | null, trustedPem | null, verify) -> number
 *       the response's nextUpdate (epoch seconds, -1: none) when nginx would staple it; throws
 *       with nginx's log text otherwise
 *   tlsOcspHook(fn)   fn(server, slot, certDer): a handshake asked for a staple and it is time to
 *       fetch one; fn must not answer before it returns
 *   tlsStaple(server, slot, der | null, validS, refreshS) -> bool   the answer (der null: keep
 *       the staple it had); false when there is no such staple
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "addon.h"
#include "tls.h"

static napi_env ocsp_env;
static napi_ref ocsp_ref;

static napi_value fail(napi_env env, const char *code, const char *msg)
{
    napi_throw_error(env, code, msg);
    return NULL;
}

napi_value te_js_ocsp_request(napi_env env, napi_callback_info info)
{
    size_t argc = 2, cl, il, ol;
    napi_value a[2], r;
    const char *c, *i;
    unsigned char *out;
    char err[512];
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || te_arg_bytes(env, a[0], &c, &cl) ||
        te_arg_bytes(env, a[1], &i, &il) || !c || !i)
        return fail(env, "TRESTY_ERR_ENGINE", "ocspRequest(cert, issuer)");
    if (te_ocsp_request(c, cl, i, il, &out, &ol, err, sizeof err) < 0) return fail(env, "TRESTY_ERR_OCSP", err);
    void *d;
    napi_status st = napi_create_buffer_copy(env, ol, out, &d, &r);
    free(out);
    return st == napi_ok ? r : NULL;
}

napi_value te_js_ocsp_check(napi_env env, napi_callback_info info)
{
    size_t argc = 6;
    napi_value a[6];
    bool verify = false;
    te_ocsp_check_args x;
    memset(&x, 0, sizeof x);
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 6 || te_arg_bytes(env, a[0], &x.resp, &x.resp_len) ||
        te_arg_bytes(env, a[1], &x.cert, &x.cert_len) || te_arg_bytes(env, a[2], &x.issuer, &x.issuer_len) ||
        te_arg_bytes(env, a[3], &x.chain, &x.chain_len) || te_arg_bytes(env, a[4], &x.trusted, &x.trusted_len) ||
        napi_get_value_bool(env, a[5], &verify) != napi_ok || !x.resp || !x.cert || !x.issuer)
        return fail(env, "TRESTY_ERR_ENGINE", "ocspCheck(resp, cert, issuer, chain, trusted, verify)");
    x.verify = verify;
    int64_t valid = 0;
    char err[512];
    if (te_ocsp_check(&x, &valid, err, sizeof err) < 0) return fail(env, "TRESTY_ERR_OCSP", err);
    return te_num(env, valid == INT64_MAX ? -1.0 : (double)valid);
}

/* Asks JS to fetch (inside a handshake, on the JS thread); -1 when it threw. */
static int ask_fetch(uint32_t server, uint32_t slot, const unsigned char *der, size_t len)
{
    if (!ocsp_ref) return -1;
    napi_env env = ocsp_env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
    napi_value fn, recv, argv[3], res;
    void *d;
    napi_get_reference_value(env, ocsp_ref, &fn);
    napi_get_undefined(env, &recv);
    argv[0] = te_num(env, server);
    argv[1] = te_num(env, slot);
    int ok = napi_create_buffer_copy(env, len, der, &d, &argv[2]) == napi_ok &&
             napi_call_function(env, recv, fn, 3, argv, &res) == napi_ok;
    if (!ok) {
        napi_value ex;
        napi_get_and_clear_last_exception(env, &ex);
    }
    napi_close_handle_scope(env, scope);
    return ok ? 0 : -1;
}

napi_value te_js_tls_ocsp_hook(napi_env env, napi_callback_info info)
{
    if (te_keep_fn(env, info, &ocsp_ref, &ocsp_env) < 0) return fail(env, "TRESTY_ERR_ENGINE", "tlsOcspHook(fn)");
    te_tls_set_ocsp(ask_fetch);
    return NULL;
}

napi_value te_js_tls_staple(napi_env env, napi_callback_info info)
{
    size_t argc = 5, len;
    napi_value a[5], r;
    uint32_t server, slot;
    const char *der;
    double valid, refresh;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 5 || te_arg_u32(env, a[0], &server) ||
        te_arg_u32(env, a[1], &slot) || te_arg_bytes(env, a[2], &der, &len) || napi_get_value_double(env, a[3], &valid) != napi_ok ||
        napi_get_value_double(env, a[4], &refresh) != napi_ok)
        return fail(env, "TRESTY_ERR_ENGINE", "tlsStaple(server, slot, der, valid, refresh)");
    /* -1: a response without nextUpdate, staple it for good (nginx's NGX_MAX_TIME_T_VALUE) */
    int64_t v = valid < 0 || valid > 9e15 ? INT64_MAX : (int64_t)valid;
    int ok = te_tls_staple_set(server, slot, (const unsigned char *)der, len, v, (int64_t)refresh) == 0;
    napi_get_boolean(env, ok, &r);
    return r;
}
