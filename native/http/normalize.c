/*
 * normalize.c: nginx's URI normalisation for paths the parser flagged TR_HTTP_F_COMPLEX_URI:
 * %XX decoded (a decoded '/' or '.' counts as one), "." and ".." segments resolved, slashes
 * merged, the path cut at '#'. What nginx 1.22 refuses (%00, a bad escape, ".." above the root)
 * is refused here (test/fixtures/http-refusals.ts, target-*).
 */
#include "parse.h"

static int hex(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Where the last segment of out[0, n) starts (just after its '/'). */
static size_t seg_start(const char *out, size_t n)
{
    while (n > 0 && out[n - 1] != '/') n--;
    return n;
}

/* Resolves a "." or ".." final segment of out[0, *n); -1 when ".." climbs above the root. */
static int resolve_dots(char *out, size_t *n)
{
    size_t s = seg_start(out, *n), len = *n - s;
    if (len == 1 && out[s] == '.') {
        *n = s;
    } else if (len == 2 && out[s] == '.' && out[s + 1] == '.') {
        if (s < 2) return -1; /* only the root '/' before it */
        *n = seg_start(out, s - 1);
    }
    return 0;
}

int tr_http_normalize_path(const char *path, size_t len, char *out, int merge_slashes)
{
    const uint8_t *in = (const uint8_t *)path;
    size_t n = 0;
    if (len == 0 || in[0] != '/') out[n++] = '/'; /* absolute-form without a path */
    for (size_t i = 0; i < len;) {
        uint8_t c = in[i];
        if (c == '#') break;
        if (c == '%') {
            if (len - i < 3) return TR_HTTP_REFUSE;
            int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) return TR_HTTP_REFUSE;
            c = (uint8_t)(hi << 4 | lo);
            if (c == 0) return TR_HTTP_REFUSE;
            i += 3;
        } else {
            i++;
        }
        if (c != '/') {
            out[n++] = (char)c;
            continue;
        }
        size_t s = seg_start(out, n);
        if (n == s) { /* empty segment: "//" */
            if (!merge_slashes || n == 0) out[n++] = '/';
            continue;
        }
        size_t before = n;
        if (resolve_dots(out, &n) != 0) return TR_HTTP_REFUSE;
        if (n == before) out[n++] = '/';
    }
    if (n > 0 && resolve_dots(out, &n) != 0) return TR_HTTP_REFUSE;
    if (n == 0) out[n++] = '/';
    return (int)n;
}
