/*
 * tls_cert.c: ssl_certificate_by_js on the engine's TLS. A server with such a handler has a
 * certificate callback on its context (the SNI switch carries it over, as OpenSSL copies the
 * context's callbacks to the session): the first time the handshake reaches it, JS is asked
 * (connection id, server, SNI name) and the callback suspends the handshake (-1, which OpenSSL
 * reports as SSL_ERROR_WANT_X509_LOOKUP). JS runs the handler, which may await, and answers with
 * te_tls_cert_done: a pair to use, none (the context's certificates stay) or a failure. The
 * answer is applied to the session and the connection is woken through EPOLLOUT (a fresh
 * socket is writable), so the next pass resumes the handshake, where the callback now says
 * go on (1) or fail (0: OpenSSL's internal_error alert, as nginx's ssl_certificate_by_lua).
 *
 * A client that goes away meanwhile is closed as any other (the session and its state are freed
 * with it); JS's late answer then finds no connection of that id and is dropped. The handshake
 * stays bounded by the client_header_timeout the engine times every handshake with.
 *
 * The pairs are parsed once: a certificate store answers the same PEM many times, so parsed
 * certificates, chains and keys are kept by content (bounded, the least recently used dropped).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tls.h"

#ifdef TE_NO_TLS
void te_tls_set_cert(te_tls_cert_fn fn) { (void)fn; }
int te_tls_cert_done(te_engine *e, uint32_t id, const char *cert, size_t clen, const char *key, size_t klen, const char *why,
                     const unsigned char *ocsp, size_t olen)
{
    (void)e; (void)id; (void)cert; (void)clen; (void)key; (void)klen; (void)why; (void)ocsp; (void)olen;
    return -1;
}
#else
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

enum { CERT_WAIT = 1, CERT_DONE, CERT_FAIL };

/* A session's handler state: in its ex_data, freed with the session. */
typedef struct te_cert_state {
    int state;
    int chosen;    /* a pair from JS replaced the context's */
    char why[256]; /* CERT_FAIL: the log line's reason */
    unsigned char *ocsp; /* the handler's staple (tresty/ocsp's set_ocsp_status_resp), malloc */
    size_t olen;
} te_cert_state;

static int slot = -1;
static te_tls_cert_fn ask;

void te_tls_set_cert(te_tls_cert_fn fn) { ask = fn; }

static void state_free(void *parent, void *p, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (p) free(((te_cert_state *)p)->ocsp);
    free(p);
}

static te_cert_state *state_of(SSL *s) { return slot < 0 ? NULL : SSL_get_ex_data(s, slot); }

static int cert_cb(SSL *s, void *arg)
{
    te_cert_state *st = state_of(s);
    if (st) return st->state == CERT_DONE ? 1 : st->state == CERT_FAIL ? 0 : -1;
    te_conn *c = SSL_get_app_data(s);
    if (!c || !ask) return 1;
    st = calloc(1, sizeof *st);
    if (!st || SSL_set_ex_data(s, slot, st) != 1) {
        free(st);
        return 0;
    }
    st->state = CERT_WAIT;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    /* whether the client sent status_request, which set_ocsp_status_resp answers (OpenResty's) */
    int status = SSL_get_tlsext_status_type(s) == TLSEXT_STATUSTYPE_ocsp;
    if (ask(c->id, (uint32_t)(uintptr_t)arg, name ? name : "", name ? strlen(name) : 0, status) < 0) {
        st->state = CERT_FAIL;
        snprintf(st->why, sizeof st->why, "ssl_certificate_by_js could not start");
        return 0;
    }
    return -1;
}

int te_tls_cert_on(SSL_CTX *ctx, uint32_t server)
{
    if (slot < 0) slot = SSL_get_ex_new_index(0, NULL, NULL, NULL, state_free);
    if (slot < 0) return -1;
    SSL_CTX_set_cert_cb(ctx, cert_cb, (void *)(uintptr_t)server);
    te_tls_staple_js(ctx);
    return 0;
}

int te_tls_cert_waiting(SSL *s)
{
    te_cert_state *st = state_of(s);
    return st && st->state == CERT_WAIT;
}

int te_tls_cert_chosen(SSL *s)
{
    te_cert_state *st = state_of(s);
    return st && st->chosen;
}

const char *te_tls_cert_failed(SSL *s)
{
    te_cert_state *st = state_of(s);
    return st && st->state == CERT_FAIL ? st->why : NULL;
}

const unsigned char *te_tls_cert_staple(SSL *s, size_t *len)
{
    te_cert_state *st = state_of(s);
    if (!st || !st->ocsp) return NULL;
    *len = st->olen;
    return st->ocsp;
}

/* ---- parsed pairs, by content ---- */

#define CACHE_MAX 128

typedef struct te_pair {
    uint64_t hash, used;
    char *bytes; /* the certificate's PEM then the key's, to compare */
    size_t clen, klen;
    X509 *x;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
} te_pair;

static te_pair cache[CACHE_MAX];
static uint64_t ticks;

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

static void pair_free(te_pair *p)
{
    free(p->bytes);
    X509_free(p->x);
    sk_X509_pop_free(p->chain, X509_free);
    EVP_PKEY_free(p->key);
    memset(p, 0, sizeof *p);
}

/* The last OpenSSL error's reason, for the log line (queue emptied). */
static void reason(char *why, size_t cap, const char *what)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0) last = e;
    char r[200];
    if (last) ERR_error_string_n(last, r, sizeof r);
    else snprintf(r, sizeof r, "no PEM data");
    snprintf(why, cap, "cannot use the %s: %s", what, r);
}

static int parse(te_pair *p, const char *cert, size_t clen, const char *key, size_t klen, char *why, size_t cap)
{
    BIO *b = BIO_new_mem_buf(cert, (int)clen);
    p->x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!p->x) {
        BIO_free(b);
        return reason(why, cap, "certificate"), -1;
    }
    X509 *ca;
    while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!p->chain) p->chain = sk_X509_new_null();
        if (!p->chain || !sk_X509_push(p->chain, ca)) {
            X509_free(ca);
            BIO_free(b);
            return snprintf(why, cap, "out of memory"), -1;
        }
    }
    BIO_free(b);
    ERR_clear_error(); /* the chain loop ends on "no start line" */
    b = BIO_new_mem_buf(key, (int)klen);
    p->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!p->key) return reason(why, cap, "private key"), -1;
    if (X509_check_private_key(p->x, p->key) != 1) return reason(why, cap, "private key"), -1;
    return 0;
}

/* The pair for these bytes: cached, or parsed into the slot least recently used. */
static te_pair *pair_for(const char *cert, size_t clen, const char *key, size_t klen, char *why, size_t cap)
{
    uint64_t h = fnv(fnv(0xcbf29ce484222325ull, cert, clen) ^ clen, key, klen);
    te_pair *old = &cache[0];
    for (int i = 0; i < CACHE_MAX; i++) {
        te_pair *p = &cache[i];
        if (p->bytes && p->hash == h && p->clen == clen && p->klen == klen && memcmp(p->bytes, cert, clen) == 0
            && memcmp(p->bytes + clen, key, klen) == 0) {
            p->used = ++ticks;
            return p;
        }
        if (p->used < old->used) old = p;
    }
    pair_free(old);
    if (parse(old, cert, clen, key, klen, why, cap) < 0) {
        pair_free(old);
        return NULL;
    }
    if (!(old->bytes = malloc(clen + klen + 1))) {
        snprintf(why, cap, "out of memory");
        pair_free(old);
        return NULL;
    }
    memcpy(old->bytes, cert, clen);
    memcpy(old->bytes + clen, key, klen);
    old->hash = h;
    old->clen = clen;
    old->klen = klen;
    old->used = ++ticks;
    return old;
}

/* The pair replaces every certificate of the session (tresty/ssl's clear_certs + set_*). */
static int use(SSL *s, const te_pair *p, char *why, size_t cap)
{
    SSL_certs_clear(s);
    if (SSL_use_certificate(s, p->x) != 1 || SSL_use_PrivateKey(s, p->key) != 1 || (p->chain && SSL_set1_chain(s, p->chain) != 1)) {
        reason(why, cap, "certificate");
        return -1;
    }
    return 0;
}

int te_tls_cert_done(te_engine *e, uint32_t id, const char *cert, size_t clen, const char *key, size_t klen, const char *why,
                     const unsigned char *ocsp, size_t olen)
{
    te_conn *c = te_conn_get(e, id);
    te_cert_state *st = c && c->ssl && (c->flags & TE_C_TLS_HS) ? state_of(c->ssl) : NULL;
    if (!st || st->state != CERT_WAIT) return -1; /* gone (or closed and its slot reused) */
    ERR_clear_error();
    st->state = CERT_DONE;
    if (why) {
        snprintf(st->why, sizeof st->why, "%s", why);
        st->state = CERT_FAIL;
    } else if (cert && key) {
        const te_pair *p = pair_for(cert, clen, key, klen, st->why, sizeof st->why);
        if (!p || use(c->ssl, p, st->why, sizeof st->why) < 0) st->state = CERT_FAIL;
        st->chosen = 1;
    }
    /* kept for the status callback, which OpenSSL calls only when the client asked */
    if (st->state == CERT_DONE && ocsp && olen && (st->ocsp = malloc(olen)) != NULL) {
        memcpy(st->ocsp, ocsp, olen);
        st->olen = olen;
    }
    ERR_clear_error();
    /* wake it: the socket is writable, so the next pass takes the handshake up again */
    c->flags &= ~TE_C_NOREAD;
    c->flags |= TE_C_EPOLLOUT;
    te_conn_interest(e, c);
    return 0;
}
#endif
