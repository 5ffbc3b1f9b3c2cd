/*
 * tls_conf.c: ssl_conf_command (tls.h). nginx hands each NAME VALUE to OpenSSL's SSL_CONF_cmd on
 * the context, after its other settings, so whatever OpenSSL's configuration commands can say
 * (Options, Ciphersuites, RecordPadding, ...) overrides the directives; this does the same, with
 * nginx's flags and its error words. te_tls_conf_check does it on a context made for the purpose,
 * so that a command's error is known at load (the node:tls paths and the proxy's client use it).
 */
#include <stdio.h>
#include <string.h>
#include "tls.h"

#ifdef TE_NO_TLS
int te_tls_conf_check(int client, const char *const *conf, uint32_t n, char *err, size_t cap)
{
    (void)client; (void)conf; (void)n;
    snprintf(err, cap, "built without OpenSSL's headers");
    return -1;
}
#else
#include <openssl/err.h>
#include <openssl/ssl.h>

/* nginx's ngx_ssl_error text: every error of the queue (oldest first), each with its data. */
static void queue_text(char *buf, size_t cap)
{
    size_t used = 0;
    const char *data;
    int flags;
    unsigned long e;
    buf[0] = '\0';
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        char one[256];
        ERR_error_string_n(e, one, sizeof one);
        int w = snprintf(buf + used, cap - used, "%s%s%s%s", used ? " " : "", one,
                         data && (flags & ERR_TXT_STRING) && *data ? ":" : "", data && (flags & ERR_TXT_STRING) ? data : "");
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
    ERR_clear_error();
}

int te_tls_conf_apply(SSL_CTX *ctx, const char *const *conf, uint32_t n, char *err, size_t cap)
{
    if (n == 0) return 0;
    SSL_CONF_CTX *cc = SSL_CONF_CTX_new();
    if (!cc) return snprintf(err, cap, "SSL_CONF_CTX_new() failed"), -1;
    /* nginx's flags, on both sides: file-style names (case-insensitive), the commands of servers and
       clients alike, certificates too (JS made relative file values absolute, as nginx does) */
    SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER | SSL_CONF_FLAG_CLIENT |
                                   SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
    ERR_clear_error();
    for (uint32_t i = 0; i < n; i++) {
        const char *name = conf[2 * i], *value = conf[2 * i + 1];
        if (SSL_CONF_cmd(cc, name, value) <= 0) {
            char why[768];
            queue_text(why, sizeof why);
            snprintf(err, cap, "SSL_CONF_cmd(\"%s\", \"%s\") failed (SSL: %s)", name, value, why);
            SSL_CONF_CTX_free(cc);
            return -1;
        }
    }
    int ok = SSL_CONF_CTX_finish(cc) == 1;
    if (!ok) {
        char why[768];
        queue_text(why, sizeof why);
        snprintf(err, cap, "SSL_CONF_finish() failed (SSL: %s)", why);
    }
    SSL_CONF_CTX_free(cc);
    return ok ? 0 : -1;
}

int te_tls_conf_check(int client, const char *const *conf, uint32_t n, char *err, size_t cap)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
    if (!ctx) return snprintf(err, cap, "SSL_CTX_new() failed"), -1;
    int r = te_tls_conf_apply(ctx, conf, n, err, cap);
    SSL_CTX_free(ctx);
    return r;
}
#endif
