/* filters.c: what a stock nginx.conf's output filters do to an answer the engine writes itself,
   as src/request/gzip.ts and src/phases/headers.ts do it in JS: gzip's tests (gzip.c compresses),
   charset's `; charset=X`, expires' two headers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "filters.h"
#include "pages.h"

const tr_http_header *te_req_header(te_conn *c, const char *name)
{
    size_t n = strlen(name);
    const char *h = c->in + c->req;
    for (uint32_t i = 0; i < c->head->req.nheaders; i++) {
        const tr_http_header *x = &c->head->hdrs[i];
        if (x->name.len == n && strncasecmp(h + x->name.off, name, n) == 0) return x;
    }
    return NULL;
}

/* Whether "type\n" is in a list of "type\n"s ("*\n": any type), comparing without parameters. */
static int listed(te_str list, const char *type)
{
    if (!type) return 0;
    size_t n = strcspn(type, ";");
    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t')) n--;
    if (n == 0) return 0;
    for (uint32_t i = 0; i < list.n;) {
        const char *nl = memchr(list.p + i, '\n', list.n - i);
        uint32_t k = nl ? (uint32_t)(nl - (list.p + i)) : list.n - i;
        if ((k == 1 && list.p[i] == '*') || (k == n && strncasecmp(list.p + i, type, n) == 0)) return 1;
        i += k + 1;
    }
    return 0;
}

/* gzip's first tests (status, length, type): on such an answer gzip_vary says Vary. */
static int considered(const te_loc *l, int status, const char *type, long long len)
{
    if (!(l->gz_flags & TE_GZ_ON) || (status != 200 && status != 403 && status != 404)) return 0;
    if (len >= 0 && len < (long long)l->gz_min) return 0;
    return listed(l->gz_types, type);
}

/* Accept-Encoding names gzip with a q other than 0 (as gzip.ts's acceptsGzip). */
static int accepts_gzip(const char *v, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint32_t end = i;
        while (end < n && v[end] != ',') end++;
        uint32_t a = i, b = end;
        const char *semi = memchr(v + a, ';', b - a);
        uint32_t nb = semi ? (uint32_t)(semi - v) : b;
        while (a < nb && (v[a] == ' ' || v[a] == '\t')) a++;
        uint32_t ne = nb;
        while (ne > a && (v[ne - 1] == ' ' || v[ne - 1] == '\t')) ne--;
        if (ne - a == 4 && strncasecmp(v + a, "gzip", 4) == 0) {
            /* its q: gzip;q=0, q=0.0, q=0.000 refuse it; anything else JS would read as non-zero
               is taken as "yes" here, which only sends the request to JS */
            for (uint32_t p = nb; p < b; p++) {
                if (v[p] != ';') continue;
                uint32_t s = p + 1;
                while (s < b && (v[s] == ' ' || v[s] == '\t')) s++;
                if (s + 1 < b && (v[s] == 'q' || v[s] == 'Q') && v[s + 1] == '=') {
                    uint32_t d = s + 2, z = d + 1;
                    if (d >= b || v[d] != '0') return 1;
                    if (z < b && v[z] == '.')
                        for (z++; z < b && v[z] == '0'; z++) {}
                    while (z < b && (v[z] == ' ' || v[z] == '\t')) z++;
                    return z != b;
                }
            }
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

/* MSIE 4 to 6 without SV1 (gzip_disable msie6). */
static int msie6(const char *ua, uint32_t n)
{
    for (uint32_t i = 0; i + 7 <= n; i++)
        if (memcmp(ua + i, "MSIE ", 5) == 0 && ua[i + 5] >= '4' && ua[i + 5] <= '6' && ua[i + 6] == '.') {
            for (uint32_t k = 0; k + 3 <= n; k++)
                if (memcmp(ua + k, "SV1", 3) == 0) return 0;
            return 1;
        }
    return 0;
}

int te_gzip_client(te_conn *c, const te_loc *l)
{
    const char *h = c->in + c->req;
    const tr_http_header *ae = te_req_header(c, "accept-encoding");
    if (!ae || !accepts_gzip(h + ae->value.off, ae->value.len)) return 0;
    if (!(l->gz_flags & TE_GZ_V10) && c->head->req.version < 1001) return 0;
    const tr_http_header *ua = te_req_header(c, "user-agent");
    if ((l->gz_flags & TE_GZ_MSIE6) && ua && msie6(h + ua->value.off, ua->value.len)) return 0;
    if (te_req_header(c, "via")) return (l->gz_flags & TE_GZ_PROXIED_OFF) ? 0 : 2;
    return 1;
}

int te_gzip_decide(te_conn *c, const te_loc *l, int status, const char *type, long long len)
{
    if (!considered(l, status, type, len)) return TE_GZ_NO;
    int ok = te_gzip_client(c, l);
    if (ok == 0) return TE_GZ_NO;
    /* the engine frames a compressed answer with chunks: a GET of HTTP/1.1, with a known client;
       a HEAD's head says gzip without a length (static_reply.c's te_send_gzip) */
    uint32_t m = c->head->req.method_id;
    if (ok == 2 || (m != TR_HTTP_M_GET && m != TR_HTTP_M_HEAD) || c->head->req.version < 1001) return TE_GZ_JS;
    return TE_GZ_HERE;
}

int te_vary_on(const te_loc *l, int status, const char *type, long long len)
{
    return (l->gz_flags & TE_GZ_VARY) && considered(l, status, type, len);
}

const char *te_charset_type(const te_loc *l, int status, const char *type, char *out, size_t cap)
{
    if (!type || l->charset.n == 0 || status == 301 || status == 302 || type[0] == '\0' || strcasestr(type, "charset=")) return type;
    if (!listed(l->charset_types, type)) return type;
    int n = snprintf(out, cap, "%s; charset=%.*s", type, (int)l->charset.n, l->charset.p);
    return n > 0 && (size_t)n < cap ? out : type;
}

int te_expires_lines(const te_loc *l, char *out, size_t cap)
{
    if (l->expires == TE_EXP_NONE) return 0;
    if (l->expires == TE_EXP_EPOCH) return snprintf(out, cap, "Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\nCache-Control: no-cache\r\n");
    if (l->expires == TE_EXP_MAX) return snprintf(out, cap, "Expires: Thu, 31 Dec 2037 23:55:55 GMT\r\nCache-Control: max-age=315360000\r\n");
    char at[64];
    time_t now = time(NULL);
    time_t t = now + l->expires_sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof at, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (l->expires_sec < 0) return snprintf(out, cap, "Expires: %s\r\nCache-Control: no-cache\r\n", at);
    return snprintf(out, cap, "Expires: %s\r\nCache-Control: max-age=%ld\r\n", at, (long)l->expires_sec);
}
