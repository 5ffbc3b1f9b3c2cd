/*
 * A zone as one process sees it, and the primitives every operation is made of: the lock
 * (with recovery from a dead owner), the undo log of the step in progress, offsets to
 * pointers, and the monotonic clock.
 */
#ifndef TRESTY_SHD_ZONE_H
#define TRESTY_SHD_ZONE_H

#include <string.h>

#include "shd_layout.h"

typedef struct shd_zone {
  uint8_t *base;
  shd_hdr *hdr;
  size_t size;
  uint32_t undo_bytes; /* of the step in progress (process-local: rollback recounts) */
  int64_t now;         /* this operation's clock, read once when first needed (0: not yet) */
} shd_zone;

#define SHD_AT(z, off, type) ((type *)((z)->base + (off)))

static inline shd_entry *shd_e(shd_zone *z, uint32_t off) { return SHD_AT(z, off, shd_entry); }
static inline shd_block *shd_b(shd_zone *z, uint32_t off) { return SHD_AT(z, off, shd_block); }
static inline uint32_t shd_off(shd_zone *z, const void *p) { return (uint32_t)((const uint8_t *)p - z->base); }

/* ---- the undo log (see shd_layout.h) ---- */

void shd_undo_overflow(void) __attribute__((noreturn));

/* Records the `len` bytes at `off` as they are now; the caller may then change them. */
static inline void tx_save(shd_zone *z, uint32_t off, uint32_t len) {
  shd_hdr *h = z->hdr;
  uint32_t n = h->undo_n;
  if (n >= SHD_UNDO_MAX || z->undo_bytes + len > SHD_UNDO_DATA) shd_undo_overflow();
  uint8_t *dst = h->undo_data + z->undo_bytes;
  const uint8_t *src = z->base + off;
  if (len == 4) memcpy(dst, src, 4);
  else if (len == 8) memcpy(dst, src, 8);
  else memcpy(dst, src, len);
  h->undo[n].off = off;
  h->undo[n].len = len;
  z->undo_bytes += len;
  /* The entry and its bytes are in place before the count says so, and the count before the
   * caller's write: a process killed at any instruction leaves a log that undoes exactly what
   * it changed. */
  __atomic_store_n(&h->undo_n, n + 1, __ATOMIC_RELEASE);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void tx_w32(shd_zone *z, uint32_t *p, uint32_t v) {
  if (*p == v) return;
  tx_save(z, shd_off(z, p), 4);
  *p = v;
}

static inline void tx_w64(shd_zone *z, uint64_t *p, uint64_t v) {
  if (*p == v) return;
  tx_save(z, shd_off(z, p), 8);
  *p = v;
}

static inline void tx_wi64(shd_zone *z, int64_t *p, int64_t v) { tx_w64(z, (uint64_t *)p, (uint64_t)v); }

static inline void tx_w16(shd_zone *z, uint16_t *p, uint16_t v) {
  if (*p == v) return;
  tx_save(z, shd_off(z, p), 2);
  *p = v;
}

static inline void tx_w8(shd_zone *z, uint8_t *p, uint8_t v) {
  if (*p == v) return;
  tx_save(z, shd_off(z, p), 1);
  *p = v;
}

/* The zone is consistent again: forget the log. */
static inline void tx_commit(shd_zone *z) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&z->hdr->undo_n, 0, __ATOMIC_RELEASE);
  z->undo_bytes = 0;
}

/* The hash of a key: bucket from the low bits, the entry keeps the low 32 bits. Words are read
 * with overlapping loads, so no byte loop and no call for the tail. */
static inline uint64_t shd_hash(const uint8_t *p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4Full);
  uint64_t v;
  if (n >= 8) {
    const uint8_t *end = p + n - 8;
    while (p < end) {
      memcpy(&v, p, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
      p += 8;
    }
    memcpy(&v, end, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + n - 4, 4);
    v = ((uint64_t)a << 32) | b;
  } else {
    v = n == 0 ? 0 : ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
  }
  h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 32;
  return h;
}

/* ---- lock, clock ---- */

/* 0, or -1 when the lock cannot be taken (a mutex left unrecoverable). */
int shd_lock(shd_zone *z);
/* Commits the step in progress and releases the lock. */
void shd_unlock(shd_zone *z);

int64_t shd_clock_ms(void);

/* This operation's time, read at most once per operation. */
static inline int64_t shd_now(shd_zone *z) {
  if (z->now == 0) z->now = shd_clock_ms();
  return z->now;
}

/* Puts an empty heap and empty buckets in place (a new zone, or one that failed its check). */
void shd_format(shd_zone *z);

/* Undoes the step a dead owner left in progress; 1 if there was one. */
int shd_rollback(shd_zone *z);

#endif
