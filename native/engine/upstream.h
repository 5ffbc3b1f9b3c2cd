/*
 * upstream.h: upstream TCP sockets owned by the engine, as plain byte pipes (issue 14). JS keeps
 * all the protocol (parser, pool, timeouts); the engine connects, writes, reads and reports in the
 * same inbox batch as client requests, so a proxied answer is made inside the engine's pass and
 * goes out in its flush. Ids: slot | generation << 24, like client connections, in their own table.
 */
#ifndef TRESTY_ENGINE_UPSTREAM_H
#define TRESTY_ENGINE_UPSTREAM_H

#include <stdint.h>
#include "engine.h"

/* epoll data of an upstream socket: this tag | its id (client connections carry the bare id) */
#define TE_UP_TAG (1ull << 42) /* beside LISTENER_TAG (40) and TE_WATCH_TAG (41) */

/* Inbox records of upstream sockets (conn = the upstream's id) */
enum te_up_in {
    TE_IN_UP_CONNECT = 16, /* connected */
    TE_IN_UP_DATA = 17,    /* bytes read: u32 length at TE_DATA_LEN, the bytes at TE_DATA */
    TE_IN_UP_EOF = 18,     /* the server closed its side */
    TE_IN_UP_ERROR = 19,   /* b = errno; a = 1 while connecting, 2 on a write, 3 on a read */
    TE_IN_UP_DRAIN = 20    /* everything queued was written */
};

/* To an IP and port, or a unix socket's path (starting with '/', port unused): -errno, or the
   new socket's id (the connect completes with a CONNECT or ERROR record) */
int64_t te_up_connect(te_engine *e, const char *ip, int port);
/* Copies n bytes to the socket (now, or queued). Returns the bytes still queued, -1: unknown id. */
int64_t te_up_write(te_engine *e, uint32_t id, const char *p, uint32_t n);
void te_up_pause(te_engine *e, uint32_t id, int paused);
void te_up_close(te_engine *e, uint32_t id);
void te_up_close_all(te_engine *e);
uint32_t te_up_count(void);
void te_up_event(te_engine *e, uint32_t id, uint32_t events);

#endif
