/*
 * Entries: the hash chains, the LRU list and lookups, shared by the operations and the checker.
 * Every change is logged (shd_zone.h) except writes into a block allocated in the same step.
 */
#ifndef TRESTY_SHD_ENTRY_H
#define TRESTY_SHD_ENTRY_H

#include "shd_zone.h"

static inline uint32_t shd_align8(uint32_t n) { return (n + 7u) & ~7u; }
static inline uint8_t *shd_key(shd_entry *e) { return (uint8_t *)(e + 1); }
/* The value starts 8-aligned after the key, so numbers and list heads are aligned. */
static inline uint8_t *shd_val(shd_entry *e) { return shd_key(e) + shd_align8(e->klen); }
static inline shd_listhead *shd_list(shd_entry *e) { return (shd_listhead *)shd_val(e); }
static inline shd_lnode *shd_node(shd_zone *z, uint32_t off) { return SHD_AT(z, off, shd_lnode); }
static inline uint32_t shd_entry_size(uint32_t klen, uint32_t vlen) {
  return (uint32_t)sizeof(shd_entry) + shd_align8(klen) + vlen;
}

static inline uint32_t *shd_bucket(shd_zone *z, uint32_t hash) {
  shd_hdr *h = z->hdr;
  return SHD_AT(z, h->buckets_off + (hash & (h->nbuckets - 1)) * 4u, uint32_t);
}

enum { SHD_NONE = 0, SHD_LIVE = 1, SHD_EXPIRED = 2 };

/* Finds a key without touching anything. */
shd_entry *shd_peek(shd_zone *z, const uint8_t *key, size_t klen, uint32_t hash);
/* lua-nginx-module's lookup: finds a key, makes it the most recently used, and says whether it
 * has expired. */
int shd_find(shd_zone *z, const uint8_t *key, size_t klen, uint32_t hash, shd_entry **out);

/* Links an entry just written into a fresh block: hash chain, LRU head, count. */
void shd_link_new(shd_zone *z, shd_entry *e);
/* Removes an entry and frees its memory. A list's elements but the last go first, each as its
 * own step (so call it at a consistent point: it commits). */
void shd_entry_free(shd_zone *z, shd_entry *e);
/* After a dead owner's step was undone: relinks the LRU list from the hash table if it does not
 * hold together (its writes are not logged). 1 if it was rebuilt. */
int shd_lru_repair(shd_zone *z);
/* lua-nginx-module's expire(n): n = 1 frees up to two expired entries at the LRU tail; n = 0
 * frees the tail entry by force, then up to two expired ones. Returns how many were freed. */
int shd_expire_lru_slow(shd_zone *z, int n);
static inline int shd_expire_lru(shd_zone *z, int n) {
  /* The usual case, at the start of every operation: a tail that never expires. */
  uint32_t t = z->hdr->lru_tail;
  if (n == 1 && (t == 0 || shd_e(z, t)->expires == 0)) return 0;
  return shd_expire_lru_slow(z, n);
}

#endif
