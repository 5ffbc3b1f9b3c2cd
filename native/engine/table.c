/* table.c: see table.h. */
#include <stdlib.h>
#include "table.h"

int64_t te_table_put(te_table *t, void *item)
{
    uint32_t slot;
    if (t->nfree) {
        slot = t->free[--t->nfree];
    } else {
        if (t->n == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 256;
            if (cap > TE_SLOT_MASK) return -1;
            void **s = realloc(t->items, cap * sizeof *s);
            if (!s) return -1;
            t->items = s;
            uint32_t *f = realloc(t->free, cap * sizeof *f);
            if (!f) return -1;
            t->free = f;
            t->cap = cap;
        }
        slot = t->n++;
    }
    static uint32_t gen;
    gen = (gen + 1) & 0xff;
    t->items[slot] = item;
    t->count++;
    return slot | (gen << TE_SLOT_BITS);
}

void te_table_drop(te_table *t, uint32_t id)
{
    uint32_t s = id & TE_SLOT_MASK;
    t->items[s] = NULL;
    t->free[t->nfree++] = s;
    t->count--;
}
