/* static_reply.h: the answers static.c and return.c both send (static_reply.c): heads with the
   location's own headers, nginx's pages, a body gzipped whole, an absolute Location. Each returns
   1 when the request was answered (or closed on an error), 0 when JS answers it instead, nothing
   written. */
#ifndef TRESTY_ENGINE_STATIC_REPLY_H
#define TRESTY_ENGINE_STATIC_REPLY_H
#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "route.h"

#define PATH_MAX_LEN 4096

/* The Location line for `loc` (made absolute as nginx's absolute_redirect); snprintf's result. */
int te_location_header(te_conn *c, const char *loc, uint32_t n, char *out, size_t cap);
/* The head: `extra` (the answer's own lines), expires' and add_header's lines, `tail`, `late`
   after Connection; gzip's lines apart: gzip_vary's (`vary_on`: 1 always, 0 never, -1 as the gzip
   filter considers the answer) and the filter's (`gz`, TE_GZL_*). -1 when it did not fit. */
int te_head_v(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, long long len, const char *extra, const char *tail,
              int vary_on, const char *late, int gz);
/* Whether gzip would compress an error page of this status where only JS can. */
int te_page_to_js(te_conn *c, const te_loc *l, int status);
/* An answer compressed here, whole; `own`: its own lines (Last-Modified, a weak ETag). */
int te_send_gzip(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, const char *own, const char *body, size_t n);
/* nginx's page for `status`: `extra` lines before Connection, `late` ones after it. */
int te_page_late(te_engine *e, te_conn *c, const te_loc *l, int status, const char *extra, const char *late);
/* return.c: the `return` of location l (static.c's internal redirects may end in one). */
int te_answer_return(te_engine *e, te_conn *c, const te_loc *l);

/* Inline: the pieces called on every native answer, as they were when all lived in static.c. */
static inline void te_native_failed(te_engine *e, te_conn *c)
{
    te_conn_close(e, c, TE_WHY_ERROR);
}

static inline int te_native_head(te_engine *e, te_conn *c, const te_loc *l, int status, const char *type, long long len, const char *extra,
                                 const char *tail)
{
    return te_head_v(e, c, l, status, type, len, extra, tail, -1, NULL, 0);
}

static inline int te_native_page(te_engine *e, te_conn *c, const te_loc *l, int status, const char *extra)
{
    return te_page_late(e, c, l, status, extra, NULL);
}
#endif
