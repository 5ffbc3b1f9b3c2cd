/*
 * static.c: answering from the native routes (route.h) what src/phases answers the same way
 * (static.ts and set.ts's `return`), so such requests never cross into JS: nginx's static module
 * (index files by internal redirect, 301 for a directory, 403/404/405, HEAD, ETag and
 * Last-Modified with a plain If-None-Match / If-Modified-Since, Accept-Ranges, types,
 * default_type) and `return`. Ranges and the rarer preconditions are JS's (static-cond.ts).
 * Anything it is not sure of goes to JS instead (return 0), before a byte is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine.h"
#include "filters.h"
#include "gzip.h"
#include "listen.h"
#include "pages.h"
#include "route.h"
#include "tryfiles.h"

#define SMALL_FILE (64 * 1024) /* read with the head and sent in one write */
/* gzip compresses a file up to this whole, in one deflate on the engine's thread (~2 ms at level
   1); a bigger one goes to JS's filter, whose stream does it flush by flush */
#define GZIP_WHOLE_MAX (256 * 1024)
#define PATH_MAX_LEN 4096

/* nginx's ETag: "mtime-size" in hex. */
static void hex_etag(char *out, unsigned long long mtime, unsigned long long size)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[40];
    int n = 0;
    out[n++] = '"';
    for (int pass = 0; pass < 2; pass++) {
        unsigned long long v = pass ? size : mtime;
        int k = 0;
        do { tmp[k++] = hex[v & 15]; v >>= 4; } while (v);
        while (k) out[n++] = tmp[--k];
        out[n++] = pass ? '"' : '-';
    }
    out[n] = '\0';
}

static int is_redirect(uint32_t code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static const tr_http_header *header(te_conn *c, uint32_t id)
{
    for (uint32_t i = 0; i < c->head->req.nheaders; i++)
        if (c->head->hdrs[i].id == id) return &c->head->hdrs[i];
    return NULL;
}

/* nginx's absolute_redirect: a Location starting with '/' gets http[s]://host[:port]: the Host
   header's name without its port (else the local address), and the port the request came in on
   unless it is 80 (port_in_redirect), as src/request/output.ts does. */
static int location_header(te_conn *c, const char *loc, uint32_t n, char *out, size_t cap)
{
    if (n == 0 || loc[0] != '/') return snprintf(out, cap, "Location: %.*s\r\n", (int)n, loc);
    const tr_http_header *host = header(c, TR_HTTP_H_HOST);
    const char *h = c->in + c->req;
    char addr[64];
    int port = te_local_port(c->fd, addr, sizeof addr);
    const char *name = addr;
    int len = (int)strlen(addr);
    if (host && host->value.len) {
        name = h + host->value.off;
        len = (int)host->value.len;
        const char *close = name[0] == '[' ? memchr(name, ']', (size_t)len) : NULL;
        const char *from = close ? close : name;
        const char *colon = memchr(from, ':', (size_t)(len - (from - name)));
        if (colon) len = (int)(colon - name);
    }
    const char *scheme = c->ssl ? "https" : "http"; /* a TLS connection: https, 443 left out */
    if (port == (c->ssl ? 443 : 80) || port < 0) return snprintf(out, cap, "Location: %s://%.*s%.*s\r\n", scheme, len, name, (int)n, loc);
    return snprintf(out, cap, "Location: %s://%.*s:%d%.*s\r\n", scheme, len, name, port, (int)n, loc);
}

static void failed(te_engine *e, te_conn *c)
{
    te_conn_close(e, c, TE_WHY_ERROR);
}

/* The Server header's and the pages' name for this location (server_tokens). */
static const char *loc_name(const te_loc *l)
{
    return te_software_for(l->flags & TE_LF_TOKENS);
}

/* add_header's constant headers of the location (native-plan.ts): those without `always` only on
   nginx's list of statuses. They follow the answer's own (Location, Last-Modified, ETag) and
   expires' two, and come before `tail` (Accept-Ranges), as nginx's headers filter puts them;
   gzip_vary's line comes last (`vary`: 1 always, 0 never, -1 as the gzip filter considers the
   answer). charset's `; charset=X` goes on the type (filters.c). */
static int head_v(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, long long len, const char *extra, const char *tail,
                  int vary_on, const char *late)
{
    const char *name = loc_name(l);
    if (l->hdr_listed.n == 0 && l->hdr_always.n == 0 && !tail && l->charset.n == 0 && l->expires == TE_EXP_NONE && l->gz_flags == 0)
        return te_answer_head(e, c, status, name, type, len, extra, late);
    int listed = status == 200 || status == 201 || status == 204 || status == 206 || status == 301 || status == 302
                 || status == 303 || status == 304 || status == 307 || status == 308;
    char ctype[512], exp[256] = "", vary[64] = "";
    const char *t = te_charset_type(l, status, type, ctype, sizeof ctype);
    if (listed && te_expires_lines(l, exp, sizeof exp) < 0) return -1;
    if (vary_on > 0) snprintf(vary, sizeof vary, "Vary: Accept-Encoding\r\n");
    else if (vary_on < 0 && te_vary_line(l, status, type, len, vary, sizeof vary) < 0) return -1;
    char all[PATH_MAX_LEN + 1024];
    int n = snprintf(all, sizeof all, "%s%s%.*s%.*s%s%s", extra ? extra : "", exp, listed ? (int)l->hdr_listed.n : 0, l->hdr_listed.p,
                     (int)l->hdr_always.n, l->hdr_always.p, tail ? tail : "", vary);
    if (n < 0 || (size_t)n >= sizeof all) return -1;
    return te_answer_head(e, c, status, name, t, len, all, late);
}

static int head(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, long long len, const char *extra, const char *tail)
{
    return head_v(e, c, l, status, type, len, extra, tail, -1, NULL);
}

/* Whether gzip would compress an error page of this status where only JS can: then JS answers
   (and logs) it. */
static int page_to_js(te_conn *c, const te_loc *l, int status)
{
    if (l->gz_flags == 0) return 0;
    char body[512];
    return te_gzip_decide(c, l, status, "text/html", te_page(status, loc_name(l), body, sizeof body)) == TE_GZ_JS;
}

/* An answer gzip compresses here (te_gzip_decide: TE_GZ_HERE): Content-Encoding, no length, the
   body as one chunk; `own` are the answer's own lines (Last-Modified, the ETag made weak). 0 when
   zlib failed: JS answers, nothing is written. */
static int send_gzip(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, const char *own, const char *body, size_t n)
{
    char extra[512];
    if (te_is_head(c)) {
        /* nothing to compress: the head says gzip, with neither length nor chunks (as nginx's) */
        int k = snprintf(extra, sizeof extra, "%sContent-Encoding: gzip\r\n", own ? own : "");
        c->status = (uint16_t)status;
        if (k < 0 || (size_t)k >= sizeof extra || head(e, c, l, status, type, -1, extra, NULL) < 0) {
            failed(e, c);
            return 1;
        }
        te_answer_go(e, c);
        return 1;
    }
    size_t zn;
    const char *z = te_gzip(body, n, (int)l->gz_level, &zn);
    if (!z) return 0;
    int k = snprintf(extra, sizeof extra, "%sContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", own ? own : "");
    if (k < 0 || (size_t)k >= sizeof extra) return 0;
    char size[24];
    int sn = snprintf(size, sizeof size, "%zx\r\n", zn);
    c->status = (uint16_t)status;
    /* length -1: gzip_vary's test sees an answer of unknown length, as nginx's after gzip */
    if (head(e, c, l, status, type, -1, extra, NULL) < 0 || te_queue(c, size, (uint32_t)sn) < 0 || te_queue(c, z, (uint32_t)zn) < 0
        || te_queue(c, "\r\n0\r\n\r\n", 7) < 0) {
        failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}

/* nginx's page for `status`; `extra` lines before Connection, `late` ones after it (its header
   list: a Location given as a URL) */
static int page_late(te_engine *e, te_conn *c, const te_loc *l, int status, const char *extra, const char *late)
{
    char body[512];
    int n = te_page(status, loc_name(l), body, sizeof body);
    int gz = l->gz_flags ? te_gzip_decide(c, l, status, "text/html", n) : TE_GZ_NO;
    if (gz == TE_GZ_JS) return 0;
    if (te_page_closes(status)) c->flags |= TE_C_CLOSE;
    /* a compressed page keeps its lines in one place (before Connection) */
    if (gz == TE_GZ_HERE) return send_gzip(e, c, l, status, "text/html", extra ? extra : late, body, (size_t)n);
    c->status = (uint16_t)status;
    if (head_v(e, c, l, status, "text/html", n, extra, NULL, -1, late) < 0 || (!te_is_head(c) && te_queue(c, body, (uint32_t)n) < 0)) {
        failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}

static int page(te_engine *e, te_conn *c, const te_loc *l, int status, const char *extra)
{
    return page_late(e, c, l, status, extra, NULL);
}

static int do_return(te_engine *e, te_conn *c, const te_loc *l)
{
    uint32_t code = l->code;
    int text = (l->flags & TE_LF_HAS_TEXT) != 0;
    char type[256];
    snprintf(type, sizeof type, "%.*s", (int)l->default_type.n, l->default_type.p);
    if (is_redirect(code) && text) {
        char loc[PATH_MAX_LEN + 256];
        int n = location_header(c, l->text.p, l->text.n, loc, sizeof loc);
        if (n < 0 || (size_t)n >= sizeof loc) return 0;
        /* nginx writes a Location it made absolute before Connection, one given as a URL after it */
        if (l->text.n > 0 && l->text.p[0] != '/') return page_late(e, c, l, (int)code, NULL, loc);
        return page(e, c, l, (int)code, loc);
    }
    /* nginx's not-modified filter applies to a 200 too (`If-None-Match: *` is a 304, If-Match /
       If-Unmodified-Since a 412): such a request goes to JS, which runs it (request/not-modified.ts) */
    if (code == 200 && (te_req_header(c, "if-none-match") || te_req_header(c, "if-match") || te_req_header(c, "if-unmodified-since"))) return 0;
    c->status = (uint16_t)code;
    if (code == 304) {
        /* nginx sends the default type and the text's length (0 without one), never a body */
        if (head(e, c, l, 304, type, text ? l->text.n : 0, NULL, NULL) < 0) {
            failed(e, c);
            return 1;
        }
    } else if (text) {
        int gz = l->gz_flags ? te_gzip_decide(c, l, (int)code, type, l->text.n) : TE_GZ_NO;
        if (gz == TE_GZ_JS) return 0;
        if (gz == TE_GZ_HERE) return send_gzip(e, c, l, (int)code, type, NULL, l->text.p, l->text.n);
        if (head(e, c, l, (int)code, type, l->text.n, NULL, NULL) < 0 || (!te_is_head(c) && te_queue(c, l->text.p, l->text.n) < 0)) {
            failed(e, c);
            return 1;
        }
    } else if ((code >= 400 || is_redirect(code)) && te_has_page((int)code)) {
        return page(e, c, l, (int)code, NULL);
    } else if (code >= 400) {
        /* nginx has no page for it (420, 509, 599...): no body, no type */
        if (head(e, c, l, (int)code, NULL, 0, NULL, NULL) < 0) {
            failed(e, c);
            return 1;
        }
    } else if (code == 204) {
        /* no type, no length */
        if (head(e, c, l, (int)code, NULL, -1, NULL, NULL) < 0) {
            failed(e, c);
            return 1;
        }
    } else if (head(e, c, l, (int)code, type, 0, NULL, NULL) < 0) {
        failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}

/* A file that could not be opened: 403 for a permission error, else 404, with nginx's line. */
static int open_failed(te_engine *e, te_conn *c, const te_loc *l, const char *file, int err)
{
    if (page_to_js(c, l, err == EACCES || err == EPERM ? 403 : 404)) return 0;
    if (err == EACCES || err == EPERM) {
        te_errlog(e, c, TE_LOG_ERROR, "open() \"%s\" failed (13: Permission denied)", file);
        return page(e, c, l, 403, NULL);
    }
    te_errlog(e, c, TE_LOG_ERROR, "open() \"%s\" failed (2: No such file or directory)", file);
    return page(e, c, l, 404, NULL);
}

/* A file gzip compresses (up to GZIP_WHOLE_MAX): read whole, sent compressed, its ETag made weak
   (nginx's gzip). */
static int send_gzip_file(te_engine *e, te_conn *c, const te_loc *l, int fd, const char *file, const char *type, const char *mtime,
                          const char *etag, off_t size)
{
    if (te_is_head(c)) size = 0; /* a HEAD's head only: the file is not read, whatever its size */
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf) return 0;
    ssize_t r = size > 0 ? pread(fd, buf, (size_t)size, 0) : 0;
    if (r != size) {
        te_errlog(e, c, TE_LOG_ALERT, "pread() read only %lld of %lld from \"%s\"", (long long)r, (long long)size, file);
        free(buf);
        failed(e, c);
        return 1;
    }
    char own[256];
    if (l->flags & TE_LF_NOETAG) snprintf(own, sizeof own, "Last-Modified: %s\r\n", mtime);
    else snprintf(own, sizeof own, "Last-Modified: %s\r\nETag: W/%s\r\n", mtime, etag);
    int done = send_gzip(e, c, l, 200, type, own, buf, (size_t)size);
    free(buf);
    return done;
}

static int serve(te_engine *e, te_conn *c, const te_loc *l, const char *uri, uint32_t ulen, int depth);

static int route_again(te_engine *e, te_conn *c, const char *uri, uint32_t ulen, int depth)
{
    const te_loc *l = te_route_find(e->routes, (uint32_t)e->listeners[c->listener].server, uri, ulen);
    if (!l || l->action == TE_ACT_JS || depth > 4) return 0;
    c->loc = l->id;
    c->ka_ms = l->keepalive;
    if (c->ka_ms == 0) c->flags &= ~TE_C_KEEPALIVE;
    if (l->flags & TE_LF_LOG) c->flags |= TE_C_LOG;
    else c->flags &= ~TE_C_LOG;
    if (l->action == TE_ACT_RETURN) return do_return(e, c, l);
    return serve(e, c, l, uri, ulen, depth + 1);
}

static int serve(te_engine *e, te_conn *c, const te_loc *l, const char *uri, uint32_t ulen, int depth)
{
    if (depth >= 0 && l->ntry) {
        /* try_files runs before the static module; depth < 0: this URI is try_files' own */
        char u[PATH_MAX_LEN];
        uint32_t un = 0;
        switch (te_try_files(l, uri, ulen, u, sizeof u, &un)) {
        case TE_TRY_FOUND: return serve(e, c, l, uri, ulen, -1 - depth);
        case TE_TRY_CODE: return te_has_page((int)l->try_code) && l->try_code >= 400 ? page(e, c, l, (int)l->try_code, NULL) : 0;
        case TE_TRY_REDIRECT: return route_again(e, c, u, un, depth);
        default: return 0;
        }
    }
    if (depth < 0) depth = -1 - depth;
    /* nginx's: a POST is looked up as a GET (404, 403, 301, the index redirect) and refused
       only on a file found; other methods are refused at once */
    uint32_t m = c->head->req.method_id;
    if (m != TR_HTTP_M_GET && m != TR_HTTP_M_HEAD && m != TR_HTTP_M_POST) return page(e, c, l, 405, NULL);
    char file[PATH_MAX_LEN];
    int n = snprintf(file, sizeof file, "%.*s%.*s", (int)l->root.n, l->root.p, (int)ulen, uri);
    if (n < 0 || (size_t)n >= sizeof file) return 0;
    struct stat st;
    if (uri[ulen - 1] == '/') {
        /* index files: the first that is a file is served by an internal redirect */
        for (uint32_t i = 0; i < l->nindex; i++) {
            char f[PATH_MAX_LEN];
            int k = snprintf(f, sizeof f, "%s%.*s", file, (int)l->index[i].n, l->index[i].p);
            if (k < 0 || (size_t)k >= sizeof f) return 0;
            if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
                char u[PATH_MAX_LEN];
                int un = snprintf(u, sizeof u, "%.*s%.*s", (int)ulen, uri, (int)l->index[i].n, l->index[i].p);
                if (un < 0 || (size_t)un >= sizeof u) return 0;
                return route_again(e, c, u, (uint32_t)un, depth);
            }
        }
        if (stat(file, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (page_to_js(c, l, 403)) return 0;
                te_errlog(e, c, TE_LOG_ERROR, "directory index of \"%s\" is forbidden", file);
                return page(e, c, l, 403, NULL);
            }
            return page(e, c, l, 404, NULL);
        }
        return open_failed(e, c, l, file, errno);
    }
    /* gzip_static: FILE.gz in FILE's place (its own length, time and ETag; FILE's type) */
    char gzpath[PATH_MAX_LEN + 4];
    int gzs = TE_GZS_PLAIN, svary = 0, fd = -1;
    if ((l->gz_flags & TE_GZ_STATIC) && m != TR_HTTP_M_POST) gzs = te_gzip_static(c, l, file, gzpath, sizeof gzpath, &fd, &st, &svary);
    if (gzs == TE_GZS_JS) return 0;
    if (gzs == TE_GZS_GZ) goto opened;
    fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return open_failed(e, c, l, file, errno);
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return open_failed(e, c, l, file, err);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        const tr_http_req *q = &c->head->req;
        char u[PATH_MAX_LEN + 8];
        int un = (q->flags & TR_HTTP_F_ARGS)
            ? snprintf(u, sizeof u, "%.*s/?%.*s", (int)ulen, uri, (int)q->query.len, c->in + c->req + q->query.off)
            : snprintf(u, sizeof u, "%.*s/", (int)ulen, uri);
        char loc[PATH_MAX_LEN + 300];
        if (un < 0 || (size_t)un >= sizeof u) return 0;
        int ln = location_header(c, u, (uint32_t)un, loc, sizeof loc);
        if (ln < 0 || (size_t)ln >= sizeof loc) return 0;
        return page(e, c, l, 301, loc);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    if (m == TR_HTTP_M_POST) {
        close(fd);
        return page(e, c, l, 405, NULL);
    }
opened:;
    const char *path = gzs == TE_GZS_GZ ? gzpath : file;
    char mtime[64], etag[64], extra[256];
    te_http_time(st.st_mtim.tv_sec, mtime, sizeof mtime);
    hex_etag(etag, (unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_size);
    const char *h = c->in + c->req;
    const tr_http_header *inm = te_req_header(c, "if-none-match");
    const tr_http_header *ims = te_req_header(c, "if-modified-since");
    /* The common conditional GET (our own ETag, or our own Last-Modified text) is answered here;
       ranges, If-Match / If-Unmodified-Since, both validators at once, tag lists, weak tags and
       dates written otherwise go to JS, which runs nginx's filters whole (phases/static-cond.ts). */
    int to_js = te_req_header(c, "range") || te_req_header(c, "if-match") || te_req_header(c, "if-unmodified-since") || (inm && ims);
    /* etag off, if_modified_since off | before: only an unconditional request is the engine's */
    if ((l->flags & (TE_LF_NOETAG | TE_LF_IMS_OFF | TE_LF_IMS_BEFORE)) && (inm || ims)) to_js = 1;
    int not_modified = 0;
    if (!to_js && inm) {
        const char *v = h + inm->value.off;
        not_modified = inm->value.len == strlen(etag) && memcmp(v, etag, inm->value.len) == 0;
        if (!not_modified && (memchr(v, ',', inm->value.len) || memchr(v, '*', inm->value.len) || (inm->value.len > 2 && v[0] == 'W' && v[1] == '/'))) to_js = 1;
    } else if (!to_js && ims) {
        not_modified = ims->value.len == strlen(mtime) && memcmp(h + ims->value.off, mtime, ims->value.len) == 0;
        if (!not_modified) to_js = 1;
    }
    if (to_js) {
        close(fd);
        return 0;
    }
    size_t ml = strlen(mtime), el = strlen(etag);
    memcpy(extra, "Last-Modified: ", 15);
    memcpy(extra + 15, mtime, ml);
    memcpy(extra + 15 + ml, "\r\nETag: ", 8);
    memcpy(extra + 23 + ml, etag, el);
    memcpy(extra + 23 + ml + el, "\r\n", 3);
    if (l->flags & TE_LF_NOETAG) memcpy(extra + 15 + ml, "\r\n", 3);
    if (not_modified) {
        close(fd);
        c->status = 304;
        if (head_v(e, c, l, 304, NULL, -1, extra, NULL, svary ? 1 : -1, NULL) < 0) {
            failed(e, c);
            return 1;
        }
        te_answer_go(e, c);
        return 1;
    }
    char type[256];
    const te_str *t = te_mime(e->routes, file, (uint32_t)n);
    if (t) snprintf(type, sizeof type, "%.*s", (int)t->n, t->p);
    else snprintf(type, sizeof type, "%.*s", (int)l->default_type.n, l->default_type.p);
    /* the gzip filter leaves FILE.gz alone (it has an encoding) */
    int gz = (l->gz_flags & TE_GZ_ON) && gzs != TE_GZS_GZ ? te_gzip_decide(c, l, 200, type, (long long)st.st_size) : TE_GZ_NO;
    if (gz != TE_GZ_NO) {
        /* gzip_static's Vary with the filter's: JS says it once */
        int done = gz == TE_GZ_HERE && !svary && (st.st_size <= GZIP_WHOLE_MAX || te_is_head(c))
                       ? send_gzip_file(e, c, l, fd, file, type, mtime, etag, st.st_size) : 0;
        close(fd);
        return done;
    }
    c->status = 200;
    if (gzs == TE_GZS_GZ) strcat(extra, "Content-Encoding: gzip\r\n");
    /* nginx's range filter announces ranges on a whole static file (not on a 304, not on FILE.gz);
       gzip_static's Vary, or the filter's when it considers the file */
    if (head_v(e, c, l, 200, type, (long long)st.st_size, extra, gzs == TE_GZS_GZ ? NULL : "Accept-Ranges: bytes\r\n",
               svary ? 1 : gzs == TE_GZS_GZ ? 0 : -1, NULL) < 0) {
        close(fd);
        failed(e, c);
        return 1;
    }
    if (te_is_head(c) || st.st_size == 0) {
        close(fd);
        te_answer_go(e, c);
        return 1;
    }
    if (st.st_size <= SMALL_FILE) {
        /* read now, sent with the head in one write */
        char *buf = te_reserve(c, (uint32_t)st.st_size);
        ssize_t r = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
        close(fd);
        if (r != st.st_size) {
            if (buf) te_errlog(e, c, TE_LOG_ALERT, "pread() read only %lld of %lld from \"%s\"", (long long)r, (long long)st.st_size, path);
            failed(e, c);
            return 1;
        }
        te_answer_go(e, c);
        return 1;
    }
    c->file_fd = fd;
    c->file_pos = 0;
    c->file_end = (uint64_t)st.st_size;
    c->file_name = strdup(path);
    if (l->flags & TE_LF_SENDFILE) c->flags |= TE_C_SENDFILE;
    te_answer_go(e, c);
    return 1;
}

int te_answer_native(te_engine *e, te_conn *c)
{
    te_listener *li = &e->listeners[c->listener];
    if (li->server < 0 || !e->routes) return 0;
    const tr_http_req *q = &c->head->req;
    /* not chunked, not HTTP/0.9, a path (normalised) */
    if ((q->flags & TR_HTTP_F_CHUNKED) || e->path_len == 0 || q->version == 9) return 0;
    const char *path = e->path;
    uint32_t plen = e->path_len;
    const te_loc *l = te_route_find(e->routes, (uint32_t)li->server, path, plen);
    if (!l || l->action == TE_ACT_JS) return 0;
    /* A body with its length within client_max_body_size (else JS's 413) and no 100-continue
       to answer: the answer goes without reading it and te_conn_finish drops it, as nginx's
       static module and `return` discard a body (a POST to a file: 405, keep-alive kept). */
    if ((q->flags & TR_HTTP_F_CONTENT_LENGTH) && q->content_length > 0
        && ((c->flags & TE_C_CONTINUE) || (l->max_body && q->content_length > l->max_body))) return 0;
    /* 444, 408, 499: nginx closes without an answer; JS does it (phases/run.ts) */
    if (l->action == TE_ACT_RETURN && (l->code == 444 || l->code == 408 || l->code == 499)) return 0;
    c->loc = l->id;
    c->ka_ms = l->keepalive;
    if (c->ka_ms == 0) c->flags &= ~TE_C_KEEPALIVE;
    if (l->flags & TE_LF_LOG) c->flags |= TE_C_LOG;
    int done = l->action == TE_ACT_RETURN ? do_return(e, c, l) : serve(e, c, l, path, plen, 0);
    if (!done) c->flags &= ~TE_C_LOG;
    return done;
}
