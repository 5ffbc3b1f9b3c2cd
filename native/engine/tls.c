/*
 * tls.c: TLS sessions of the engine's connections (tls.h). The handshake is driven by the
 * connection's epoll readiness (WANT_READ / WANT_WRITE), then SSL_read / SSL_write take the
 * place of recv / send. OpenSSL's error queue is per thread and Node's crypto shares this thread:
 * it is cleared before each call and emptied after a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tls.h"

#ifdef TE_NO_TLS
int te_tls_built(void) { return 0; }
int te_tls_context(uint32_t server, const char *const *certs, const size_t *cert_lens, const char *const *keys,
                   const size_t *key_lens, uint32_t npairs, const te_tls_opts *o, char *err, size_t cap)
{
    (void)server; (void)certs; (void)cert_lens; (void)keys; (void)key_lens; (void)npairs; (void)o;
    snprintf(err, cap, "built without OpenSSL's headers");
    return -1;
}
int te_tls_listener(uint32_t listener, uint32_t server) { (void)listener; (void)server; return -1; }
void te_tls_set_sni(te_tls_sni_fn fn) { (void)fn; }
int te_tls_is(te_engine *e, te_conn *c) { (void)e; (void)c; return 0; }
int te_tls_accept(te_engine *e, te_conn *c) { (void)e; (void)c; return -1; }
int te_tls_handshake(te_engine *e, te_conn *c) { (void)e; (void)c; return -1; }
int te_tls_pending(te_conn *c) { (void)c; return 0; }
void te_tls_end(te_conn *c, int notify) { (void)c; (void)notify; }
void te_tls_notify(te_conn *c) { (void)c; }
ssize_t te_tls_recv(te_conn *c, char *p, size_t n) { (void)c; (void)p; (void)n; errno = EINVAL; return -1; }
ssize_t te_tls_send(te_conn *c, const char *p, size_t n) { (void)c; (void)p; (void)n; errno = EINVAL; return -1; }
#else
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include "pages.h"

static SSL_CTX **ctxs;  /* by server index */
static uint8_t *rejects; /* by server index: ssl_reject_handshake */
static uint32_t nctxs;
static uint32_t lsrv[TE_MAX_LISTENERS]; /* 1 + the listener's default server; 0: plain */
static te_tls_sni_fn sni;

int te_tls_built(void) { return 1; }
void te_tls_set_sni(te_tls_sni_fn fn) { sni = fn; }

static SSL_CTX *ctx_of(uint32_t server) { return server < nctxs ? ctxs[server] : NULL; }

/* The last OpenSSL error as nginx prints it: "error:...:reason" (queue emptied). */
static void ssl_error(char *buf, size_t cap)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0) last = e;
    if (last) ERR_error_string_n(last, buf, cap);
    else snprintf(buf, cap, "unknown error");
}

/* SNI: the server JS chooses for the name; its context replaces the default's (nginx's
   servername callback does the same). */
static int on_servername(SSL *s, int *alert, void *arg)
{
    (void)arg;
    const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    te_conn *c = SSL_get_app_data(s);
    if (!c) return SSL_TLSEXT_ERR_OK;
    /* no name: the server the handshake started on (te_tls_accept's) decides alone */
    uint32_t first = c->dname && ctx_of(c->dname - 1u) ? c->dname - 1u : lsrv[c->listener] - 1u;
    int srv = name && sni ? sni(c->listener, c->dname, name, strlen(name)) : -1;
    if ((srv == TE_TLS_REJECT) || (!name && first < nctxs && rejects[first])) {
        /* ssl_reject_handshake: nginx's alert; te_tls_handshake logs it */
        c->flags |= TE_C_TLS_REJECTED;
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    SSL_CTX *x = srv >= 0 ? ctx_of((uint32_t)srv) : NULL;
    if (x && x != SSL_get_SSL_CTX(s)) {
        SSL_set_SSL_CTX(s, x);
        SSL_set_options(s, SSL_CTX_get_options(x));
        te_tls_verify_switch(s, x);
    }
    return SSL_TLSEXT_ERR_OK;
}

/* ALPN: HTTP/1.1 only here (a listen with http2 stays on node:tls). */
static int on_alpn(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned inlen, void *arg)
{
    (void)s; (void)arg;
    static const unsigned char h1[] = "\x08http/1.1";
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, h1, sizeof h1 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* One pair: the certificate (then its chain) and the key, into the context's slot of its key type. */
static int use_pair(SSL_CTX *ctx, const char *cert, size_t clen, const char *key, size_t klen)
{
    BIO *b = BIO_new_mem_buf(cert, (int)clen);
    if (!b) return -1;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int ok = x && SSL_CTX_use_certificate(ctx, x) == 1;
    X509_free(x);
    while (ok) {
        X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (!ca) break;
        ok = SSL_CTX_add0_chain_cert(ctx, ca) == 1;
        if (!ok) X509_free(ca);
    }
    BIO_free(b);
    ERR_clear_error(); /* the chain loop ends on "no start line" */
    if (!ok) return -1;
    b = BIO_new_mem_buf(key, (int)klen);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    EVP_PKEY_free(k);
    BIO_free(b);
    return ok ? 0 : -1;
}

static int settings(SSL_CTX *ctx, const te_tls_opts *o)
{
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 (o->prefer_server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0) | (o->tickets ? 0 : SSL_OP_NO_TICKET));
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (o->min_version && !SSL_CTX_set_min_proto_version(ctx, o->min_version)) return -1;
    if (o->max_version && !SSL_CTX_set_max_proto_version(ctx, o->max_version)) return -1;
    if (o->ciphers && o->ciphers[0] && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1) return -1;
    if (o->curve && o->curve[0] && strcmp(o->curve, "auto") != 0 && SSL_CTX_set1_groups_list(ctx, o->curve) != 1) return -1;
    if (o->dh) {
        BIO *b = BIO_new_mem_buf(o->dh, (int)o->dh_len);
        EVP_PKEY *dh = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
        BIO_free(b);
        if (!dh || SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
            EVP_PKEY_free(dh);
            return -1;
        }
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tresty", 6);
    SSL_CTX_set_session_cache_mode(ctx, o->cache > 0 ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
    if (o->cache > 0) SSL_CTX_sess_set_cache_size(ctx, o->cache);
    SSL_CTX_set_timeout(ctx, o->timeout_s > 0 ? o->timeout_s : 300);
    if (o->tickets && o->ticket_keys && SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)o->ticket_keys, 80) != 1) return -1;
    if (!o->tickets && o->cache == 0) SSL_CTX_set_num_tickets(ctx, 0); /* nothing could resume them */
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
    return 0;
}

int te_tls_context(uint32_t server, const char *const *certs, const size_t *cert_lens, const char *const *keys,
                   const size_t *key_lens, uint32_t npairs, const te_tls_opts *o, char *err, size_t cap)
{
    if (server >= 0xffff) return snprintf(err, cap, "bad server index"), -1;
    if (server >= nctxs) {
        SSL_CTX **p = realloc(ctxs, (server + 1) * sizeof *p);
        if (!p) return snprintf(err, cap, "out of memory"), -1;
        memset(p + nctxs, 0, (server + 1 - nctxs) * sizeof *p);
        ctxs = p;
        uint8_t *r = realloc(rejects, server + 1);
        if (!r) return snprintf(err, cap, "out of memory"), -1;
        memset(r + nctxs, 0, server + 1 - nctxs);
        rejects = r;
        nctxs = server + 1;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int ok = ctx && settings(ctx, o) == 0;
    for (uint32_t i = 0; ok && i < npairs; i++) ok = use_pair(ctx, certs[i], cert_lens[i], keys[i], key_lens[i]) == 0;
    if (!ok) {
        ssl_error(err, cap);
        SSL_CTX_free(ctx);
        return -1;
    }
    if (te_tls_verify(ctx, o->verify, err, cap) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    if (te_tls_staple_on(ctx, server, o->ocsp, o->ocsp_len, o->stapling, err, cap) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    /* last, as nginx: the commands override the directives' settings */
    if (te_tls_conf_apply(ctx, o->conf, o->nconf, err, cap) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    if (o->cert_js && te_tls_cert_on(ctx, server) < 0) {
        SSL_CTX_free(ctx);
        return snprintf(err, cap, "out of memory"), -1;
    }
    SSL_CTX_free(ctxs[server]);
    ctxs[server] = ctx;
    rejects[server] = (uint8_t)!!o->reject;
    return 0;
}

int te_tls_listener(uint32_t listener, uint32_t server)
{
    if (listener >= TE_MAX_LISTENERS || !ctx_of(server)) return -1;
    lsrv[listener] = server + 1;
    return 0;
}

int te_tls_is(te_engine *e, te_conn *c) { (void)e; return c->listener < TE_MAX_LISTENERS && lsrv[c->listener] != 0; }

int te_tls_accept(te_engine *e, te_conn *c)
{
    (void)e;
    /* the default server of the address it came in on, else the listener's */
    SSL_CTX *x = c->dname ? ctx_of(c->dname - 1u) : NULL;
    if (!x) x = ctx_of(lsrv[c->listener] - 1u);
    SSL *s = x ? SSL_new(x) : NULL;
    if (!s || SSL_set_fd(s, c->fd) != 1) {
        SSL_free(s);
        ERR_clear_error();
        return -1;
    }
    SSL_set_app_data(s, c);
    SSL_set_accept_state(s);
    c->ssl = s;
    c->flags |= TE_C_TLS_HS;
    return 0;
}

static void want_out(te_engine *e, te_conn *c, int on)
{
    if (!!(c->flags & TE_C_EPOLLOUT) == on) return;
    if (on) c->flags |= TE_C_EPOLLOUT;
    else c->flags &= ~TE_C_EPOLLOUT;
    te_conn_interest(e, c);
}

/* The first byte not a TLS record's (nginx peeks at it too): the connection goes on as plain
   HTTP, so its request is read, answered with nginx's 497 page and logged (head.c). */
static int plain(te_conn *c)
{
    unsigned char b;
    if (recv(c->fd, &b, 1, MSG_PEEK) != 1 || b == 0x16 || b == 0x80) return 0;
    SSL_free(c->ssl);
    c->ssl = NULL;
    c->flags &= ~TE_C_TLS_HS;
    c->flags |= TE_C_TLS_PLAIN;
    return 1;
}

/* Waiting for ssl_certificate_by_js: OpenSSL is not asked again until JS answers (tls_cert.c
   wakes the connection), but a client that closed meanwhile is closed now. */
static int cert_wait(te_engine *e, te_conn *c)
{
    unsigned char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        want_out(e, c, 0);
        return 0;
    }
    if (n > 0) { /* more from the client before our answer: it waits in the socket */
        c->flags |= TE_C_NOREAD;
        c->flags &= ~TE_C_EPOLLOUT;
        te_conn_interest(e, c);
        return 0;
    }
    c->flags |= TE_C_TLS_DEAD;
    if (n == 0) te_errlog(e, c, TE_LOG_INFO, "peer closed connection in SSL handshake while SSL handshaking");
    else te_errlog(e, c, TE_LOG_INFO, "SSL_do_handshake() failed (%d: %s) while SSL handshaking", errno, strerror(errno));
    return -1;
}

int te_tls_handshake(te_engine *e, te_conn *c)
{
    SSL *s = c->ssl;
    if (te_tls_cert_waiting(s)) return cert_wait(e, c);
    if (SSL_get_rbio(s) && BIO_number_read(SSL_get_rbio(s)) == 0 && plain(c)) {
        want_out(e, c, 0);
        return 1;
    }
    ERR_clear_error();
    int r = SSL_do_handshake(s);
    if (r == 1) {
        c->flags &= ~TE_C_TLS_HS;
        want_out(e, c, 0);
        return 1;
    }
    int err = SSL_get_error(s, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_X509_LOOKUP) {
        want_out(e, c, err == SSL_ERROR_WANT_WRITE);
        return 0;
    }
    c->flags |= TE_C_TLS_DEAD;
    const char *failed = te_tls_cert_failed(s);
    if (failed) { /* as node:tls's front logs it */
        ERR_clear_error();
        te_errlog(e, c, TE_LOG_INFO, "SSL certificate selection failed (%s) while SSL handshaking", failed);
        return -1;
    }
    if (c->flags & TE_C_TLS_REJECTED) {
        ERR_clear_error();
        te_errlog(e, c, TE_LOG_INFO, "handshake rejected while SSL handshaking");
        return -1;
    }
    unsigned long first = ERR_peek_error();
    if (first == 0 && (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)) {
        if (errno == 0 || err == SSL_ERROR_ZERO_RETURN) te_errlog(e, c, TE_LOG_INFO, "peer closed connection in SSL handshake while SSL handshaking");
        else te_errlog(e, c, TE_LOG_INFO, "SSL_do_handshake() failed (%d: %s) while SSL handshaking", errno, strerror(errno));
        return -1;
    }
    char why[256];
    ssl_error(why, sizeof why);
    te_errlog(e, c, TE_LOG_INFO, "SSL_do_handshake() failed (SSL: %s) while SSL handshaking", why);
    return -1;
}

int te_tls_pending(te_conn *c) { return c->ssl && SSL_pending(c->ssl) > 0; }

/* What an SSL_read / SSL_write gave, as recv / send say it: WANT_* is EAGAIN; a failure marks the
   session dead (no close_notify after it) with `fail` as errno unless the socket gave one. */
static ssize_t io_result(te_conn *c, int r, int reading, int fail)
{
    if (r > 0) return r;
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (reading && err == SSL_ERROR_ZERO_RETURN) return 0; /* close_notify, or a bare EOF (IGNORE_UNEXPECTED_EOF) */
    c->flags |= TE_C_TLS_DEAD;
    ERR_clear_error();
    if (err != SSL_ERROR_SYSCALL || errno == 0 || errno == EAGAIN) errno = fail;
    return -1;
}

ssize_t te_tls_recv(te_conn *c, char *p, size_t n)
{
    ERR_clear_error();
    return io_result(c, SSL_read(c->ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n), 1, ECONNRESET);
}

ssize_t te_tls_send(te_conn *c, const char *p, size_t n)
{
    ERR_clear_error();
    return io_result(c, SSL_write(c->ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n), 0, EPIPE);
}

void te_tls_notify(te_conn *c)
{
    if (!c->ssl || (c->flags & (TE_C_TLS_HS | TE_C_TLS_DEAD | TE_C_TLS_NOTIFIED))) return;
    c->flags |= TE_C_TLS_NOTIFIED;
    ERR_clear_error();
    SSL_shutdown(c->ssl); /* one try: a full socket just drops it, as nginx's does */
    ERR_clear_error();
}

void te_tls_end(te_conn *c, int notify)
{
    if (!c->ssl) return;
    if (notify) te_tls_notify(c);
    SSL_free(c->ssl);
    ERR_clear_error();
    c->ssl = NULL;
}
#endif
