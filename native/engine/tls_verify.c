/*
 * tls_verify.c: client certificates and what a request may read of its TLS session (tls.h).
 * A context with ssl_verify_client asks the client for a certificate and lets every handshake
 * through, as nginx does: the verdict (SSL_get_verify_result) is checked per request by
 * te_tls_refusal, which answers 495 / 496. te_tls_info gives the $ssl_* variables' raw material.
 */
#include <stdio.h>
#include <string.h>
#include "tls.h"

int te_tls_log_info, te_tls_refusals_js;

#ifdef TE_NO_TLS
int te_tls_refusal(te_conn *c, char *why, size_t cap) { (void)c; (void)why; (void)cap; return 0; }
uint32_t te_tls_info(te_conn *c, char *buf, uint32_t cap) { (void)c; (void)buf; (void)cap; return 0; }
#else
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

static int mode_idx = -1; /* the context's ssl_verify_client (TE_VERIFY_*), in its ex data */

/* nginx's: the handshake goes on whatever the chain is; the request is refused instead. */
static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok; (void)x;
    return 1;
}

/* Every certificate (and, with crls, every CRL) of a PEM into the context's store; with `names`,
   each certificate's subject also into the CA names the client is told. -1: none found / bad. */
static int load(SSL_CTX *ctx, const char *pem, size_t len, int names, int crls)
{
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) return -1;
    STACK_OF(X509_INFO) *all = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!all) return -1;
    int found = 0, ok = 1;
    for (int i = 0; ok && i < sk_X509_INFO_num(all); i++) {
        X509_INFO *it = sk_X509_INFO_value(all, i);
        if (it->x509) {
            ok = X509_STORE_add_cert(st, it->x509) == 1 && (!names || SSL_CTX_add_client_CA(ctx, it->x509) == 1);
            found++;
        }
        if (crls && it->crl) {
            ok = ok && X509_STORE_add_crl(st, it->crl) == 1;
            found++;
        }
    }
    sk_X509_INFO_pop_free(all, X509_INFO_free);
    return ok && found ? 0 : -1;
}

int te_tls_verify(SSL_CTX *ctx, const te_tls_verify_opts *v, char *err, size_t cap)
{
    if (!v || v->mode == TE_VERIFY_OFF) return 0;
    if (mode_idx < 0) mode_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ERR_clear_error();
    const char *what = NULL;
    if (v->ca && load(ctx, v->ca, v->ca_len, 1, 0) < 0) what = "ssl_client_certificate";
    else if (v->trusted && load(ctx, v->trusted, v->trusted_len, 0, 0) < 0) what = "ssl_trusted_certificate";
    else if (v->crl && load(ctx, v->crl, v->crl_len, 0, 1) < 0) what = "ssl_crl";
    if (what) {
        unsigned long e = ERR_peek_last_error();
        char why[200] = "no certificate or crl found";
        if (e) ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        snprintf(err, cap, "cannot use the %s file: %s", what, why);
        return -1;
    }
    if (v->crl) X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
    SSL_CTX_set_verify_depth(ctx, v->depth);
    SSL_CTX_set_ex_data(ctx, mode_idx, (void *)(intptr_t)v->mode);
    return 0;
}

void te_tls_verify_switch(SSL *s, SSL_CTX *x)
{
    /* SSL_set_SSL_CTX keeps the first context's verify settings: the SNI server's are wanted */
    SSL_set_verify(s, SSL_CTX_get_verify_mode(x), SSL_CTX_get_verify_callback(x));
    SSL_set_verify_depth(s, SSL_CTX_get_verify_depth(x));
}

/* The chain errors optional_no_ca lets through (nginx's list): a CA it does not know. */
static int no_ca(long rc)
{
    return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
           || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || rc == X509_V_ERR_CERT_UNTRUSTED
           || rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

int te_tls_refusal(te_conn *c, char *why, size_t cap)
{
    SSL *s = c->ssl;
    int mode = s && mode_idx >= 0 ? (int)(intptr_t)SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), mode_idx) : 0;
    if (mode == TE_VERIFY_OFF) return 0;
    long rc = SSL_get_verify_result(s);
    if (rc != X509_V_OK && (mode != TE_VERIFY_OPTIONAL_NO_CA || !no_ca(rc))) {
        snprintf(why, cap, "client SSL certificate verify error: (%ld:%s)", rc, X509_verify_cert_error_string(rc));
        return 495;
    }
    if (mode == TE_VERIFY_ON) {
        X509 *x = SSL_get1_peer_certificate(s);
        X509_free(x);
        if (!x) {
            snprintf(why, cap, "client sent no required SSL certificate");
            return 496;
        }
    }
    return 0;
}

/* A text field and its '\n'; 0 when it does not fit. */
static uint32_t field(char *buf, uint32_t cap, uint32_t n, const char *v)
{
    size_t len = v ? strlen(v) : 0;
    if (n + len + 1 > cap) return 0;
    for (size_t i = 0; i < len; i++) buf[n + i] = v[i] == '\n' ? ' ' : v[i];
    buf[n + len] = '\n';
    return n + (uint32_t)len + 1;
}

/* $ssl_ciphers: the ClientHello's cipher suites, OpenSSL's names, "0x...." for the ones it does not
   know; whole entries only, up to cap. */
static void offered_ciphers(SSL *s, char *out, size_t cap)
{
    const unsigned char *raw = NULL;
    size_t n = SSL_get0_raw_cipherlist(s, &raw) / 2, len = 0;
    out[0] = '\0';
    for (size_t i = 0; raw && i < n; i++) {
        const SSL_CIPHER *ci = SSL_CIPHER_find(s, raw + 2 * i);
        char hex[8];
        const char *name = ci ? SSL_CIPHER_get_name(ci) : NULL;
        if (!name) snprintf(hex, sizeof hex, "0x%02x%02x", raw[2 * i], raw[2 * i + 1]);
        int w = snprintf(out + len, cap - len, "%s%s", len ? ":" : "", name ? name : hex);
        if (w < 0 || (size_t)w >= cap - len) {
            out[len] = '\0';
            break;
        }
        len += (size_t)w;
    }
}

/* $ssl_curves: the client's supported groups, OpenSSL's short names or "0x...." */
static void offered_curves(SSL *s, char *out, size_t cap)
{
    int ids[64];
    int n = (int)SSL_get1_curves(s, NULL);
    size_t len = 0;
    out[0] = '\0';
    if (n <= 0 || n > 64 || SSL_get1_curves(s, ids) != n) return;
    for (int i = 0; i < n; i++) {
        const char *name = (ids[i] & TLSEXT_nid_unknown) ? NULL : OBJ_nid2sn(ids[i]);
        int w = name ? snprintf(out + len, cap - len, "%s%s", len ? ":" : "", name)
                     : snprintf(out + len, cap - len, "%s0x%04x", len ? ":" : "", ids[i] & 0xffff);
        if (w < 0 || (size_t)w >= cap - len) {
            out[len] = '\0';
            break;
        }
        len += (size_t)w;
    }
}

uint32_t te_tls_info(te_conn *c, char *buf, uint32_t cap)
{
    SSL *s = c->ssl;
    if (!s || (c->flags & TE_C_TLS_HS)) return 0;
    char sid[2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 1] = "", curve[16] = "", verify[160] = "NONE", rcs[24] = "0";
    SSL_SESSION *ss = SSL_get_session(s);
    unsigned idlen = 0;
    const unsigned char *id = ss ? SSL_SESSION_get_id(ss, &idlen) : NULL;
    for (unsigned i = 0; id && i < idlen && i < SSL_MAX_SSL_SESSION_ID_LENGTH; i++) snprintf(sid + 2 * i, 3, "%02x", id[i]);
    int nid = SSL_get_negotiated_group(s);
    const char *cn = nid > 0 && !(nid & TLSEXT_nid_unknown) ? OBJ_nid2sn(nid) : NULL;
    if (cn) snprintf(curve, sizeof curve, "%s", cn);
    else if (nid > 0) snprintf(curve, sizeof curve, "0x%04x", nid & 0xffff);
    X509 *peer = SSL_get1_peer_certificate(s);
    if (peer) {
        long rc = SSL_get_verify_result(s);
        snprintf(rcs, sizeof rcs, "%ld", rc);
        if (rc == X509_V_OK) snprintf(verify, sizeof verify, "SUCCESS");
        else snprintf(verify, sizeof verify, "FAILED:%s", X509_verify_cert_error_string(rc));
    }
    char ciphers[3072], curves[512];
    offered_ciphers(s, ciphers, sizeof ciphers);
    offered_curves(s, curves, sizeof curves);
    uint32_t n = 0;
    const char *v[10] = { SSL_get_version(s), SSL_get_cipher_name(s), SSL_get_servername(s, TLSEXT_NAMETYPE_host_name),
                          SSL_session_reused(s) ? "r" : ".", sid, curve, verify, rcs, ciphers, curves };
    for (int i = 0; i < 10 && (i == 0 || n > 0); i++) n = field(buf, cap, n, v[i]);
    if (n > 0 && peer) {
        int dlen = i2d_X509(peer, NULL);
        unsigned char *p = (unsigned char *)buf + n;
        if (dlen > 0 && n + (uint32_t)dlen <= cap && i2d_X509(peer, &p) == dlen) n += (uint32_t)dlen;
    }
    X509_free(peer);
    ERR_clear_error();
    return n;
}
#endif
