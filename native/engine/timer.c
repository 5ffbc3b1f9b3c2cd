/*
 * timer.c: one deadline per connection (header, body, send, keep-alive or lingering timeout), kept
 * in a min-heap of connections. Lazy, so a busy keep-alive connection costs no heap work per
 * request: moving a deadline later only stores it (the heap keeps the old, earlier key); when that
 * key comes due the connection is put back under its real deadline. Moving it earlier sifts up.
 */
#include <stdlib.h>
#include "engine.h"

/* The key a connection sits under in the heap: stored apart from c->deadline, which may be later. */
typedef struct { te_conn *c; uint64_t key; } slot_t;
static slot_t *H;
static uint32_t cap;

static void put(te_engine *e, uint32_t i, slot_t s)
{
    H[i] = s;
    s.c->heap_idx = (int32_t)i;
    (void)e;
}

static void up(te_engine *e, uint32_t i)
{
    slot_t s = H[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (H[p].key <= s.key) break;
        put(e, i, H[p]);
        i = p;
    }
    put(e, i, s);
}

static void down(te_engine *e, uint32_t i)
{
    slot_t s = H[i];
    uint32_t n = e->heap_len;
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= n) break;
        uint32_t m = l + 1 < n && H[l + 1].key < H[l].key ? l + 1 : l;
        if (H[m].key >= s.key) break;
        put(e, i, H[m]);
        i = m;
    }
    put(e, i, s);
}

static int push(te_engine *e, te_conn *c, uint64_t key)
{
    if (e->heap_len == cap) {
        uint32_t ncap = cap ? cap * 2 : 1024;
        slot_t *n = realloc(H, ncap * sizeof *n);
        if (!n) return -1;
        H = n;
        cap = ncap;
    }
    H[e->heap_len] = (slot_t){ c, key };
    c->heap_idx = (int32_t)e->heap_len++;
    up(e, (uint32_t)c->heap_idx);
    return 0;
}

void te_timer_remove(te_engine *e, te_conn *c)
{
    int32_t i = c->heap_idx;
    c->deadline = 0;
    c->timer = TE_T_NONE;
    if (i < 0) return;
    c->heap_idx = -1;
    uint32_t last = --e->heap_len;
    if ((uint32_t)i == last) return;
    te_conn *moved = H[last].c;
    put(e, (uint32_t)i, H[last]);
    up(e, (uint32_t)i);
    down(e, (uint32_t)moved->heap_idx);
}

void te_timer_set(te_engine *e, te_conn *c, int kind, uint32_t ms)
{
    uint64_t d = e->now + (ms ? ms : 1);
    c->timer = (uint8_t)kind;
    c->deadline = d;
    if (c->heap_idx < 0) {
        if (push(e, c, d) < 0) c->deadline = 0; /* out of memory: no timeout rather than a crash */
    } else if (d < H[c->heap_idx].key) {
        H[c->heap_idx].key = d;
        up(e, (uint32_t)c->heap_idx);
    }
}

/* The deadline stays in the heap (lazily dropped when its key comes due). */
void te_timer_clear(te_engine *e, te_conn *c)
{
    (void)e;
    c->deadline = 0;
    c->timer = TE_T_NONE;
}

void te_timers_expire(te_engine *e)
{
    while (e->heap_len > 0 && H[0].key <= e->now) {
        te_conn *c = H[0].c;
        if (c->deadline > e->now) {
            H[0].key = c->deadline; /* moved later since it was pushed: wait until then */
            down(e, 0);
            continue;
        }
        uint64_t d = c->deadline;
        int kind = c->timer;
        te_timer_remove(e, c);
        if (d != 0) te_conn_timeout(e, c, kind);
    }
}

uint64_t te_timers_next(te_engine *e)
{
    return e->heap_len ? H[0].key : 0;
}
