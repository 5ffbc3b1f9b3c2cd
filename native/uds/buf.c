#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define BUF_KEEP (4u << 20) /* an idle connection keeps at most this much (a 1 MB frame fits) */

int buf_reserve(struct buf *b, size_t n)
{
    size_t need, ncap;
    char *nd;

    if (b->cap - b->len >= n) return 0;
    buf_compact(b);
    if (b->cap - b->len >= n) return 0;
    need = b->len + n;
    for (ncap = b->cap ? b->cap : 65536; ncap < need; ncap *= 2) {}
    if (!(nd = realloc(b->data, ncap))) return -1;
    b->data = nd;
    b->cap = ncap;
    return 0;
}

void buf_compact(struct buf *b)
{
    if (b->off == 0) return;
    if (b->off < b->len) memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
    if (b->len == 0 && b->cap > BUF_KEEP) buf_free(b);
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
