/* conn.h: what the files of a client connection share (conn.c: its states; conn_buffers.c: its
   memory; conn_read.c: its events; linger.c: its lingering close). */
#ifndef TRESTY_ENGINE_CONN_H
#define TRESTY_ENGINE_CONN_H
#include "engine.h"

#define IN_FIRST 4096
#define IN_BODY (64 * 1024)

/* conn.c: off the idle list (a request begins, or the connection closes) */
void te_conn_unidle(te_engine *e, te_conn *c);
/* conn_buffers.c */
void te_conn_free_request(te_conn *c);
void te_conn_release_buffers(te_conn *c);
int te_conn_head_state(te_conn *c);
/* linger.c: shut the write side and drop what still comes (te_linger_read) until the time is up */
void te_linger(te_engine *e, te_conn *c);
void te_linger_read(te_engine *e, te_conn *c);
#endif
