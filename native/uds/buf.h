/* A growable byte buffer with a consumed prefix, for one direction of a connection. */
#ifndef TRESTY_UDS_BUF_H
#define TRESTY_UDS_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t off; /* bytes before off are consumed */
    size_t len; /* bytes before len are filled */
    size_t cap;
};

/* Makes room for at least n more bytes after len; 0 or -1 when out of memory. */
int buf_reserve(struct buf *b, size_t n);
/* Drops the consumed prefix; frees a large buffer once it is empty. */
void buf_compact(struct buf *b);
void buf_free(struct buf *b);

#endif
