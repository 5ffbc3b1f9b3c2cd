/*
 * tresty_ring.h: the shared-memory layout of one plugin's rings, mirrored name for name
 * by src/ring/layout.ts. JS allocates the memory (a SharedArrayBuffer) and writes the
 * header; native code reaches it through the pointer koffi hands over (its address is stable).
 *
 *   byte 0                 512                        512 + CAP*SLOT        512 + 2*CAP*SLOT
 *   | header (cache lines) | submit slots [CAP]        | completion slots [CAP] |
 *
 *   header words (u32, each hot group on its own 64-byte line)
 *     TR_MAGIC TR_VERSION TR_CAPACITY TR_SLOT_BYTES TR_STATE TR_MAX_RESPONSE
 *     TR_SUB_TAIL  | TR_SUB_HEAD | TR_SUB_FUTEX TR_SUB_SLEEPERS TR_POOL_ACTIVE
 *     TR_CMP_TAIL  | TR_CMP_HEAD | TR_JS_WAITING | TR_DOUBLE_ANSWERS TR_GATE_OPEN TR_SPINS
 *
 *   slot (TR_SLOT_SIZE = 1024: a 512 B request or answer, the common RPC size, fits inline;
 *   at the 1024-slot cap that is 2 MB per plugin instance)
 *     TR_SLOT_SEQ u32 | TR_SLOT_ID u32 | TR_SLOT_RC i32 | TR_SLOT_LEN u32 | TR_SLOT_PTR u64 |
 *     TR_SLOT_FLAG u32 | pad | TR_SLOT_DATA .. (TR_INLINE_MAX bytes)
 *   A payload of len <= TR_INLINE_MAX lives in DATA and PTR is 0; a larger one is a malloc'ed
 *   buffer at PTR whose ownership moves with the slot.
 *
 * Each ring is a bounded MPMC queue (Vyukov): every slot carries a sequence number, and the
 * u32 counters HEAD and TAIL only grow (they wrap; differences are taken as int32).
 *
 *     slot i = pos & (CAP-1)
 *     seq == pos            free, a producer at TAIL == pos may claim it
 *     seq == pos + 1        published, a consumer at HEAD == pos may take it
 *     seq == pos + CAP      consumed, free again for the producer one lap later
 *
 *   EMPTY: slot[HEAD].seq == HEAD            (nothing published at HEAD)
 *   FULL:  slot[TAIL].seq == TAIL - CAP + 1  (the slot one lap behind is not consumed yet)
 *   so   0 <= TAIL - HEAD <= CAP  always.
 *
 * Waiting:
 *   - submit consumers (native pollers) that find the ring empty bump TR_SUB_SLEEPERS, re-check,
 *     and futex-wait on TR_SUB_FUTEX (no spinning by default: bench/ffi-wait.mjs measured it);
 *     JS bumps TR_SUB_FUTEX and calls tresty_tq_wake() once per batch of submits, and only when
 *     TR_SUB_SLEEPERS != 0 (a C futex waiter cannot hear Atomics.notify).
 *   - function plugins: JS pool threads use the same words with Atomics.wait/notify, and count
 *     themselves in TR_POOL_ACTIVE (JS only) so an idle pool can stop and be restarted.
 *   - JS sets TR_JS_WAITING = 1 before it goes idle and re-checks; a completion producer that
 *     swaps it 1 -> 0 writes one byte to the doorbell pipe. Otherwise nothing is written.
 */
#ifndef TRESTY_RING_H
#define TRESTY_RING_H

#include <stdint.h>
#include <string.h>

#define TR_MAGIC_VALUE 0x54525931u /* "TRY1" */
#define TR_VERSION_VALUE 2u

/* header: byte offsets */
#define TR_MAGIC 0
#define TR_VERSION 4
#define TR_CAPACITY 8
#define TR_SLOT_BYTES 12
#define TR_STATE 16
#define TR_MAX_RESPONSE 20 /* written by JS before tresty_tq_new: answers over it are refused (0: no cap) */
#define TR_SUB_TAIL 64
#define TR_SUB_HEAD 128
#define TR_SUB_FUTEX 192
#define TR_SUB_SLEEPERS 196
#define TR_POOL_ACTIVE 200
#define TR_CMP_TAIL 256
#define TR_CMP_HEAD 320
#define TR_JS_WAITING 384
#define TR_DOUBLE_ANSWERS 448 /* respond() calls on a task already answered (dropped), for JS to log */
#define TR_GATE_OPEN 452      /* the host's spin gate for this ring's caller: 1 while a core is free (JS reads) */
#define TR_SPINS 456          /* spins the gate allowed (pollers and pool threads), for tests and benchmarks */
#define TR_HEADER_BYTES 512

/* TR_STATE values */
#define TR_STATE_OPEN 0u
#define TR_STATE_CLOSING 1u /* no more submits: pollers drain, then poll returns NULL */

/* TR_SLOT_FLAG values: the answer was replaced by the host's message (inline, rc 0) */
#define TR_FLAG_OK 0u
#define TR_FLAG_TOO_LARGE 1u  /* longer than TR_MAX_RESPONSE */
#define TR_FLAG_BAD_LENGTH 2u /* rsp_len beyond the runtime's malloc'ed block (or no NUL in it) */

/* slot: byte offsets */
#define TR_SLOT_SIZE 1024
#define TR_SLOT_SEQ 0
#define TR_SLOT_ID 4
#define TR_SLOT_RC 8
#define TR_SLOT_LEN 12
#define TR_SLOT_PTR 16
#define TR_SLOT_FLAG 24 /* completions: TR_FLAG_* (the host refused the runtime's answer) */
#define TR_SLOT_DATA 32
#define TR_INLINE_MAX (TR_SLOT_SIZE - TR_SLOT_DATA)

#define TR_SUBMIT_OFFSET TR_HEADER_BYTES
#define TR_COMPLETION_OFFSET(cap) (TR_HEADER_BYTES + (cap) * TR_SLOT_SIZE)
#define TR_TOTAL_BYTES(cap) (TR_HEADER_BYTES + 2 * (cap) * TR_SLOT_SIZE)

static inline uint32_t *tr_u32(uint8_t *mem, uint32_t off) { return (uint32_t *)(void *)(mem + off); }
static inline uint32_t tr_load(uint8_t *mem, uint32_t off) {
  return __atomic_load_n(tr_u32(mem, off), __ATOMIC_SEQ_CST);
}
static inline void tr_store(uint8_t *mem, uint32_t off, uint32_t v) {
  __atomic_store_n(tr_u32(mem, off), v, __ATOMIC_SEQ_CST);
}

/* One ring inside the shared memory: where its counters and slots are. */
typedef struct tr_ring {
  uint8_t *mem;
  uint32_t tail_off, head_off, slots_off, cap;
} tr_ring;

static inline uint8_t *tr_slot(const tr_ring *r, uint32_t pos) {
  return r->mem + r->slots_off + (size_t)(pos & (r->cap - 1)) * TR_SLOT_SIZE;
}

/* Vyukov's step, shared by both ends (as advance() in src/ring/ring.ts): the slot at the counter
   at `off` is ready when its sequence is pos + lag (0: free for a producer, 1: published for a
   consumer); win it by CAS on the counter. Returns the slot (and *pos) or NULL. */
static inline uint8_t *tr_advance(const tr_ring *r, uint32_t off, uint32_t lag, uint32_t *pos) {
  uint32_t p = __atomic_load_n(tr_u32(r->mem, off), __ATOMIC_RELAXED);
  for (;;) {
    uint8_t *s = tr_slot(r, p);
    uint32_t seq = __atomic_load_n((uint32_t *)(void *)(s + TR_SLOT_SEQ), __ATOMIC_ACQUIRE);
    int32_t dif = (int32_t)(seq - (p + lag));
    if (dif == 0) {
      if (__atomic_compare_exchange_n(tr_u32(r->mem, off), &p, p + 1, 1,
                                      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        *pos = p;
        return s;
      }
    } else if (dif < 0) {
      return NULL;
    } else {
      p = __atomic_load_n(tr_u32(r->mem, off), __ATOMIC_RELAXED);
    }
  }
}

/* Claim a slot to fill; returns it (and *pos) or NULL when full. Publish with tr_publish. */
static inline uint8_t *tr_claim(const tr_ring *r, uint32_t *pos) {
  return tr_advance(r, r->tail_off, 0, pos);
}

static inline void tr_publish(uint8_t *slot, uint32_t pos) {
  __atomic_store_n((uint32_t *)(void *)(slot + TR_SLOT_SEQ), pos + 1, __ATOMIC_SEQ_CST);
}

/* Take a published slot; returns it (and *pos) or NULL when empty. Release with tr_release. */
static inline uint8_t *tr_take(const tr_ring *r, uint32_t *pos) {
  return tr_advance(r, r->head_off, 1, pos);
}

static inline void tr_release(const tr_ring *r, uint8_t *slot, uint32_t pos) {
  __atomic_store_n((uint32_t *)(void *)(slot + TR_SLOT_SEQ), pos + r->cap, __ATOMIC_SEQ_CST);
}

static inline int tr_empty(const tr_ring *r) {
  uint32_t p = __atomic_load_n(tr_u32(r->mem, r->head_off), __ATOMIC_SEQ_CST);
  uint32_t seq = __atomic_load_n((uint32_t *)(void *)(tr_slot(r, p) + TR_SLOT_SEQ), __ATOMIC_SEQ_CST);
  return (int32_t)(seq - (p + 1)) < 0;
}

#endif
