/*
 * table.h: objects named by ids (slot | generation << TE_SLOT_BITS), for client connections and
 * upstream sockets alike. A slot's id changes each time it is reused, so a late record or call
 * with an old id finds nothing: callers compare the object's own id with the one asked.
 */
#ifndef TRESTY_ENGINE_TABLE_H
#define TRESTY_ENGINE_TABLE_H

#include <stdint.h>

#define TE_SLOT_BITS 24
#define TE_SLOT_MASK ((1u << TE_SLOT_BITS) - 1)

typedef struct te_table {
    void **items;
    uint32_t n, cap;   /* slots used so far, allocated */
    uint32_t *free;    /* freed slots, reused first */
    uint32_t nfree;
    uint32_t count;    /* objects in the table now */
} te_table;

/* Stores item in a free slot: its new id, or -1 when out of memory or slots. */
int64_t te_table_put(te_table *t, void *item);
/* The object in id's slot (it may be another generation's: compare ids), or NULL. */
static inline void *te_table_at(const te_table *t, uint32_t id)
{
    uint32_t s = id & TE_SLOT_MASK;
    return s < t->n ? t->items[s] : NULL;
}
void te_table_drop(te_table *t, uint32_t id);

#endif
