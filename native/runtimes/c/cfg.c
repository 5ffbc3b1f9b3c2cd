#include "cfg.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int parse_long(const char *s, size_t n, long *out)
{
    char buf[32];
    char *end;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtol(buf, &end, 10);
    return *end == '\0' ? 0 : -1;
}

long tr_cfg_int(const char *cfg, const char *key, long def, long min, long max)
{
    size_t klen = strlen(key);
    const char *p = cfg;
    long v;

    if (!cfg) return def;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq;

        while (n && isspace((unsigned char)*p)) { p++; n--; }
        eq = memchr(p, '=', n);
        if (eq && (size_t)(eq - p) == klen && memcmp(p, key, klen) == 0) {
            if (parse_long(eq + 1, n - klen - 1, &v) == 0 && v >= min && v <= max) return v;
            return def;
        }
        /* A bare number is the thread count, the common case for a one-knob cfg. */
        if (!eq && strcmp(key, "threads") == 0 && parse_long(p, n, &v) == 0
            && v >= min && v <= max)
            return v;
        if (!end) break;
        p = end + 1;
    }
    return def;
}
