/*
 * One client connection of the UDS echo server: reads every frame that has
 * arrived, answers each with the shared echo logic into one output buffer,
 * and writes that buffer once per wakeup (pipelining with batched writes).
 * Frame: u32 little-endian payload length, then the payload.
 */
#ifndef TRESTY_UDS_CONN_H
#define TRESTY_UDS_CONN_H

#include "buf.h"

#include <stdint.h>

struct conn {
    int fd;
    uint32_t events; /* what epoll watches for now */
    struct buf in, out;
};

enum conn_state { CONN_OK, CONN_CLOSE };

/* Handles readiness; afterwards conn->events says what to wait for next. */
enum conn_state conn_on_readable(struct conn *c);
enum conn_state conn_on_writable(struct conn *c);
void conn_free(struct conn *c);

#endif
