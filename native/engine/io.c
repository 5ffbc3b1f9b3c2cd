/*
 * io.c: the output side. Each connection queues the bytes it could not write at once (out), then
 * an optional file range (the engine's static answers, with sendfile or pread). JS's answers
 * arrive as outbox records (layout.h), written when JS's batch returns or when it calls flush().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include "engine.h"
#include "tls.h"

#define FILE_CHUNK (64 * 1024)

uint32_t te_queued(te_conn *c)
{
    uint64_t q = (uint64_t)(c->out_len - c->out_off) + (c->file_fd >= 0 ? c->file_end - c->file_pos : 0);
    return q > 0xffffffffu ? 0xffffffffu : (uint32_t)q;
}

static int reserve(te_conn *c, uint32_t n)
{
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n <= c->out_cap) return 0;
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_len + n <= c->out_cap) return 0;
    }
    uint32_t cap = c->out_cap ? c->out_cap : 1024;
    while (cap < c->out_len + n) cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p) return -1;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

char *te_reserve(te_conn *c, uint32_t n)
{
    if (reserve(c, n) < 0) return NULL;
    char *p = c->out + c->out_len;
    c->out_len += n;
    return p;
}

int te_queue(te_conn *c, const char *p, uint32_t n)
{
    if (reserve(c, n) < 0) return -1;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static void wrote(te_engine *e, te_conn *c, uint64_t n)
{
    uint64_t h = n < c->out_head ? n : c->out_head;
    c->out_head -= (uint32_t)h;
    c->head_sent += h;
    c->sent += n - h;
    if (c->timer == TE_T_SEND) te_timer_set(e, c, TE_T_SEND, te_set(e, c)->send_timeout);
}

/* The file shrank while it was sent: nginx's alert, then the connection is closed (the client
   sees a body shorter than its Content-Length, never the next answer inside it). */
static int truncated(te_engine *e, te_conn *c, const char *how, long long got, unsigned long long want)
{
    if (how[0] == 's')
        te_errlog(e, c, TE_LOG_ALERT, "sendfile() reported that \"%s\" was truncated at %llu while sending response to client",
                  c->file_name ? c->file_name : "", (unsigned long long)c->file_pos);
    else
        te_errlog(e, c, TE_LOG_ALERT, "pread() read only %lld of %llu from \"%s\" while sending response to client", got, want,
                  c->file_name ? c->file_name : "");
    return -1;
}

/* Writes what is queued. 1: all written; 0: the socket is full (EPOLLOUT armed); -1: error. */
int te_write_out(te_engine *e, te_conn *c)
{
    for (;;) {
        if (c->out_off < c->out_len) {
            ssize_t n = te_io_send(c, c->out + c->out_off, c->out_len - c->out_off);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                return -1;
            }
            c->out_off += (uint32_t)n;
            wrote(e, c, (uint64_t)n);
            if (c->out_off < c->out_len) break;
            c->out_off = c->out_len = 0;
        }
        if (c->file_fd < 0 || c->file_pos >= c->file_end) break;
        uint64_t want = c->file_end - c->file_pos;
        if ((c->flags & TE_C_SENDFILE) && !c->ssl) { /* TLS: pread, then SSL_write */
            off_t off = (off_t)c->file_pos;
            ssize_t n = sendfile(c->fd, c->file_fd, &off, want > (1u << 20) ? (1u << 20) : (size_t)want);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) break;
                return -1;
            }
            if (n == 0) return truncated(e, c, "sendfile", 0, want);
            c->file_pos += (uint64_t)n;
            wrote(e, c, (uint64_t)n);
            continue;
        }
        uint32_t chunk = want > FILE_CHUNK ? FILE_CHUNK : (uint32_t)want;
        if (reserve(c, chunk) < 0) return -1;
        ssize_t n = pread(c->file_fd, c->out + c->out_len, chunk, (off_t)c->file_pos);
        if (n < (ssize_t)chunk) return truncated(e, c, "pread", n < 0 ? -1 : (long long)n, chunk);
        c->out_len += chunk;
        c->file_pos += chunk;
    }
    if (te_queued(c) == 0) {
        if (c->file_fd >= 0) {
            close(c->file_fd);
            c->file_fd = -1;
        }
        if (c->flags & TE_C_EPOLLOUT) {
            c->flags &= ~TE_C_EPOLLOUT;
            te_conn_interest(e, c);
        }
        if (c->timer == TE_T_SEND) te_timer_clear(e, c);
        return 1;
    }
    if (!(c->flags & TE_C_EPOLLOUT)) {
        c->flags |= TE_C_EPOLLOUT;
        te_conn_interest(e, c);
        te_timer_set(e, c, TE_T_SEND, te_set(e, c)->send_timeout);
    }
    return 0;
}

/* Sends now what can go now, queues the rest. -1: the connection failed (caller closes it). */
int te_send(te_engine *e, te_conn *c, const char *p, uint32_t n)
{
    if (te_queued(c) == 0 && n > 0) {
        ssize_t w = te_io_send(c, p, n);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR) return -1;
            w = 0;
        }
        wrote(e, c, (uint64_t)w);
        p += w;
        n -= (uint32_t)w;
        if (n == 0) return 1;
    }
    if (n && te_queue(c, p, n) < 0) return -1;
    return te_write_out(e, c);
}

/* After progress: wake a JS writer that waits for room. */
static void maybe_drain(te_engine *e, te_conn *c)
{
    if ((c->flags & TE_C_WANT_DRAIN) && te_queued(c) <= TE_OUT_HIGH / 2) {
        if (te_rec(e, TE_IN_DRAIN, c, TE_REC_HDR, 0)) {
            c->flags &= ~TE_C_WANT_DRAIN;
            te_host_schedule(e);
        }
    }
}

/* EPOLLOUT: more room in the socket. */
void te_conn_writable(te_engine *e, te_conn *c)
{
    int rc = te_write_out(e, c);
    if (rc < 0) {
        int err = errno;
        /* nginx's ngx_connection_error: a peer gone is info */
        if (c->state == TE_NATIVE && (err == EPIPE || err == ECONNRESET))
            te_errlog(e, c, TE_LOG_INFO, "%s() failed (%d: %s) while sending response to client",
                      c->file_fd >= 0 && (c->flags & TE_C_SENDFILE) && !c->ssl && c->out_off >= c->out_len ? "sendfile" : "writev", err, strerror(err));
        te_conn_close(e, c, err == ECONNRESET ? TE_WHY_RESET : TE_WHY_ERROR);
        return;
    }
    maybe_drain(e, c);
    if (rc == 1 && (c->flags & TE_C_END)) te_conn_finish(e, c);
}

static inline uint32_t r32(const char *p, uint32_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }

/* The records JS queued since the last flush, in order. */
void te_flush_outbox(te_engine *e)
{
    uint32_t end = (uint32_t)e->ctl[TE_CTL_USED];
    if (end > e->outbox_cap) end = e->outbox_cap;
    uint32_t off = TE_OUT_CTL;
    while (off + TE_SEND_DATA <= end) {
        const char *r = e->outbox + off;
        uint32_t size = r32(r, TE_REC_SIZE);
        if (size < TE_REC_HDR || off + size > end) break;
        off += size;
        if (r[TE_REC_TYPE] != TE_OUT_SEND) continue;
        te_conn *c = te_conn_get(e, r32(r, TE_REC_CONN));
        if (!c || c->state != TE_JS || (c->flags & TE_C_END)) continue; /* gone, or a write after the end */
        uint8_t fl = (uint8_t)r[TE_REC_A];
        uint32_t len = r32(r, TE_SEND_LEN);
        if (TE_SEND_DATA + len > size) continue;
        c->flags |= TE_C_ANSWERED;
        if (fl & TE_SEND_END) {
            c->flags |= TE_C_END;
            if (fl & TE_SEND_CLOSE) c->flags |= TE_C_CLOSE;
            c->ka_ms = r32(r, TE_SEND_KEEPALIVE);
        }
        int rc = (fl & TE_SEND_CONTINUE) && te_body_continue(e, c) < 0 ? -1 : te_send(e, c, r + TE_SEND_DATA, len);
        if (rc < 0) {
            te_conn_close(e, c, TE_WHY_ERROR);
            continue;
        }
        maybe_drain(e, c);
        if (rc == 1 && (c->flags & TE_C_END)) te_conn_finish(e, c);
    }
    e->ctl[TE_CTL_USED] = TE_OUT_CTL;
}
