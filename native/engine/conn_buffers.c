/*
 * conn_buffers.c: a connection's input buffer and head state, taken when a request begins and
 * given back when the connection goes idle, with a small cache of both (apart from conn.c: the
 * memory of a connection, not its states).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "conn.h"

void te_conn_free_request(te_conn *c)
{
    if (c->file_fd >= 0) close(c->file_fd);
    c->file_fd = -1;
    free(c->file_name);
    c->file_name = NULL;
}

/* A few released first-size input buffers and head states, so that a busy keep-alive connection
   does not malloc and free them for every request (nginx frees its header buffer when a connection
   goes idle, and so does the engine; the cache keeps that cheap). */
#define CACHE_MAX 64
static char *in_cache[CACHE_MAX];
static te_head *head_cache[CACHE_MAX];
static uint32_t nin_cache, nhead_cache;

void te_conn_release_buffers(te_conn *c)
{
    if (c->in && c->in_cap == IN_FIRST && nin_cache < CACHE_MAX) in_cache[nin_cache++] = c->in;
    else free(c->in);
    c->in = NULL;
    c->in_cap = c->in_len = c->req = c->pos = 0;
    if (c->head && c->head->cap == TE_HEADERS_FIRST && nhead_cache < CACHE_MAX) head_cache[nhead_cache++] = c->head;
    else free(c->head);
    c->head = NULL;
    if (c->out_off == c->out_len) {
        free(c->out);
        c->out = NULL;
        c->out_cap = c->out_len = c->out_off = 0;
    }
}

/* Room for `need` more bytes of input (grows the buffer up to what the state allows). */
int te_want_in(te_conn *c, uint32_t need)
{
    if (c->in_cap - c->in_len >= need) return 0;
    if (c->req > 0 && c->state == TE_HEAD) {
        /* a pipelined request: move it to the front */
        memmove(c->in, c->in + c->req, c->in_len - c->req);
        c->in_len -= c->req;
        c->pos -= c->req;
        c->req = 0;
        if (c->in_cap - c->in_len >= need) return 0;
    }
    if (!c->in && need <= IN_FIRST && nin_cache > 0) {
        c->in = in_cache[--nin_cache];
        c->in_cap = IN_FIRST;
        return 0;
    }
    uint32_t cap = c->in_cap ? c->in_cap : IN_FIRST;
    while (cap - c->in_len < need) cap *= 2;
    char *p = realloc(c->in, cap);
    if (!p) return -1;
    c->in = p;
    c->in_cap = cap;
    return 0;
}

/* A head state for the request about to be read: the connection's own, a cached one, or a new
   one with TE_HEADERS_FIRST slots. -1: out of memory. */
int te_conn_head_state(te_conn *c)
{
    if (!c->head && nhead_cache > 0) c->head = head_cache[--nhead_cache];
    if (!c->head) {
        c->head = malloc(sizeof *c->head + TE_HEADERS_FIRST * sizeof(tr_http_header));
        if (!c->head) return -1;
        c->head->cap = TE_HEADERS_FIRST;
    }
    return 0;
}
