#include "shd_alloc.h"

static inline uint32_t log2u(uint32_t v) { return 31u - (uint32_t)__builtin_clz(v); }

void shd_mapping(uint32_t size, uint32_t *fl, uint32_t *sl) {
  if (size < SHD_SMALL) {
    *fl = 0;
    *sl = size / SHD_ALIGN;
    return;
  }
  uint32_t t = log2u(size);
  *fl = t - 7; /* 256 .. 511 is level 1 */
  *sl = (size >> (t - 5)) & (SHD_SL - 1);
}

/* The first class whose every block holds `size` (TLSF's good fit: round up to the next class). */
static void mapping_search(uint32_t size, uint32_t *fl, uint32_t *sl) {
  uint64_t up = size;
  if (size >= SHD_SMALL) up += (1u << (log2u(size) - 5)) - 1;
  if (up > 0xFFFFFFFFu) {
    *fl = SHD_FL; /* no class holds it */
    *sl = 0;
    return;
  }
  shd_mapping((uint32_t)up, fl, sl);
}

uint32_t shd_block_size(uint32_t n) {
  uint32_t need = (n + SHD_BLOCK_HDR + SHD_ALIGN - 1) & ~(SHD_ALIGN - 1);
  return need < SHD_MIN_BLOCK ? SHD_MIN_BLOCK : need;
}

/* A free block's links live in its payload: [0] next, [1] prev (block offsets). */
static inline uint32_t *links(shd_zone *z, uint32_t b) { return SHD_AT(z, b + SHD_BLOCK_HDR, uint32_t); }

void shd_insert_free(shd_zone *z, uint32_t b, uint32_t size) {
  shd_hdr *h = z->hdr;
  uint32_t fl, sl;
  shd_mapping(size, &fl, &sl);
  uint32_t head = h->free_heads[fl][sl];
  uint32_t *l = links(z, b);
  tx_w32(z, &l[0], head);
  tx_w32(z, &l[1], 0);
  if (head != 0) tx_w32(z, &links(z, head)[1], b);
  tx_w32(z, &h->free_heads[fl][sl], b);
  tx_w32(z, &h->sl_bitmap[fl], h->sl_bitmap[fl] | (1u << sl));
  tx_w32(z, &h->fl_bitmap, h->fl_bitmap | (1u << fl));
}

static void remove_free(shd_zone *z, uint32_t b, uint32_t size) {
  shd_hdr *h = z->hdr;
  uint32_t fl, sl;
  shd_mapping(size, &fl, &sl);
  uint32_t *l = links(z, b);
  uint32_t next = l[0], prev = l[1];
  if (next != 0) tx_w32(z, &links(z, next)[1], prev);
  if (prev != 0) {
    tx_w32(z, &links(z, prev)[0], next);
  } else {
    tx_w32(z, &h->free_heads[fl][sl], next);
    if (next == 0) {
      tx_w32(z, &h->sl_bitmap[fl], h->sl_bitmap[fl] & ~(1u << sl));
      if (h->sl_bitmap[fl] == 0) tx_w32(z, &h->fl_bitmap, h->fl_bitmap & ~(1u << fl));
    }
  }
}

/* A free block of at least `need` bytes, or 0: TLSF's good fit, the head of the first class
 * above the request's own. */
static uint32_t good_fit(shd_zone *z, uint32_t need) {
  shd_hdr *h = z->hdr;
  uint32_t fl, sl;
  mapping_search(need, &fl, &sl);
  if (fl >= SHD_FL) return 0;
  uint32_t map = h->sl_bitmap[fl] & (~0u << sl);
  if (map == 0) {
    uint32_t fmap = fl + 1 < 32 ? h->fl_bitmap & (~0u << (fl + 1)) : 0;
    if (fmap == 0) return 0;
    fl = (uint32_t)__builtin_ctz(fmap);
    map = h->sl_bitmap[fl];
  }
  sl = (uint32_t)__builtin_ctz(map);
  return h->free_heads[fl][sl];
}

/* When the good fit finds nothing: the request's own class, whose blocks may be smaller, walked.
 * Without it a value freed in a full zone left a block its same-sized successor could not take,
 * and the zone evicted (or said "no memory") where nginx's slab pages fit it again. Only on the
 * way to an eviction, so the walk costs nothing on the usual path. */
static uint32_t same_class_fit(shd_zone *z, uint32_t need) {
  uint32_t fl, sl;
  shd_mapping(need, &fl, &sl);
  if (fl >= SHD_FL) return 0;
  for (uint32_t b = z->hdr->free_heads[fl][sl]; b != 0; b = links(z, b)[0]) {
    if (shd_b(z, b)->size >= need) return b;
  }
  return 0;
}

uint32_t shd_alloc(shd_zone *z, uint32_t n) {
  shd_hdr *h = z->hdr;
  if (n > h->heap_end - h->heap_off) return 0;
  uint32_t need = shd_block_size(n);
  uint32_t b = good_fit(z, need);
  if (b == 0) b = same_class_fit(z, need);
  if (b == 0) return 0;
  shd_block *blk = shd_b(z, b);
  uint32_t size = blk->size;
  remove_free(z, b, size);
  /* The caller writes the payload unlogged: keep the links a rollback needs. */
  tx_save(z, b + SHD_BLOCK_HDR, 8);
  uint32_t rest = size - need;
  if (rest >= SHD_MIN_BLOCK) {
    uint32_t r = b + need;
    shd_block *rb = shd_b(z, r);
    tx_w32(z, &rb->size, rest);
    tx_w32(z, &rb->prev_size, need);
    tx_w32(z, &shd_b(z, r + rest)->prev_size, rest);
    shd_insert_free(z, r, rest);
    size = need;
  }
  tx_w32(z, &blk->size, size | SHD_USED);
  tx_w64(z, &h->free_bytes, h->free_bytes - size);
  return b + SHD_BLOCK_HDR;
}

void shd_free(shd_zone *z, uint32_t payload) {
  shd_hdr *h = z->hdr;
  uint32_t b = payload - SHD_BLOCK_HDR;
  shd_block *blk = shd_b(z, b);
  uint32_t size = blk->size & ~SHD_USED;
  tx_w64(z, &h->free_bytes, h->free_bytes + size);
  uint32_t next = b + size;
  shd_block *nb = shd_b(z, next);
  if (!(nb->size & SHD_USED)) {
    remove_free(z, next, nb->size);
    size += nb->size;
  }
  if (b != h->heap_off) {
    uint32_t prev = b - blk->prev_size;
    shd_block *pb = shd_b(z, prev);
    if (!(pb->size & SHD_USED)) {
      remove_free(z, prev, pb->size);
      size += pb->size;
      b = prev;
      blk = pb;
    }
  }
  tx_w32(z, &blk->size, size);
  tx_w32(z, &shd_b(z, b + size)->prev_size, size);
  shd_insert_free(z, b, size);
}
