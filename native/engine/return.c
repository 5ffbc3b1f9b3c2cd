/*
 * return.c: the `return` directive of a native location (route.h), as src/phases/set.ts's: a
 * redirect with its Location, a text with the default type, nginx's page for an error status, or
 * a head alone (204, 304, a status nginx has no page for). A `return 200` with a precondition
 * (If-None-Match, If-Match, If-Unmodified-Since) goes to JS (return 0), which runs nginx's
 * not-modified filter on it.
 */
#include <stdio.h>
#include "engine.h"
#include "filters.h"
#include "pages.h"
#include "static_reply.h"

static int is_redirect(uint32_t code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

int te_answer_return(te_engine *e, te_conn *c, const te_loc *l)
{
    uint32_t code = l->code;
    int text = (l->flags & TE_LF_HAS_TEXT) != 0;
    char type[256];
    snprintf(type, sizeof type, "%.*s", (int)l->default_type.n, l->default_type.p);
    if (is_redirect(code) && text) {
        char loc[PATH_MAX_LEN + 256];
        int n = te_location_header(c, l->text.p, l->text.n, loc, sizeof loc);
        if (n < 0 || (size_t)n >= sizeof loc) return 0;
        /* nginx writes a Location it made absolute before Connection, one given as a URL after it */
        if (l->text.n > 0 && l->text.p[0] != '/') return te_page_late(e, c, l, (int)code, NULL, loc);
        return te_native_page(e, c, l, (int)code, loc);
    }
    /* nginx's not-modified filter applies to a 200 too (`If-None-Match: *` is a 304, If-Match /
       If-Unmodified-Since a 412): such a request goes to JS, which runs it (request/not-modified.ts) */
    if (code == 200 && (te_req_header(c, "if-none-match") || te_req_header(c, "if-match") || te_req_header(c, "if-unmodified-since"))) return 0;
    c->status = (uint16_t)code;
    if (code == 304) {
        /* nginx sends the default type and the text's length (0 without one), never a body */
        if (te_native_head(e, c, l, 304, type, text ? l->text.n : 0, NULL, NULL) < 0) {
            te_native_failed(e, c);
            return 1;
        }
    } else if (text) {
        int gz = l->gz_flags ? te_gzip_decide(c, l, (int)code, type, l->text.n) : TE_GZ_NO;
        if (gz == TE_GZ_JS) return 0;
        if (gz == TE_GZ_HERE) return te_send_gzip(e, c, l, (int)code, type, NULL, l->text.p, l->text.n);
        if (te_native_head(e, c, l, (int)code, type, l->text.n, NULL, NULL) < 0 || (!te_is_head(c) && te_queue(c, l->text.p, l->text.n) < 0)) {
            te_native_failed(e, c);
            return 1;
        }
    } else if ((code >= 400 || is_redirect(code)) && te_has_page((int)code)) {
        return te_native_page(e, c, l, (int)code, NULL);
    } else if (code >= 400) {
        /* nginx has no page for it (420, 509, 599...): no body, no type */
        if (te_native_head(e, c, l, (int)code, NULL, 0, NULL, NULL) < 0) {
            te_native_failed(e, c);
            return 1;
        }
    } else if (code == 204) {
        /* no type, no length */
        if (te_native_head(e, c, l, (int)code, NULL, -1, NULL, NULL) < 0) {
            te_native_failed(e, c);
            return 1;
        }
    } else if (te_native_head(e, c, l, (int)code, type, 0, NULL, NULL) < 0) {
        te_native_failed(e, c);
        return 1;
    }
    te_answer_go(e, c);
    return 1;
}
