/*
 * linger.c: nginx's lingering close of a connection whose answer is sent (lingering_close,
 * lingering_time, lingering_timeout), apart from conn.c as a state of its own (TE_LINGER).
 */
#include <errno.h>
#include <sys/socket.h>
#include "engine.h"
#include "conn.h"
#include "tls.h"

/* nginx's lingering close: shut the write side, then read and drop what the client still sends
   (lingering_timeout between reads, lingering_time in all), so it gets the answer, not a reset. */
void te_linger(te_engine *e, te_conn *c)
{
    const te_settings *s = te_set(e, c);
    if (s->lingering_time == 0 || (c->flags & TE_C_EOF)) {
        te_conn_close(e, c, TE_WHY_CLIENT);
        return;
    }
    te_tls_notify(c);
    shutdown(c->fd, SHUT_WR);
    te_stat_to(&c->ss, TE_SS_WAITING);
    c->state = TE_LINGER;
    c->flags &= ~(TE_C_NOREAD | TE_C_JS);
    te_conn_interest(e, c);
    c->linger_end = e->now + s->lingering_time;
    te_timer_set(e, c, TE_T_LINGER, s->lingering_timeout);
}

void te_linger_read(te_engine *e, te_conn *c)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            te_conn_close(e, c, TE_WHY_CLIENT);
            return;
        }
        if (n < 0) break;
    }
    if (e->now >= c->linger_end) {
        te_conn_close(e, c, TE_WHY_CLIENT);
        return;
    }
    uint32_t left = (uint32_t)(c->linger_end - e->now);
    uint32_t t = te_set(e, c)->lingering_timeout;
    te_timer_set(e, c, TE_T_LINGER, t < left ? t : left);
}
