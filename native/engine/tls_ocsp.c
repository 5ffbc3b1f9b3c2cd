/*
 * tls_ocsp.c: OCSP stapling on the engine's TLS (ssl_stapling). A context with stapling keeps a
 * staple per certificate (one per key type, as OpenSSL keeps them): ssl_stapling_file's response
 * for good, or the one JS fetched (src/tls/ocsp-*.ts), stapled while its nextUpdate lasts. As
 * nginx: a handshake that asks (status_request) once the refresh time is past asks JS to fetch,
 * one fetch at a time per certificate, and never waits for it (the staple goes to later ones).
 * The OCSP helpers JS fetches with are here too: OpenSSL builds the request and checks the
 * answer (DER, signatures, times); JS does the HTTP, the resolver, the timers and the log lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tls.h"

#ifdef TE_NO_TLS
void te_tls_set_ocsp(te_tls_ocsp_fn fn) { (void)fn; }
void te_tls_staple_js(struct ssl_ctx_st *ctx) { (void)ctx; }
int te_tls_staple_set(uint32_t server, uint32_t slot, const unsigned char *der, size_t len, int64_t valid, int64_t refresh)
{
    (void)server; (void)slot; (void)der; (void)len; (void)valid; (void)refresh;
    return -1;
}
int te_ocsp_request(const char *cert, size_t clen, const char *issuer, size_t ilen, unsigned char **out, size_t *olen, char *err, size_t cap)
{
    (void)cert; (void)clen; (void)issuer; (void)ilen; (void)out; (void)olen;
    return snprintf(err, cap, "built without OpenSSL's headers"), -1;
}
int te_ocsp_check(const te_ocsp_check_args *a, int64_t *valid, char *err, size_t cap)
{
    (void)a; (void)valid;
    return snprintf(err, cap, "built without OpenSSL's headers"), -1;
}
#else
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#define MAX_SLOTS 8

typedef struct te_staple {
    X509 *cert;
    unsigned char *der; /* the response to staple (malloc), or NULL */
    size_t len;
    int64_t valid, refresh; /* epoch seconds: staple until `valid`, ask JS again after `refresh` */
    int loading;            /* JS was asked and has not answered */
} te_staple;

typedef struct te_staples {
    uint32_t server;
    int fetch; /* ssl_stapling without a file: JS fetches */
    int n;
    te_staple one[MAX_SLOTS];
} te_staples;

static te_staples **by_server; /* the latest context's of each server (replaced ones are kept: their sessions may read them) */
static uint32_t nby;
static te_tls_ocsp_fn ask;

void te_tls_set_ocsp(te_tls_ocsp_fn fn) { ask = fn; }

static int on_status(SSL *s, void *arg)
{
    te_staples *st = arg;
    /* ssl_certificate_by_js's staple (tresty/ocsp) wins, as OpenResty's set_ocsp_status_resp */
    size_t jlen = 0;
    const unsigned char *js = te_tls_cert_staple(s, &jlen);
    if (js) {
        unsigned char *copy = OPENSSL_malloc(jlen);
        if (!copy) return SSL_TLSEXT_ERR_NOACK;
        memcpy(copy, js, jlen);
        if (SSL_set_tlsext_status_ocsp_resp(s, copy, (long)jlen) == 1) return SSL_TLSEXT_ERR_OK;
        OPENSSL_free(copy);
        return SSL_TLSEXT_ERR_NOACK;
    }
    /* a certificate ssl_certificate_by_js chose is not one of the conf's (nginx staples those) */
    if (!st || te_tls_cert_chosen(s)) return SSL_TLSEXT_ERR_NOACK;
    X509 *x = SSL_get_certificate(s);
    int i = 0;
    while (i < st->n && st->one[i].cert != x) i++;
    if (i == st->n) return SSL_TLSEXT_ERR_NOACK;
    te_staple *o = &st->one[i];
    int64_t now = (int64_t)time(NULL);
    int rc = SSL_TLSEXT_ERR_NOACK;
    if (o->der && o->valid >= now) {
        /* OpenSSL frees what it is given: a copy each time */
        unsigned char *copy = OPENSSL_malloc(o->len);
        if (copy) {
            memcpy(copy, o->der, o->len);
            if (SSL_set_tlsext_status_ocsp_resp(s, copy, (long)o->len) == 1) rc = SSL_TLSEXT_ERR_OK;
            else OPENSSL_free(copy);
        }
    }
    if (st->fetch && ask && !o->loading && o->refresh < now) {
        o->loading = 1;
        unsigned char *d = NULL;
        int n = i2d_X509(o->cert, &d);
        if (n <= 0 || ask(st->server, (uint32_t)i, d, (size_t)n) < 0) o->loading = 0;
        OPENSSL_free(d);
    }
    return rc;
}

int te_tls_staple_on(SSL_CTX *ctx, uint32_t server, const char *file, size_t flen, int fetch, char *err, size_t cap)
{
    if (!fetch && (!file || !flen)) return 0;
    if (server >= nby) {
        te_staples **p = realloc(by_server, (server + 1) * sizeof *p);
        if (!p) return snprintf(err, cap, "out of memory"), -1;
        memset(p + nby, 0, (server + 1 - nby) * sizeof *p);
        by_server = p;
        nby = server + 1;
    }
    te_staples *st = calloc(1, sizeof *st);
    if (!st) return snprintf(err, cap, "out of memory"), -1;
    st->server = server;
    st->fetch = fetch && !(file && flen);
    /* each certificate of the context (one per key type), as nginx staples each of the conf's */
    for (int r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); r == 1 && st->n < MAX_SLOTS;
         r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT)) {
        X509 *x = SSL_CTX_get0_certificate(ctx);
        if (!x) continue;
        te_staple *o = &st->one[st->n++];
        X509_up_ref(x);
        o->cert = x;
        if (!st->fetch) {
            if (!(o->der = malloc(flen))) return snprintf(err, cap, "out of memory"), -1;
            memcpy(o->der, file, flen);
            o->len = flen;
            o->valid = INT64_MAX; /* nginx: a file's response never expires */
            o->refresh = INT64_MAX;
        }
    }
    ERR_clear_error(); /* the walk ends on an empty slot */
    by_server[server] = st;
    SSL_CTX_set_tlsext_status_cb(ctx, on_status);
    SSL_CTX_set_tlsext_status_arg(ctx, st);
    return 0;
}

void te_tls_staple_js(SSL_CTX *ctx)
{
    /* ssl_stapling's callback (set first) serves both; else one without conf staples */
    int (*cb)(SSL *, void *) = NULL;
    SSL_CTX_get_tlsext_status_cb(ctx, &cb);
    if (!cb) SSL_CTX_set_tlsext_status_cb(ctx, on_status);
}

int te_tls_staple_set(uint32_t server, uint32_t slot, const unsigned char *der, size_t len, int64_t valid, int64_t refresh)
{
    te_staples *st = server < nby ? by_server[server] : NULL;
    if (!st || slot >= (uint32_t)st->n) return -1;
    te_staple *o = &st->one[slot];
    if (der && len) {
        unsigned char *copy = malloc(len);
        if (!copy) return -1;
        memcpy(copy, der, len);
        free(o->der);
        o->der = copy;
        o->len = len;
        o->valid = valid;
    }
    o->refresh = refresh;
    o->loading = 0;
    return 0;
}

static X509 *pem_x509(const char *p, size_t n)
{
    BIO *b = BIO_new_mem_buf(p, (int)n);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

/* Every certificate of a PEM text, appended to sk (skipping the first when `skip`). */
static void pem_all(STACK_OF(X509) *sk, const char *p, size_t n, int skip)
{
    BIO *b = p && n ? BIO_new_mem_buf(p, (int)n) : NULL;
    X509 *x;
    while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (skip-- > 0 || !sk_X509_push(sk, x)) X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error(); /* the loop ends on "no start line" */
}

/* OpenSSL's last reason as nginx appends it: " (SSL: error:...)" */
static void reason(char *err, size_t cap, const char *what)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0) last = e;
    char r[256] = "";
    if (last) ERR_error_string_n(last, r, sizeof r);
    if (last) snprintf(err, cap, "%s (SSL: %s)", what, r);
    else snprintf(err, cap, "%s", what);
}

int te_ocsp_request(const char *cert, size_t clen, const char *issuer, size_t ilen, unsigned char **out, size_t *olen, char *err, size_t cap)
{
    ERR_clear_error();
    X509 *c = pem_x509(cert, clen), *i = pem_x509(issuer, ilen);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = c && i ? OCSP_cert_to_id(NULL, c, i) : NULL;
    int ok = req && id && OCSP_request_add0_id(req, id) != NULL;
    if (!ok) OCSP_CERTID_free(id);
    unsigned char *d = NULL;
    int n = ok ? i2d_OCSP_REQUEST(req, &d) : -1;
    OCSP_REQUEST_free(req);
    X509_free(c);
    X509_free(i);
    if (n <= 0) return reason(err, cap, "OCSP_cert_to_id() failed"), -1;
    /* the caller frees with free() */
    *out = malloc((size_t)n);
    if (*out) memcpy(*out, d, (size_t)n);
    OPENSSL_free(d);
    *olen = (size_t)n;
    return *out ? 0 : (snprintf(err, cap, "out of memory"), -1);
}

static int64_t epoch(const ASN1_GENERALIZEDTIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return -1;
    return (int64_t)timegm(&tm);
}

int te_ocsp_check(const te_ocsp_check_args *a, int64_t *valid, char *err, size_t cap)
{
    ERR_clear_error();
    const unsigned char *p = (const unsigned char *)a->resp;
    OCSP_RESPONSE *rsp = d2i_OCSP_RESPONSE(NULL, &p, (long)a->resp_len);
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509 *c = pem_x509(a->cert, a->cert_len), *i = pem_x509(a->issuer, a->issuer_len);
    int rc = -1, n;
    ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
    if (!rsp) {
        reason(err, cap, "d2i_OCSP_RESPONSE() failed");
        goto done;
    }
    n = OCSP_response_status(rsp);
    if (n != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(err, cap, "OCSP response not successful (%d: %s)", n, OCSP_response_status_str(n));
        goto done;
    }
    if (!(basic = OCSP_response_get1_basic(rsp))) {
        reason(err, cap, "OCSP_response_get1_basic() failed");
        goto done;
    }
    if (!chain || !store || !c || !i) {
        reason(err, cap, "OCSP_cert_to_id() failed");
        goto done;
    }
    /* as nginx: the certificate file's chain is trusted as a signer, the trusted certificates
       verify the rest; without ssl_stapling_verify the signer's chain is not verified */
    pem_all(chain, a->chain, a->chain_len, 1);
    STACK_OF(X509) *trusted = sk_X509_new_null();
    pem_all(trusted, a->trusted, a->trusted_len, 0);
    for (int k = 0; trusted && k < sk_X509_num(trusted); k++) X509_STORE_add_cert(store, sk_X509_value(trusted, k));
    sk_X509_pop_free(trusted, X509_free);
    ERR_clear_error();
    if (OCSP_basic_verify(basic, chain, store, a->verify ? OCSP_TRUSTOTHER : OCSP_NOVERIFY) != 1) {
        reason(err, cap, "OCSP_basic_verify() failed");
        goto done;
    }
    if (!(id = OCSP_cert_to_id(NULL, c, i))) {
        reason(err, cap, "OCSP_cert_to_id() failed");
        goto done;
    }
    if (OCSP_resp_find_status(basic, id, &n, NULL, NULL, &thisupd, &nextupd) != 1) {
        snprintf(err, cap, "certificate status not found in the OCSP response");
        goto done;
    }
    if (n != V_OCSP_CERTSTATUS_GOOD) {
        snprintf(err, cap, "certificate status \"%s\" in the OCSP response", OCSP_cert_status_str(n));
        goto done;
    }
    if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1) {
        reason(err, cap, "OCSP_check_validity() failed");
        goto done;
    }
    *valid = nextupd ? epoch(nextupd) : INT64_MAX;
    if (*valid < 0) {
        snprintf(err, cap, "invalid nextUpdate time in certificate status");
        goto done;
    }
    rc = 0;
done:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(rsp);
    sk_X509_pop_free(chain, X509_free);
    X509_STORE_free(store);
    X509_free(c);
    X509_free(i);
    return rc;
}
#endif
