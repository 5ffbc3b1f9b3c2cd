/*
 * parse_buffers.c: the limits a head is parsed under: nginx's defaults, and nginx's header
 * buffers as the state machine (parse.c) emulates them when it reaches a buffer's end.
 */
#include "parse_int.h"

#include <string.h>

void tr_http_limits_default(tr_http_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
    lim->header_buffer = 1024;
    lim->large_buffers = 4;
    lim->large_buffer_size = 8192;
    lim->max_headers = 1000;
    lim->underscores_in_headers = 0;
    lim->ignore_invalid_headers = 1;
}

/*
 * nginx's header buffers. The head is read into a client_header_buffer_size buffer; when one is
 * full and the head is not complete, nginx takes a large buffer (at most NUMBER of them) and
 * moves the line being read into it, which must have received less than SIZE bytes so far
 * (ngx_http_alloc_large_header_buffer). The parser scans no further than the current buffer's
 * end (bufend_), so a bad byte past it is never seen before nginx would refuse the size.
 * `start`: where the current line begins. Returns 0, or -1 when nginx would refuse.
 */
int trh_next_buffer(tr_http_req *r, const tr_http_limits *lim, uint32_t start)
{
    if (r->state_ == S_START) {
        /* a buffer filled with empty lines is emptied and reused */
        r->bufend_ += r->nbusy_ ? lim->large_buffer_size : lim->header_buffer;
        return 0;
    }
    if (start < r->bufend_ && r->bufend_ - start >= lim->large_buffer_size) return -1;
    if (r->nbusy_ >= lim->large_buffers) return -1;
    r->nbusy_++;
    r->bufend_ = start + lim->large_buffer_size;
    return 0;
}
