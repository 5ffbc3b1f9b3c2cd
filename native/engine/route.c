/* route.c: the native routes (route.h): reading the plan, finding a location as nginx does. */
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "route.h"

typedef struct rd { const char *p; uint32_t off, len; int bad; } rd;

static uint32_t u32(rd *r)
{
    if (r->bad || r->off + 4 > r->len) { r->bad = 1; return 0; }
    uint32_t v;
    memcpy(&v, r->p + r->off, 4);
    r->off += 4;
    return v;
}

static te_str str(rd *r)
{
    te_str s = { "", 0 };
    uint32_t n = u32(r);
    if (r->bad || r->off + n > r->len) { r->bad = 1; return s; }
    s.p = r->p + r->off;
    s.n = n;
    r->off += (n + 3) & ~3u;
    return s;
}

static const uint32_t *ids(rd *r, uint32_t n)
{
    if (r->bad || r->off + 4ull * n > r->len) { r->bad = 1; return NULL; }
    const uint32_t *p = (const uint32_t *)(r->p + r->off);
    r->off += 4 * n;
    return p;
}

void te_routes_free(struct te_routes *t)
{
    if (!t) return;
    if (t->locs)
        for (uint32_t i = 0; i < t->nlocs; i++) free(t->locs[i].index);
    free(t->locs);
    free(t->servers);
    free(t->ext);
    free(t->type);
    free(t->blob);
    free(t);
}

struct te_routes *te_routes_parse(const char *plan, uint32_t len)
{
    struct te_routes *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->blob = malloc(len ? len : 1);
    if (!t->blob) goto bad;
    memcpy(t->blob, plan, len);
    rd r = { t->blob, 0, len, 0 };
    if (u32(&r) != 1) goto bad;
    t->ntypes = u32(&r);
    if (t->ntypes > len) goto bad;
    t->ext = calloc(t->ntypes + 1, sizeof *t->ext);
    t->type = calloc(t->ntypes + 1, sizeof *t->type);
    if (!t->ext || !t->type) goto bad;
    for (uint32_t i = 0; i < t->ntypes; i++) {
        t->ext[i] = str(&r);
        t->type[i] = str(&r);
    }
    t->nlocs = u32(&r);
    if (t->nlocs > len) goto bad;
    t->locs = calloc(t->nlocs + 1, sizeof *t->locs);
    if (!t->locs) goto bad;
    for (uint32_t i = 0; i < t->nlocs && !r.bad; i++) {
        te_loc *l = &t->locs[i];
        l->id = i;
        l->kind = u32(&r);
        l->action = u32(&r);
        l->pattern = str(&r);
        l->has_regex = u32(&r);
        l->nchildren = u32(&r);
        l->children = ids(&r, l->nchildren);
        l->root = str(&r);
        l->nindex = u32(&r);
        if (l->nindex > 64) goto bad;
        l->index = calloc(l->nindex + 1, sizeof *l->index);
        if (!l->index) goto bad;
        for (uint32_t k = 0; k < l->nindex; k++) l->index[k] = str(&r);
        l->default_type = str(&r);
        l->flags = u32(&r);
        l->code = u32(&r);
        l->text = str(&r);
        l->keepalive = u32(&r);
        l->hdr_listed = str(&r);
        l->hdr_always = str(&r);
        l->gz_flags = u32(&r);
        l->gz_min = u32(&r);
        l->gz_level = u32(&r);
        if (l->gz_level > 9) goto bad;
        l->gz_types = str(&r);
        l->charset = str(&r);
        l->charset_types = str(&r);
        l->expires = u32(&r);
        l->expires_sec = (int32_t)u32(&r);
        l->ntry = u32(&r);
        l->try_args = ids(&r, l->ntry);
        l->try_code = u32(&r);
        l->try_uri = str(&r);
        l->max_body = u32(&r);
        for (uint32_t k = 0; k < l->nchildren && !r.bad; k++)
            if (l->children[k] >= t->nlocs) goto bad;
    }
    t->nservers = u32(&r);
    if (t->nservers > len) goto bad;
    t->servers = calloc(t->nservers + 1, sizeof *t->servers);
    if (!t->servers) goto bad;
    for (uint32_t i = 0; i < t->nservers && !r.bad; i++) {
        te_server *s = &t->servers[i];
        s->defaults = u32(&r);
        s->has_regex = u32(&r);
        s->ntop = u32(&r);
        s->top = ids(&r, s->ntop);
        s->name = str(&r);
        if (s->defaults >= t->nlocs) goto bad;
        for (uint32_t k = 0; k < s->ntop && !r.bad; k++)
            if (s->top[k] >= t->nlocs) goto bad;
    }
    if (r.bad) goto bad;
    return t;
bad:
    te_routes_free(t);
    return NULL;
}

/* One level of nginx's location search (src/http/locations.ts does the same in JS): an exact
   match ends it; else the longest prefix, whose nested locations are searched first; regexes of
   this level would come next unless the prefix is `^~`: then only JS can tell. */
static int find(const struct te_routes *t, const uint32_t *list, uint32_t n, uint32_t has_regex, const char *path,
                uint32_t len, const te_loc *current, const te_loc **out, int *final)
{
    *final = 0;
    *out = current;
    if (n == 0 && !has_regex) return 0;
    for (uint32_t i = 0; i < n; i++) {
        const te_loc *l = &t->locs[list[i]];
        if (l->kind == TE_K_EXACT && l->pattern.n == len && memcmp(l->pattern.p, path, len) == 0) {
            *out = l;
            *final = 1;
            return 0;
        }
    }
    int noregex = 0;
    for (uint32_t i = 0; i < n; i++) {
        const te_loc *l = &t->locs[list[i]];
        if (l->kind == TE_K_EXACT || l->pattern.n > len || memcmp(l->pattern.p, path, l->pattern.n) != 0) continue;
        noregex = l->kind == TE_K_NOREGEX;
        const te_loc *nested;
        int fin;
        if (find(t, l->children, l->nchildren, l->has_regex, path, len, l, &nested, &fin) < 0) return -1;
        if (fin) {
            *out = nested;
            *final = 1;
            return 0;
        }
        *out = nested;
        break;
    }
    if (!noregex && has_regex) return -1;
    return 0;
}

const te_loc *te_route_find(const struct te_routes *t, uint32_t s, const char *path, uint32_t len)
{
    if (!t || s >= t->nservers) return NULL;
    const te_server *srv = &t->servers[s];
    const te_loc *loc;
    int final;
    if (find(t, srv->top, srv->ntop, srv->has_regex, path, len, NULL, &loc, &final) < 0) return NULL;
    return loc ? loc : &t->locs[srv->defaults];
}

const te_str *te_mime(const struct te_routes *t, const char *name, uint32_t len)
{
    uint32_t dot = len;
    while (dot > 0 && name[dot - 1] != '.' && name[dot - 1] != '/') dot--;
    if (dot == 0 || name[dot - 1] != '.') return NULL;
    char ext[32];
    uint32_t n = len - dot;
    if (n == 0 || n >= sizeof ext) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        char ch = name[dot + i];
        ext[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    uint32_t lo = 0, hi = t->ntypes;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        const te_str *e = &t->ext[mid];
        uint32_t m = e->n < n ? e->n : n;
        int c = memcmp(e->p, ext, m);
        if (c == 0) c = e->n < n ? -1 : e->n > n ? 1 : 0;
        if (c == 0) return &t->type[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
