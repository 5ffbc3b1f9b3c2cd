/* filters.h: the output filters of a native location (route.h's extras), per answer: gzip's
   decision, charset, expires (native/engine/filters.c). */
#ifndef TRESTY_ENGINE_FILTERS_H
#define TRESTY_ENGINE_FILTERS_H
#include <sys/stat.h>
#include "engine.h"
#include "route.h"

/* The request's first header of this (lower-case) name, or NULL. */
const tr_http_header *te_req_header(te_conn *c, const char *name);
/* What gzip does to an answer (`type` may be NULL, `len` -1 when unknown): TE_GZ_NO leaves it
   alone; TE_GZ_HERE: the engine compresses it (a GET of HTTP/1.1); TE_GZ_JS: only JS can (a HEAD,
   HTTP/1.0, a Via that gzip_proxied weighs against the answer), before anything is written. */
enum te_gz_decision { TE_GZ_NO = 0, TE_GZ_HERE = 1, TE_GZ_JS = 2 };
int te_gzip_decide(te_conn *c, const te_loc *l, int status, const char *type, long long len);
/* ngx_http_gzip_ok for this client: 0 never, 1 gzip, 2 maybe (a Via with gzip_proxied other
   than off: JS weighs it against the answer's headers). */
int te_gzip_client(te_conn *c, const te_loc *l);
/* gzip_static (TE_GZ_STATIC) for the file at `file`: TE_GZS_PLAIN serves the file, TE_GZS_GZ the
   regular file `file`.gz in its place (opened: *fd, its stat in *st, its path in gz[cap]),
   TE_GZS_JS leaves the request to JS. *vary: gzip_static says Vary (`on`, gzip_vary, FILE.gz is
   there) whichever is served. */
enum te_gzs { TE_GZS_PLAIN = 0, TE_GZS_GZ = 1, TE_GZS_JS = 2 };
int te_gzip_static(te_conn *c, const te_loc *l, const char *file, char *gz, size_t cap, int *fd, struct stat *st, int *vary);
/* The Content-Type the answer goes out with: `type` with charset's `; charset=X` when it applies
   (written to out), else `type` itself. A 301 or 302 keeps its type (nginx 1.22, observed). */
const char *te_charset_type(const te_loc *l, int status, const char *type, char *out, size_t cap);
/* Expires and Cache-Control for a status of add_header's list, as header lines; bytes written or -1. */
int te_expires_lines(const te_loc *l, char *out, size_t cap);
/* Whether gzip_vary's `Vary: Accept-Encoding` goes out: gzip considered the answer, gzip_vary is on. */
int te_vary_on(const te_loc *l, int status, const char *type, long long len);
#endif
