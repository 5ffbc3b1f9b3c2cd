#define _GNU_SOURCE /* accept4, strdup, S_ISSOCK even under -std=c11 */
#include "conn.h"

#include "echo_logic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FRAME (256u << 20)   /* larger lengths are a broken client: hang up */
#define OUT_HIGH (8u << 20)      /* stop reading while this much output is unsent */
#define READ_CHUNK 65536

static uint32_t get_u32le(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24;
}

static void put_u32le(char *p, uint32_t v)
{
    p[0] = (char)v; p[1] = (char)(v >> 8); p[2] = (char)(v >> 16); p[3] = (char)(v >> 24);
}

/* Answers every complete frame in c->in; leaves a partial one for later. */
static enum conn_state answer_frames(struct conn *c)
{
    while (c->in.len - c->in.off >= 4) {
        const char *p = c->in.data + c->in.off;
        uint32_t n = get_u32le(p);
        size_t rn;

        if (n > MAX_FRAME) return CONN_CLOSE;
        if (c->in.len - c->in.off < 4 + (size_t)n) {
            /* Room for the whole frame now, so it arrives with big reads. */
            return buf_reserve(&c->in, 4 + (size_t)n - (c->in.len - c->in.off)) ? CONN_CLOSE : CONN_OK;
        }
        rn = tr_echo_size(n);
        if (buf_reserve(&c->out, 4 + rn)) return CONN_CLOSE;
        p = c->in.data + c->in.off; /* unchanged: only out grew */
        put_u32le(c->out.data + c->out.len, (uint32_t)rn);
        tr_echo_into(p + 4, n, c->out.data + c->out.len + 4);
        c->out.len += 4 + rn;
        c->in.off += 4 + (size_t)n;
    }
    return CONN_OK;
}

/* Writes what it can; the rest waits for EPOLLOUT. */
static enum conn_state flush(struct conn *c)
{
    while (c->out.off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out.off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return CONN_CLOSE;
        }
    }
    buf_compact(&c->out);
    c->events = c->out.len == 0 ? EPOLLIN
              : c->out.len >= OUT_HIGH ? EPOLLOUT /* back-pressure: the client must read first */
              : EPOLLIN | EPOLLOUT;
    return CONN_OK;
}

enum conn_state conn_on_readable(struct conn *c)
{
    for (;;) {
        ssize_t r;
        if (buf_reserve(&c->in, READ_CHUNK)) return CONN_CLOSE;
        r = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
        if (r > 0) {
            c->in.len += (size_t)r;
            if (answer_frames(c) != CONN_OK) return CONN_CLOSE;
            buf_compact(&c->in);
            if (c->out.len >= OUT_HIGH) break; /* flush before reading more */
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        /* EOF or error: answer what was complete, then hang up. */
        flush(c);
        return CONN_CLOSE;
    }
    return flush(c);
}

enum conn_state conn_on_writable(struct conn *c)
{
    return flush(c);
}

void conn_free(struct conn *c)
{
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}
