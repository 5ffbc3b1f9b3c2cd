/*
 * static.c: answering from the native routes (route.h) what src/phases answers the same way
 * (static.ts and set.ts's `return`), so such requests never cross into JS: nginx's static module
 * (index files by internal redirect, 301 for a directory, 403/404/405, HEAD, ETag and
 * Last-Modified with a plain If-None-Match / If-Modified-Since, Accept-Ranges, types,
 * default_type); `return` is return.c's, the heads and pages both send static_reply.c's. Ranges
 * and the rarer preconditions are JS's (static-cond.ts). Anything it is not sure of goes to JS
 * instead (return 0), before a byte is written.
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
#include "pages.h"
#include "route.h"
#include "static_reply.h"
#include "tryfiles.h"

#define SMALL_FILE (64 * 1024) /* read with the head and sent in one write */
/* gzip compresses a file up to this whole, in one deflate on the engine's thread (~2 ms at level
   1); a bigger one goes to JS's filter, whose stream does it flush by flush */
#define GZIP_WHOLE_MAX (256 * 1024)

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

/* A file that could not be opened: 403 for a permission error, else 404, with nginx's line. */
static int open_failed(te_engine *e, te_conn *c, const te_loc *l, const char *file, int err)
{
    if (te_page_to_js(c, l, err == EACCES || err == EPERM ? 403 : 404)) return 0;
    if (err == EACCES || err == EPERM) {
        te_errlog(e, c, TE_LOG_ERROR, "open() \"%s\" failed (13: Permission denied)", file);
        return te_native_page(e, c, l, 403, NULL);
    }
    te_errlog(e, c, TE_LOG_ERROR, "open() \"%s\" failed (2: No such file or directory)", file);
    return te_native_page(e, c, l, 404, NULL);
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
        te_native_failed(e, c);
        return 1;
    }
    char own[256];
    if (l->flags & TE_LF_NOETAG) snprintf(own, sizeof own, "Last-Modified: %s\r\n", mtime);
    else snprintf(own, sizeof own, "Last-Modified: %s\r\nETag: W/%s\r\n", mtime, etag);
    int done = te_send_gzip(e, c, l, 200, type, own, buf, (size_t)size);
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
    if (l->action == TE_ACT_RETURN) return te_answer_return(e, c, l);
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
        case TE_TRY_CODE: return te_has_page((int)l->try_code) && l->try_code >= 400 ? te_native_page(e, c, l, (int)l->try_code, NULL) : 0;
        case TE_TRY_REDIRECT: return route_again(e, c, u, un, depth);
        default: return 0;
        }
    }
    if (depth < 0) depth = -1 - depth;
    /* nginx's: a POST is looked up as a GET (404, 403, 301, the index redirect) and refused
       only on a file found; other methods are refused at once */
    uint32_t m = c->head->req.method_id;
    if (m != TR_HTTP_M_GET && m != TR_HTTP_M_HEAD && m != TR_HTTP_M_POST) return te_native_page(e, c, l, 405, NULL);
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
                if (te_page_to_js(c, l, 403)) return 0;
                te_errlog(e, c, TE_LOG_ERROR, "directory index of \"%s\" is forbidden", file);
                return te_native_page(e, c, l, 403, NULL);
            }
            return te_native_page(e, c, l, 404, NULL);
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
        int ln = te_location_header(c, u, (uint32_t)un, loc, sizeof loc);
        if (ln < 0 || (size_t)ln >= sizeof loc) return 0;
        return te_native_page(e, c, l, 301, loc);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    if (m == TR_HTTP_M_POST) {
        close(fd);
        return te_native_page(e, c, l, 405, NULL);
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
        if (te_head_v(e, c, l, 304, NULL, -1, extra, NULL, svary ? 1 : -1, NULL, 0) < 0) {
            te_native_failed(e, c);
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
    if (te_head_v(e, c, l, 200, type, (long long)st.st_size, extra, gzs == TE_GZS_GZ ? NULL : "Accept-Ranges: bytes\r\n",
               svary ? 1 : gzs == TE_GZS_GZ ? 0 : -1, NULL, 0) < 0) {
        close(fd);
        te_native_failed(e, c);
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
            te_native_failed(e, c);
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
    int done = l->action == TE_ACT_RETURN ? te_answer_return(e, c, l) : serve(e, c, l, path, plen, 0);
    if (!done) c->flags &= ~TE_C_LOG;
    return done;
}
