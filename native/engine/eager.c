/*
 * eager.c: a small request body that came with its head goes to JS inside the REQ record. Most
 * POSTs are a few KB sent in one write with their head; asking for them separately (bodyStart,
 * one more engine round, one more call into JS, a promise per chunk) cost 25-40% of a GET
 * (bench/README.md, issue 10). Only a Content-Length body of at most TE_BODY_EAGER bytes is taken,
 * and only when it is already in the buffer or in the socket now: the engine then reads no more
 * than nginx's header buffer would have pre-read, and a client waiting for "100 Continue" or a
 * chunked body is still read only when JS asks (body.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "engine.h"
#include "tls.h"

/* The body bytes to deliver with the request being dispatched (0: JS asks for the body later).
   Called after the native routes declined it: a buffer moved by the read here is no harm then. */
uint32_t te_body_eager(te_conn *c)
{
    /* TRESTY_BODY_EAGER=0: every body waits for JS to ask (for A/B benchmarks, bench/http-ab-env.mjs) */
    static int on = -1;
    if (on < 0) {
        const char *v = getenv("TRESTY_BODY_EAGER");
        on = !(v && v[0] == '0');
    }
    if (!on) return 0;
    if (c->body != TE_BODY_WAIT || (c->flags & TE_C_CHUNKED) || c->body_left > TE_BODY_EAGER) return 0;
    uint32_t need = (uint32_t)c->body_left;
    uint32_t have = c->in_len - c->pos;
    if (have >= need) return need;
    if (c->flags & TE_C_CONTINUE) return 0; /* the client waits for our word before it sends */
    /* The rest was usually sent with the head and sits in the socket: one read, no waiting. An
       EOF or error is left for the event that reports it; partial bytes stay for body.c. */
    if (te_want_in(c, need - have) < 0) return 0;
    ssize_t n = te_io_recv(c, c->in + c->in_len, c->in_cap - c->in_len); /* TLS: what OpenSSL can decrypt now */
    if (n <= 0) return 0;
    c->in_len += (uint32_t)n;
    return c->in_len - c->pos >= need ? need : 0;
}

/* The REQ record carried the body: it counts as read. */
void te_body_taken(te_conn *c, uint32_t n)
{
    c->pos += n;
    c->body_left = 0;
    c->body = TE_BODY_DONE;
    c->flags &= ~TE_C_CONTINUE;
}
