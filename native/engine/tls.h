/*
 * tls.h: TLS in the engine (tls.c). OpenSSL's headers at build time, Node's own OpenSSL at run
 * time: the addon links no libssl, its SSL_* symbols resolve to the ones the node binary exports,
 * so the process has one OpenSSL. Built with -DTE_NO_TLS when the headers are missing: then no
 * listener is TLS here and tresty keeps TLS on node:tls.
 *
 * One SSL_CTX per server block (by JS's server index); a TLS listener starts each handshake on
 * its default server's context and the SNI name moves it to the chosen server's (JS chooses, as
 * for Host). Reads and writes of every connection go through te_io_recv / te_io_send.
 */
#ifndef TRESTY_ENGINE_TLS_H
#define TRESTY_ENGINE_TLS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "engine.h"

/* ssl_verify_client and the PEM files it verifies with (tls_verify.c); mode OFF asks for nothing */
enum { TE_VERIFY_OFF = 0, TE_VERIFY_ON = 1, TE_VERIFY_OPTIONAL = 2, TE_VERIFY_OPTIONAL_NO_CA = 3 };
typedef struct te_tls_verify_opts {
    int mode, depth;
    const char *ca; size_t ca_len;           /* ssl_client_certificate: trusted and named to the client */
    const char *trusted; size_t trusted_len; /* ssl_trusted_certificate: trusted only */
    const char *crl; size_t crl_len;         /* ssl_crl */
} te_tls_verify_opts;

/* A server's TLS settings (tlsContext's options, in order). */
typedef struct te_tls_opts {
    int min_version, max_version; /* 0x0301..0x0304, 0 = OpenSSL's */
    int prefer_server, cache, timeout_s, tickets;
    int reject;                   /* ssl_reject_handshake on (the context may have no certificate) */
    const char *ciphers, *curve;  /* curve "auto" or "": OpenSSL's list */
    const char *dh; size_t dh_len;   /* PEM or NULL */
    const char *ticket_keys;         /* 80 bytes (name, HMAC, AES) or NULL */
    const te_tls_verify_opts *verify; /* NULL: no client certificates */
    const char *ocsp; size_t ocsp_len; /* ssl_stapling_file's DER response to staple, or NULL */
    int cert_js;                  /* the server has ssl_certificate_by_js (tls_cert.c) */
    int stapling;                 /* ssl_stapling on without a file: JS fetches (tls_ocsp.c) */
    const char *const *conf; uint32_t nconf; /* ssl_conf_command: nconf NAME, VALUE pairs (tls_conf.c) */
} te_tls_opts;

/* Chooses the server of an SNI name: its index, -1 (keep the default's context), or
   TE_TLS_REJECT (the server has ssl_reject_handshake on: the handshake is refused). */
#define TE_TLS_REJECT (-2)
typedef int (*te_tls_sni_fn)(uint32_t listener, uint32_t dname, const char *name, size_t len);

int te_tls_built(void);
/* Makes server `server`'s context. 0, or -1 with a message in err. */
int te_tls_context(uint32_t server, const char *const *certs, const size_t *cert_lens, const char *const *keys,
                   const size_t *key_lens, uint32_t npairs, const te_tls_opts *o, char *err, size_t cap);
/* Listener index `listener` (its place in te_engine.listeners) is TLS; `server`: its default. */
int te_tls_listener(uint32_t listener, uint32_t server);
void te_tls_set_sni(te_tls_sni_fn fn);

struct ssl_ctx_st;
struct ssl_st;
/* tls_cert.c: ssl_certificate_by_js. The hook asks JS for a handshake's certificate (0, or -1
   when it could not; `status`: the client asked for a staple); JS answers with te_tls_cert_done:
   a PEM pair, none (cert NULL: the context's stay) or a failure (`why`, the log line's reason),
   and the handler's staple (tresty/ocsp, or NULL). -1: no such handshake waits. */
typedef int (*te_tls_cert_fn)(uint32_t id, uint32_t server, const char *name, size_t len, int status);
void te_tls_set_cert(te_tls_cert_fn fn);
int te_tls_cert_done(te_engine *e, uint32_t id, const char *cert, size_t clen, const char *key, size_t klen, const char *why,
                     const unsigned char *ocsp, size_t olen);
int te_tls_cert_on(struct ssl_ctx_st *ctx, uint32_t server);
/* the session waits for JS's answer / JS failed it (the reason), else NULL */
int te_tls_cert_waiting(struct ssl_st *s);
/* JS's pair replaced the context's (ssl_stapling_file's response is not this certificate's) */
int te_tls_cert_chosen(struct ssl_st *s);
const char *te_tls_cert_failed(struct ssl_st *s);
/* the staple ssl_certificate_by_js set for this handshake (its session's), else NULL */
const unsigned char *te_tls_cert_staple(struct ssl_st *s, size_t *len);

/* tls_ocsp.c: ssl_stapling. A context's staples (a file's response, or fetching when `fetch`);
   0, or -1 and a message. The hook asks JS to fetch for certificate `slot` of `server` (its DER);
   JS answers with te_tls_staple_set: a response to staple until `valid` (der NULL: keep the one
   it had) and when to ask again (epoch seconds). */
typedef int (*te_tls_ocsp_fn)(uint32_t server, uint32_t slot, const unsigned char *der, size_t len);
void te_tls_set_ocsp(te_tls_ocsp_fn fn);
int te_tls_staple_on(struct ssl_ctx_st *ctx, uint32_t server, const char *file, size_t flen, int fetch, char *err, size_t cap);
/* the status callback on a context whose handshakes ssl_certificate_by_js may staple */
void te_tls_staple_js(struct ssl_ctx_st *ctx);
int te_tls_staple_set(uint32_t server, uint32_t slot, const unsigned char *der, size_t len, int64_t valid, int64_t refresh);
/* The DER OCSP request for a certificate and its issuer (PEM); *out is free()d by the caller. */
int te_ocsp_request(const char *cert, size_t clen, const char *issuer, size_t ilen, unsigned char **out, size_t *olen, char *err, size_t cap);
typedef struct te_ocsp_check_args {
    const char *resp; size_t resp_len;       /* the responder's DER answer */
    const char *cert; size_t cert_len;       /* the leaf (PEM) */
    const char *issuer; size_t issuer_len;   /* its issuer (PEM) */
    const char *chain; size_t chain_len;     /* ssl_certificate's file (leaf, then chain), or NULL */
    const char *trusted; size_t trusted_len; /* ssl_trusted_certificate (+ client CAs), or NULL */
    int verify;                              /* ssl_stapling_verify */
} te_ocsp_check_args;
/* nginx's checks of a response: 0 and its nextUpdate in *valid (INT64_MAX: none), or -1 and
   nginx's log text in err */
int te_ocsp_check(const te_ocsp_check_args *a, int64_t *valid, char *err, size_t cap);

/* tls_conf.c: ssl_conf_command's n NAME, VALUE pairs (conf[2i], conf[2i+1]) through SSL_CONF_cmd
   onto a context, as nginx applies them; 0, or -1 and nginx's words in err. _check does it on a
   new server (client: 1, a client) context, to know at load. */
struct ssl_ctx_st;
int te_tls_conf_apply(struct ssl_ctx_st *ctx, const char *const *conf, uint32_t n, char *err, size_t cap);
int te_tls_conf_check(int client, const char *const *conf, uint32_t n, char *err, size_t cap);

/* conn.c's hooks */
int te_tls_is(te_engine *e, te_conn *c);
int te_tls_accept(te_engine *e, te_conn *c);
/* 1: done; 0: waiting for the socket; -1: failed (logged; the caller closes) */
int te_tls_handshake(te_engine *e, te_conn *c);
/* 1 when OpenSSL holds read bytes the socket's readiness will not announce */
int te_tls_pending(te_conn *c);
/* close_notify (when `notify` and the session is sound), then frees the session */
void te_tls_end(te_conn *c, int notify);
/* close_notify only (a lingering close: the session stays until the socket closes) */
void te_tls_notify(te_conn *c);

/* tls_verify.c: client certificates on a context (0, or -1 and a message) and, on the SNI switch,
   the chosen context's verify settings onto the session */
int te_tls_verify(struct ssl_ctx_st *ctx, const te_tls_verify_opts *v, char *err, size_t cap);
void te_tls_verify_switch(struct ssl_st *s, struct ssl_ctx_st *x);
/* 495 / 496 when the request must be refused for its client certificate (`why`: the log line's
   reason), else 0 */
int te_tls_refusal(te_conn *c, char *why, size_t cap);
/* The session's $ssl_* material into buf: protocol, cipher, SNI name, reused (r / .), session id,
   curve, client verify, the verify result's number, the client's offered ciphers and curves
   ($ssl_ciphers, $ssl_curves), each ending in '\n', then the client
   certificate's DER; 0 when not TLS. */
uint32_t te_tls_info(te_conn *c, char *buf, uint32_t cap);
/* Set (tlsFlags) when an access log reads $ssl_*: LOG records then carry te_tls_info's bytes
   where a REQ's carry body bytes. */
extern int te_tls_log_info;
/* Set (tlsFlags) when an error_page takes 495-497: such a refusal goes to JS as a REQ whose
   REC_B says the status (te_conn.refused), for the error page to answer it. */
extern int te_tls_refusals_js;

ssize_t te_tls_recv(te_conn *c, char *p, size_t n);
ssize_t te_tls_send(te_conn *c, const char *p, size_t n);

/* recv / send, or their TLS versions on a TLS connection (same return and errno contract) */
static inline ssize_t te_io_recv(te_conn *c, char *p, size_t n)
{
    return c->ssl ? te_tls_recv(c, p, n) : recv(c->fd, p, n, 0);
}
static inline ssize_t te_io_send(te_conn *c, const char *p, size_t n)
{
    return c->ssl ? te_tls_send(c, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}
#endif
