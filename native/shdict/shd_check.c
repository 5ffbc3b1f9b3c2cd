/*
 * Every invariant of a zone, checked in one pass without trusting a single link: the heap's
 * blocks tile it exactly; the free lists hold exactly the free blocks, each in its class;
 * every entry sits in the bucket of its hash and in the LRU list once; list elements are
 * linked both ways and counted right; every used block belongs to exactly one entry or element.
 */
#include <stdio.h>
#include <stdlib.h>

#include "shd_alloc.h"
#include "shd_check.h"
#include "shd_entry.h"
#include "tresty_shdict.h"

/* What the checker knows about each 8-byte slot of the heap (block starts only). */
enum { S_NONE = 0, S_USED, S_FREE, S_FREE_LISTED, S_ENTRY, S_ENTRY_IN_LRU, S_NODE };

typedef struct {
  shd_zone *z;
  uint8_t *state;
  uint32_t nslots;
} walk;

/* The slot of the block whose payload is at `off`, or -1 when `off` is not a block's payload. */
static int64_t slot_of(walk *w, uint32_t off) {
  shd_hdr *h = w->z->hdr;
  if (off < h->heap_off + SHD_BLOCK_HDR || off >= h->heap_end || (off - SHD_BLOCK_HDR - h->heap_off) % SHD_ALIGN)
    return -1;
  return (off - SHD_BLOCK_HDR - h->heap_off) / SHD_ALIGN;
}

static uint32_t payload_room(shd_zone *z, uint32_t off) {
  return (shd_b(z, off - SHD_BLOCK_HDR)->size & ~SHD_USED) - SHD_BLOCK_HDR;
}

#define FAIL(...) \
  do { \
    snprintf(msg, cap, __VA_ARGS__); \
    goto out; \
  } while (0)

static int check_list(walk *w, shd_entry *e, char *msg, size_t cap) {
  shd_zone *z = w->z;
  shd_listhead *l = shd_list(e);
  uint32_t prev = 0, count = 0;
  for (uint32_t n = l->first; n != 0;) {
    int64_t s = slot_of(w, n);
    if (s < 0 || w->state[s] != S_USED) FAIL("list element %u is not an unclaimed used block", n);
    w->state[s] = S_NODE;
    shd_lnode *node = shd_node(z, n);
    if (node->prev != prev) FAIL("list element %u: prev %u, expected %u", n, node->prev, prev);
    if (node->vtype != SHD_TSTRING && node->vtype != SHD_TNUMBER) FAIL("list element %u: type %u", n, node->vtype);
    if (node->vtype == SHD_TNUMBER && node->vlen != 8) FAIL("list element %u: number of %u bytes", n, node->vlen);
    if ((uint64_t)sizeof(shd_lnode) + node->vlen > payload_room(z, n)) FAIL("list element %u overflows its block", n);
    if (++count > e->vlen) FAIL("list longer than its count %u", e->vlen);
    prev = n;
    n = node->next;
  }
  if (count != e->vlen) FAIL("list of %u elements counted %u", count, e->vlen);
  if (l->last != prev) FAIL("list last %u, expected %u", l->last, prev);
  return 0;
out:
  return 1;
}

static int check_entry(walk *w, uint32_t off, uint32_t bucket, char *msg, size_t cap) {
  shd_zone *z = w->z;
  shd_entry *e = shd_e(z, off);
  if (e->klen == 0) FAIL("entry %u has an empty key", off);
  uint32_t vlen = e->vlen;
  switch (e->vtype) {
  case SHD_TSTRING: break;
  case SHD_TNUMBER: if (vlen != 8) FAIL("entry %u: number of %u bytes", off, vlen); break;
  case SHD_TBOOLEAN: if (vlen != 1) FAIL("entry %u: boolean of %u bytes", off, vlen); break;
  case SHD_TLEAKY: if (vlen != 16) FAIL("entry %u: bucket state of %u bytes", off, vlen); break;
  case SHD_TLIST:
    if (vlen == 0) FAIL("entry %u: an empty list", off);
    vlen = sizeof(shd_listhead);
    break;
  default: FAIL("entry %u: value type %u", off, e->vtype);
  }
  if ((uint64_t)shd_entry_size(e->klen, 0) + vlen > payload_room(z, off)) FAIL("entry %u overflows its block", off);
  uint32_t hash = (uint32_t)shd_hash(shd_key(e), e->klen);
  if (e->hash != hash) FAIL("entry %u: stored hash %08x, key hashes to %08x", off, e->hash, hash);
  if ((hash & (z->hdr->nbuckets - 1)) != bucket) FAIL("entry %u in bucket %u, belongs in %u", off, bucket, hash & (z->hdr->nbuckets - 1));
  if (shd_peek(z, shd_key(e), e->klen, hash) != e) FAIL("entry %u: its key is in the table twice", off);
  if (e->vtype == SHD_TLIST) return check_list(w, e, msg, cap);
  return 0;
out:
  return 1;
}

int shd_check_locked(shd_zone *z, char *msg, size_t cap) {
  shd_hdr *h = z->hdr;
  walk w = {z, NULL, 0};
  snprintf(msg, cap, "ok");
  if (h->magic != SHD_MAGIC || h->size != z->size) FAIL("bad header");
  if (h->nbuckets == 0 || (h->nbuckets & (h->nbuckets - 1))) FAIL("bucket count %u", h->nbuckets);
  if ((uint64_t)h->buckets_off + h->nbuckets * 4ull > h->heap_off || h->heap_off >= h->heap_end
      || (uint64_t)h->heap_end + SHD_BLOCK_HDR > z->size)
    FAIL("bad header offsets");
  if (h->undo_n != 0) FAIL("a step is in progress (%u undo entries)", h->undo_n);
  w.nslots = (h->heap_end - h->heap_off) / SHD_ALIGN;
  w.state = calloc(w.nslots, 1);
  if (w.state == NULL) {
    snprintf(msg, cap, "out of memory for the check");
    return 2;
  }

  /* 1. The blocks tile the heap. */
  uint32_t prev_size = 0, nfree = 0, nused = 0;
  uint64_t free_sum = 0;
  int prev_free = 0;
  uint32_t off = h->heap_off;
  while (off < h->heap_end) {
    shd_block *b = shd_b(z, off);
    uint32_t size = b->size & ~SHD_USED;
    int used = b->size & SHD_USED;
    if (size < SHD_MIN_BLOCK || size % SHD_ALIGN || (uint64_t)off + size > h->heap_end) FAIL("block %u: size %u", off, size);
    if (b->prev_size != prev_size) FAIL("block %u: prev_size %u, expected %u", off, b->prev_size, prev_size);
    if (!used && prev_free) FAIL("block %u: two free blocks side by side", off);
    w.state[(off - h->heap_off) / SHD_ALIGN] = used ? S_USED : S_FREE;
    if (used) nused++;
    else {
      nfree++;
      free_sum += size;
    }
    prev_free = !used;
    prev_size = size;
    off += size;
  }
  if (off != h->heap_end) FAIL("the blocks end at %u, the heap at %u", off, h->heap_end);
  shd_block *end = shd_b(z, h->heap_end);
  if (end->size != SHD_USED || end->prev_size != prev_size) FAIL("bad end marker");
  if (free_sum != h->free_bytes) FAIL("free bytes %llu, counted %llu", (unsigned long long)h->free_bytes, (unsigned long long)free_sum);

  /* 2. The free lists hold exactly the free blocks, each in its class. */
  uint32_t listed = 0;
  for (uint32_t fl = 0; fl < SHD_FL; fl++) {
    if (!!(h->fl_bitmap & (1u << fl)) != (h->sl_bitmap[fl] != 0)) FAIL("first-level bitmap at %u", fl);
    for (uint32_t sl = 0; sl < SHD_SL; sl++) {
      uint32_t head = h->free_heads[fl][sl];
      if (!!(h->sl_bitmap[fl] & (1u << sl)) != (head != 0)) FAIL("second-level bitmap at %u,%u", fl, sl);
      uint32_t prev = 0;
      for (uint32_t b = head; b != 0;) {
        int64_t s = slot_of(&w, b + SHD_BLOCK_HDR);
        if (s < 0 || w.state[s] != S_FREE) FAIL("free list %u,%u holds %u, not an unlisted free block", fl, sl, b);
        w.state[s] = S_FREE_LISTED;
        uint32_t cfl, csl;
        shd_mapping(shd_b(z, b)->size, &cfl, &csl);
        if (cfl != fl || csl != sl) FAIL("free block %u of size %u in class %u,%u", b, shd_b(z, b)->size, fl, sl);
        uint32_t *l = SHD_AT(z, b + SHD_BLOCK_HDR, uint32_t);
        if (l[1] != prev) FAIL("free block %u: prev %u, expected %u", b, l[1], prev);
        if (++listed > nfree) FAIL("more listed free blocks than free blocks");
        prev = b;
        b = l[0];
      }
    }
  }
  if (listed != nfree) FAIL("%u free blocks, %u listed", nfree, listed);

  /* 3. Entries: each in its bucket, once; lists whole. */
  uint32_t nentries = 0;
  for (uint32_t i = 0; i < h->nbuckets; i++) {
    for (uint32_t e = *SHD_AT(z, h->buckets_off + i * 4, uint32_t); e != 0;) {
      int64_t s = slot_of(&w, e);
      if (s < 0 || w.state[s] != S_USED) FAIL("bucket %u holds %u, not an unclaimed used block", i, e);
      w.state[s] = S_ENTRY;
      if (++nentries > nused) FAIL("more entries than used blocks");
      if (check_entry(&w, e, i, msg, cap)) goto out;
      e = shd_e(z, e)->hnext;
    }
  }
  if (nentries != h->nentries) FAIL("%u entries in the table, count says %u", nentries, h->nentries);

  /* 4. The LRU list holds every entry once, linked both ways. */
  uint32_t prev = 0, inlru = 0;
  for (uint32_t e = h->lru_head; e != 0;) {
    int64_t s = slot_of(&w, e);
    if (s < 0 || w.state[s] != S_ENTRY) FAIL("LRU holds %u, not an entry (or twice)", e);
    w.state[s] = S_ENTRY_IN_LRU;
    if (shd_e(z, e)->prev != prev) FAIL("LRU entry %u: prev %u, expected %u", e, shd_e(z, e)->prev, prev);
    inlru++;
    prev = e;
    e = shd_e(z, e)->next;
  }
  if (h->lru_tail != prev) FAIL("LRU tail %u, expected %u", h->lru_tail, prev);
  if (inlru != nentries) FAIL("%u entries, %u in the LRU list", nentries, inlru);

  /* 5. No used block belongs to nobody. */
  for (uint32_t s = 0; s < w.nslots; s++) {
    if (w.state[s] == S_USED) FAIL("block %u is used by nothing (leaked)", h->heap_off + s * SHD_ALIGN);
  }
  free(w.state);
  return 0;
out:
  free(w.state);
  return 1;
}

int tresty_shd_check(tresty_shd *z, char *msg, size_t cap) {
  if (shd_lock(z) != 0) {
    snprintf(msg, cap, "%s", tresty_shd_strerror(TRESTY_SHD_E_LOCK));
    return 1;
  }
  int rc = shd_check_locked(z, msg, cap);
  shd_unlock(z);
  return rc;
}
