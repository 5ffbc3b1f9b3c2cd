#include "shd_entry.h"

#include "shd_alloc.h"

/* Short keys (most are) compared inline with overlapping word loads: a call to memcmp costs
 * more than the compare. */
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static inline int same_key(const uint8_t *a, const uint8_t *b, size_t n) {
  if (n >= 8) {
    if (n > 32) return memcmp(a, b, n) == 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (ld64(a + i) != ld64(b + i)) return 0;
    }
    return ld64(a + n - 8) == ld64(b + n - 8);
  }
  if (n >= 4) return ld32(a) == ld32(b) && ld32(a + n - 4) == ld32(b + n - 4);
  return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1];
}

shd_entry *shd_peek(shd_zone *z, const uint8_t *key, size_t klen, uint32_t hash) {
  for (uint32_t off = *shd_bucket(z, hash); off != 0;) {
    shd_entry *e = shd_e(z, off);
    if (e->hash == hash && e->klen == klen && same_key(shd_key(e), key, klen)) return e;
    off = e->hnext;
  }
  return NULL;
}

/* The LRU links are written without the undo log: they are the hot path of every operation,
 * and a dead owner's half-moved entry is repaired instead (shd_lru_repair rebuilds the list from
 * the hash table when it does not hold together). */
static void lru_unlink(shd_zone *z, shd_entry *e) {
  shd_hdr *h = z->hdr;
  if (e->prev != 0) shd_e(z, e->prev)->next = e->next;
  else h->lru_head = e->next;
  if (e->next != 0) shd_e(z, e->next)->prev = e->prev;
  else h->lru_tail = e->prev;
}

/* Puts e (already unlinked) first. */
static void lru_link_head(shd_zone *z, shd_entry *e) {
  shd_hdr *h = z->hdr;
  uint32_t off = shd_off(z, e);
  e->prev = 0;
  e->next = h->lru_head;
  if (h->lru_head != 0) shd_e(z, h->lru_head)->prev = off;
  else h->lru_tail = off;
  h->lru_head = off;
}

static void lru_touch(shd_zone *z, shd_entry *e) {
  if (z->hdr->lru_head == shd_off(z, e)) return;
  lru_unlink(z, e);
  lru_link_head(z, e);
}

int shd_find(shd_zone *z, const uint8_t *key, size_t klen, uint32_t hash, shd_entry **out) {
  shd_entry *e = shd_peek(z, key, klen, hash);
  *out = e;
  if (e == NULL) return SHD_NONE;
  lru_touch(z, e);
  if (e->expires != 0 && e->expires - shd_now(z) < 0) return SHD_EXPIRED;
  return SHD_LIVE;
}

void shd_link_new(shd_zone *z, shd_entry *e) {
  shd_hdr *h = z->hdr;
  uint32_t *b = shd_bucket(z, e->hash);
  e->hnext = *b;
  tx_w32(z, b, shd_off(z, e));
  lru_link_head(z, e);
  tx_w32(z, &h->nentries, h->nentries + 1);
}

static void hash_unlink(shd_zone *z, shd_entry *e) {
  uint32_t off = shd_off(z, e);
  uint32_t *link = shd_bucket(z, e->hash);
  while (*link != off) link = &shd_e(z, *link)->hnext;
  tx_w32(z, link, e->hnext);
}

/* Frees a list's elements but the last, one per step: a long list never outgrows the undo log,
 * and each step leaves a shorter but whole list (never an empty one). */
static void list_trim(shd_zone *z, shd_entry *e) {
  shd_listhead *l = shd_list(e);
  while (e->vlen > 1) {
    uint32_t n = l->first;
    uint32_t next = shd_node(z, n)->next;
    tx_w32(z, &l->first, next);
    tx_w32(z, &shd_node(z, next)->prev, 0);
    tx_w32(z, &e->vlen, e->vlen - 1);
    shd_free(z, n);
    tx_commit(z);
  }
}

void shd_entry_free(shd_zone *z, shd_entry *e) {
  if (e->vtype == SHD_TLIST) {
    list_trim(z, e);
    if (shd_list(e)->first != 0) shd_free(z, shd_list(e)->first); /* the last one goes with the entry */
  }
  shd_hdr *h = z->hdr;
  hash_unlink(z, e);
  lru_unlink(z, e);
  tx_w32(z, &h->nentries, h->nentries - 1);
  shd_free(z, shd_off(z, e));
}

/* Whether the LRU list holds exactly the table's entries, linked both ways (bounded walk). */
static int lru_whole(shd_zone *z) {
  shd_hdr *h = z->hdr;
  uint32_t prev = 0, n = 0;
  for (uint32_t off = h->lru_head; off != 0; off = shd_e(z, off)->next) {
    if (off < h->heap_off || off >= h->heap_end || ++n > h->nentries) return 0;
    if (shd_e(z, off)->prev != prev) return 0;
    prev = off;
  }
  return prev == h->lru_tail && n == h->nentries;
}

int shd_lru_repair(shd_zone *z) {
  if (lru_whole(z)) return 0;
  /* Relink every entry of the table; the order of use is lost, nothing else. */
  shd_hdr *h = z->hdr;
  h->lru_head = h->lru_tail = 0;
  uint32_t n = 0;
  for (uint32_t i = 0; i < h->nbuckets; i++) {
    for (uint32_t off = *SHD_AT(z, h->buckets_off + i * 4, uint32_t); off != 0 && n <= h->nentries; off = shd_e(z, off)->hnext, n++) {
      lru_link_head(z, shd_e(z, off));
    }
  }
  return 1;
}

int shd_expire_lru_slow(shd_zone *z, int n) {
  int freed = 0;
  while (n < 3) {
    uint32_t t = z->hdr->lru_tail;
    if (t == 0) return freed;
    shd_entry *e = shd_e(z, t);
    if (n++ != 0 && (e->expires == 0 || e->expires - shd_now(z) > 0)) return freed;
    shd_entry_free(z, e);
    tx_commit(z);
    freed++;
  }
  return freed;
}
