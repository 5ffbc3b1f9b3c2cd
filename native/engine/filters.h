/* filters.h: the output filters of a native location (route.h's extras), per answer: gzip's
   decision, charset, expires (native/engine/filters.c). */
#ifndef TRESTY_ENGINE_FILTERS_H
#define TRESTY_ENGINE_FILTERS_H
#include "engine.h"
#include "route.h"

/* 1 when gzip could compress this answer for this client: only JS compresses, so JS answers it
   (the caller has written nothing yet). `type` may be NULL. */
int te_gzip_to_js(te_conn *c, const te_loc *l, int status, const char *type, long long len);
/* The Content-Type the answer goes out with: `type` with charset's `; charset=X` when it applies
   (written to out), else `type` itself. A 301 or 302 keeps its type (nginx 1.22, observed). */
const char *te_charset_type(const te_loc *l, int status, const char *type, char *out, size_t cap);
/* Expires and Cache-Control for a status of add_header's list, as header lines; bytes written or -1. */
int te_expires_lines(const te_loc *l, char *out, size_t cap);
/* `Vary: Accept-Encoding` when gzip considered the answer and gzip_vary is on; bytes or -1. */
int te_vary_line(const te_loc *l, int status, const char *type, long long len, char *out, size_t cap);
#endif
