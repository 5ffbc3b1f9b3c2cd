/* stat.h: the stub_status counters, in a page of shared memory every worker maps (the master
   creates it once, so the counts span all workers and survive reloads, as nginx's do). Slots are
   64-bit and bumped with relaxed atomic adds: a few per connection and per request. The same
   slots, in the same order, are src/status/counters.ts's SLOT. Waiting is not kept: it is
   active - reading - writing, as nginx computes it. */
#ifndef TE_STAT_H
#define TE_STAT_H
#include <stdint.h>

enum { TE_ST_ACTIVE, TE_ST_ACCEPTED, TE_ST_HANDLED, TE_ST_REQUESTS, TE_ST_READING, TE_ST_WRITING, TE_ST_SLOTS };

/* What a connection counts as now: waiting (0), reading a head, or writing an answer. */
enum { TE_SS_WAITING, TE_SS_READING, TE_SS_WRITING };

/* The mapped page, or NULL before stat_napi.c's statusAttach (the counts are then not kept). */
extern int64_t *te_stat;

static inline void te_stat_add(int slot, int64_t d)
{
    if (te_stat) __atomic_fetch_add(&te_stat[slot], d, __ATOMIC_RELAXED);
}

/* Moves a connection's state (its `ss` byte) to `to`, keeping reading/writing in step. */
static inline void te_stat_to(uint8_t *ss, uint8_t to)
{
    if (*ss == to) return;
    if (*ss == TE_SS_READING) te_stat_add(TE_ST_READING, -1);
    else if (*ss == TE_SS_WRITING) te_stat_add(TE_ST_WRITING, -1);
    if (to == TE_SS_READING) te_stat_add(TE_ST_READING, 1);
    else if (to == TE_SS_WRITING) te_stat_add(TE_ST_WRITING, 1);
    *ss = to;
}

#endif
