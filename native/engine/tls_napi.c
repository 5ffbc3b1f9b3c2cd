/*
 * The TLS N-API functions, registered by addon.c (tls.c does the work):
 *   tlsBuilt() -> bool      whether the engine was built with OpenSSL's headers
 *   tlsContext(server, [certPem, ...], [keyPem, ...], [min, max, prefer, cache, timeoutS, tickets, reject?],
 *              ciphers, curve, dhPem | null, ticketKeys (80 bytes) | null)   throws with OpenSSL's reason
 *   tlsListener(index, server)   the listener JS numbers `index` is TLS, `server` its default
 *   tlsSni(fn)   fn(index, dname, name) -> server | -1 | -2: the server of an SNI name (as for Host),
 *                -2 when that server has ssl_reject_handshake on
 *   (tlsContext's 9th argument: null, or [mode, depth, caPem | null, trustedPem | null, crlPem | null]
 *   for ssl_verify_client, mode 1 on, 2 optional, 3 optional_no_ca; its 10th: null, or the DER
 *   OCSP response ssl_stapling_file gave)
 *   tlsInfo(id) -> Buffer | null   the session's $ssl_* material (tls_verify.c te_tls_info)
 *   tlsFlags(logInfo, refusalsToJs)   LOG records carry it too (an access log reads $ssl_*); 495-497
 *   go to JS (an error_page takes them)
 *   (options' 9th: 1 when ssl_stapling fetches, tls_ocsp_napi.c)
 *   tlsCertHook(fn)   fn(id, server, name, status): a handshake on a server whose options' 8th is 1
 *                     waits for its ssl_certificate_by_js (tls_cert.c; status: the client asked for
 *                     a staple); fn must not answer before it returns
 *   tlsCertDone(id, certPem | null, keyPem | null, why | null, ocspDer? | null) -> bool   the answer:
 *                     a pair, none, or a failure's reason, and the handler's staple; false when that
 *                     handshake is gone
 *   (tlsContext's 11th argument: ssl_conf_command's [name, value, name, value, ...], or left out)
 *   tlsConfCheck(client, [name, value, ...]) -> string | null   nginx's error for those commands on
 *                     a new server (client: true, client) context, or null when OpenSSL took them all
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "addon.h"
#include "tls.h"

#define MAX_PAIRS 8

static napi_env sni_env, cert_env;
static napi_ref sni_ref, cert_ref; /* tlsSni's and tlsCertHook's functions */

static napi_value fail(napi_env env, const char *msg)
{
    napi_throw_error(env, "TRESTY_ERR_ENGINE", msg);
    return NULL;
}

napi_value te_js_tls_built(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value r;
    napi_get_boolean(env, te_tls_built(), &r);
    return r;
}

static int pems(napi_env env, napi_value arr, const char **p, size_t *n, uint32_t *count)
{
    if (napi_get_array_length(env, arr, count) != napi_ok || *count > MAX_PAIRS) return -1;
    for (uint32_t i = 0; i < *count; i++) {
        napi_value v;
        if (napi_get_element(env, arr, i, &v) != napi_ok || te_arg_bytes(env, v, &p[i], &n[i]) < 0 || !p[i]) return -1;
    }
    return 0;
}

/* tlsContext's verify argument into v; 0 when it is null (no client certificates). */
static int verify_arg(napi_env env, napi_value arg, te_tls_verify_opts *v, int *has)
{
    napi_valuetype t;
    *has = 0;
    if (napi_typeof(env, arg, &t) != napi_ok) return -1;
    if (t == napi_null || t == napi_undefined) return 0;
    napi_value x[5];
    uint32_t n = 0, mode, depth;
    if (napi_get_array_length(env, arg, &n) != napi_ok || n != 5) return -1;
    for (uint32_t i = 0; i < 5; i++) if (napi_get_element(env, arg, i, &x[i]) != napi_ok) return -1;
    if (te_arg_u32(env, x[0], &mode) || te_arg_u32(env, x[1], &depth) || mode > 3 || te_arg_bytes(env, x[2], &v->ca, &v->ca_len)
        || te_arg_bytes(env, x[3], &v->trusted, &v->trusted_len) || te_arg_bytes(env, x[4], &v->crl, &v->crl_len)) return -1;
    v->mode = (int)mode;
    v->depth = (int)depth;
    *has = 1;
    return 0;
}

#define MAX_CONF 64 /* ssl_conf_command pairs of one context */

/* [name, value, ...] into `out` (pointers into `buf`, each NUL-terminated); -1 when malformed. */
static int conf_arg(napi_env env, napi_value arr, const char **out, uint32_t *pairs, char *buf, size_t cap)
{
    napi_valuetype t;
    uint32_t n = 0;
    size_t used = 0;
    *pairs = 0;
    if (napi_typeof(env, arr, &t) != napi_ok) return -1;
    if (t == napi_null || t == napi_undefined) return 0;
    if (napi_get_array_length(env, arr, &n) != napi_ok || n % 2 || n > 2 * MAX_CONF) return -1;
    for (uint32_t i = 0; i < n; i++) {
        napi_value v;
        size_t len;
        if (napi_get_element(env, arr, i, &v) != napi_ok || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok
            || len + 1 > cap - used || napi_get_value_string_utf8(env, v, buf + used, cap - used, &len) != napi_ok) return -1;
        out[i] = buf + used;
        used += len + 1;
    }
    *pairs = n / 2;
    return 0;
}

napi_value te_js_tls_conf_check(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2], r;
    bool client = false;
    const char *conf[2 * MAX_CONF];
    uint32_t n;
    static char buf[65536];
    char err[1024];
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, a[0], &client) != napi_ok
        || conf_arg(env, a[1], conf, &n, buf, sizeof buf) < 0)
        return fail(env, "tlsConfCheck(client, [name, value, ...])");
    if (te_tls_conf_check(client, conf, n, err, sizeof err) == 0) napi_get_null(env, &r);
    else napi_create_string_utf8(env, err, NAPI_AUTO_LENGTH, &r);
    return r;
}

napi_value te_js_tls_context(napi_env env, napi_callback_info info)
{
    size_t argc = 11;
    napi_value a[11];
    const char *conf[2 * MAX_CONF];
    static char confbuf[65536];
    te_tls_verify_opts vo;
    int has_verify = 0;
    memset(&vo, 0, sizeof vo);
    uint32_t server, nc = 0, nk = 0, nopt = 0, v[9] = { 0 };
    const char *certs[MAX_PAIRS], *keys[MAX_PAIRS], *tk = NULL;
    size_t clen[MAX_PAIRS], klen[MAX_PAIRS], tkn = 0;
    char ciphers[1024], curve[256], err[512];
    size_t sl;
    te_tls_opts o;
    memset(&o, 0, sizeof o);
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 8 || te_arg_u32(env, a[0], &server) ||
        pems(env, a[1], certs, clen, &nc) || pems(env, a[2], keys, klen, &nk) || nc != nk ||
        napi_get_array_length(env, a[3], &nopt) != napi_ok || nopt < 6 || nopt > 9 ||
        napi_get_value_string_utf8(env, a[4], ciphers, sizeof ciphers, &sl) != napi_ok ||
        napi_get_value_string_utf8(env, a[5], curve, sizeof curve, &sl) != napi_ok ||
        te_arg_bytes(env, a[6], &o.dh, &o.dh_len) || te_arg_bytes(env, a[7], &tk, &tkn) || (tk && tkn != 80) ||
        (argc > 8 && verify_arg(env, a[8], &vo, &has_verify)) || (argc > 9 && te_arg_bytes(env, a[9], &o.ocsp, &o.ocsp_len)) ||
        (argc > 10 && conf_arg(env, a[10], conf, &o.nconf, confbuf, sizeof confbuf)))
        return fail(env, "tlsContext(server, certs, keys, options, ciphers, curve, dh, ticketKeys, verify)");
    for (uint32_t i = 0; i < nopt; i++) {
        napi_value x;
        if (napi_get_element(env, a[3], i, &x) != napi_ok || te_arg_u32(env, x, &v[i])) return fail(env, "tlsContext: bad options");
    }
    o.min_version = (int)v[0];
    o.max_version = (int)v[1];
    o.prefer_server = (int)v[2];
    o.cache = (int)v[3];
    o.timeout_s = (int)v[4];
    o.tickets = (int)v[5];
    o.reject = (int)v[6];
    o.cert_js = (int)v[7];
    o.stapling = (int)v[8];
    o.ciphers = ciphers;
    o.curve = curve;
    o.ticket_keys = tk;
    o.verify = has_verify ? &vo : NULL;
    o.conf = conf;
    if (te_tls_context(server, certs, clen, keys, klen, nc, &o, err, sizeof err) < 0) return fail(env, err);
    return NULL;
}

napi_value te_js_tls_listener(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    uint32_t index, server;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || te_arg_u32(env, a[0], &index) || te_arg_u32(env, a[1], &server))
        return fail(env, "tlsListener(index, server)");
    te_engine *e = te_addon_engine();
    for (uint32_t i = 0; i < e->nlisteners; i++) {
        if (e->listeners[i].index == index) {
            if (te_tls_listener(i, server) < 0) return fail(env, "tlsListener: the server has no TLS context");
            return NULL;
        }
    }
    return fail(env, "tlsListener: no such listener");
}

/* Calls JS's fn(a, b, name) inside a handshake (the engine's pass, on the JS thread); 0 when it
   returned (its int32 answer in *out, when it gave one), -1 when it threw (cleared). */
/* fn(a, b, name[, flag]): `flag` < 0 passes no 4th argument */
static int call_js(napi_env env, napi_ref ref, uint32_t a, uint32_t b, const char *name, size_t len, int flag, int32_t *out)
{
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
    napi_value fn, recv, argv[4], res;
    napi_get_reference_value(env, ref, &fn);
    napi_get_undefined(env, &recv);
    argv[0] = te_num(env, a);
    argv[1] = te_num(env, b);
    napi_create_string_latin1(env, name, len, &argv[2]);
    if (flag >= 0) napi_get_boolean(env, flag != 0, &argv[3]);
    int ok = napi_call_function(env, recv, fn, flag >= 0 ? 4 : 3, argv, &res) == napi_ok;
    if (ok && out) napi_get_value_int32(env, res, out);
    if (!ok) {
        napi_value ex;
        napi_get_and_clear_last_exception(env, &ex);
    }
    napi_close_handle_scope(env, scope);
    return ok ? 0 : -1;
}

/* Asks JS for the server of an SNI name (a bad name keeps the default server). */
static int choose(uint32_t listener, uint32_t dname, const char *name, size_t len)
{
    if (!sni_ref) return -1;
    te_engine *e = te_addon_engine();
    int32_t srv = -1;
    call_js(sni_env, sni_ref, listener < e->nlisteners ? e->listeners[listener].index : 0, dname, name, len, -1, &srv);
    return srv;
}

/* Keeps the function argument of tlsSni / tlsCertHook (replacing the one kept before). */
int te_keep_fn(napi_env env, napi_callback_info info, napi_ref *ref, napi_env *at)
{
    size_t argc = 1;
    napi_value a[1];
    napi_valuetype t;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, a[0], &t) != napi_ok || t != napi_function)
        return -1;
    if (*ref) napi_delete_reference(env, *ref);
    napi_create_reference(env, a[0], 1, ref);
    *at = env;
    return 0;
}

napi_value te_js_tls_sni(napi_env env, napi_callback_info info)
{
    if (te_keep_fn(env, info, &sni_ref, &sni_env) < 0) return fail(env, "tlsSni(fn)");
    te_tls_set_sni(choose);
    return NULL;
}

napi_value te_js_tls_info(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], r;
    uint32_t id;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || te_arg_u32(env, a[0], &id))
        return fail(env, "tlsInfo(id)");
    te_conn *c = te_conn_get(te_addon_engine(), id);
    char buf[8192];
    uint32_t n = c ? te_tls_info(c, buf, sizeof buf) : 0;
    if (n == 0) {
        napi_get_null(env, &r);
        return r;
    }
    void *d;
    if (napi_create_buffer_copy(env, n, buf, &d, &r) != napi_ok) return NULL;
    return r;
}

napi_value te_js_tls_flags(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2];
    bool log = false, refusals = false;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_bool(env, a[0], &log) != napi_ok
        || napi_get_value_bool(env, a[1], &refusals) != napi_ok)
        return fail(env, "tlsFlags(logInfo, refusalsToJs)");
    te_tls_log_info = log;
    te_tls_refusals_js = refusals;
    return NULL;
}

/* Tells JS which certificate a handshake wants (a throw fails the handshake instead). */
static int ask_cert(uint32_t id, uint32_t server, const char *name, size_t len, int status)
{
    return cert_ref ? call_js(cert_env, cert_ref, id, server, name, len, status, NULL) : -1;
}

napi_value te_js_tls_cert_hook(napi_env env, napi_callback_info info)
{
    if (te_keep_fn(env, info, &cert_ref, &cert_env) < 0) return fail(env, "tlsCertHook(fn)");
    te_tls_set_cert(ask_cert);
    return NULL;
}

napi_value te_js_tls_cert_done(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value a[5], r;
    uint32_t id;
    const char *cert, *key, *ocsp = NULL;
    size_t clen, klen, olen = 0, wl = 0;
    char why[256];
    napi_valuetype t = napi_null;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 4 || te_arg_u32(env, a[0], &id) ||
        te_arg_bytes(env, a[1], &cert, &clen) || te_arg_bytes(env, a[2], &key, &klen) || napi_typeof(env, a[3], &t) != napi_ok ||
        (t == napi_string && napi_get_value_string_utf8(env, a[3], why, sizeof why, &wl) != napi_ok))
        return fail(env, "tlsCertDone(id, cert, key, why, ocsp)");
    /* the 5th, the handler's staple, may be left out */
    if (argc >= 5 && te_arg_bytes(env, a[4], &ocsp, &olen)) return fail(env, "tlsCertDone(id, cert, key, why, ocsp)");
    int ok = te_tls_cert_done(te_addon_engine(), id, cert, clen, key, klen, t == napi_string ? why : NULL,
                              (const unsigned char *)ocsp, olen) == 0;
    napi_get_boolean(env, ok, &r);
    return r;
}
