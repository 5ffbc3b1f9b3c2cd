#include "shd_entry.h"

#include "shd_alloc.h"

shd_entry *shd_peek(shd_zone *z, const uint8_t *key, size_t klen, uint32_t hash) {
  for (uint32_t off = *shd_bucket(z, hash); off != 0;) {
    shd_entry *e = shd_e(z, off);
    if (e->hash == hash && e->klen == klen && memcmp(shd_key(e), key, klen) == 0) return e;
    off = e->hnext;
  }
  return NULL;
}

static void lru_unlink(shd_zone *z, shd_entry *e) {
  shd_hdr *h = z->hdr;
  if (e->prev != 0) tx_w32(z, &shd_e(z, e->prev)->next, e->next);
  else tx_w32(z, &h->lru_head, e->next);
  if (e->next != 0) tx_w32(z, &shd_e(z, e->next)->prev, e->prev);
  else tx_w32(z, &h->lru_tail, e->prev);
}

/* Puts e first; e's own links are written by the caller (logged or not). */
static void lru_link_head(shd_zone *z, uint32_t off) {
  shd_hdr *h = z->hdr;
  if (h->lru_head != 0) tx_w32(z, &shd_e(z, h->lru_head)->prev, off);
  else tx_w32(z, &h->lru_tail, off);
  tx_w32(z, &h->lru_head, off);
}

static void lru_touch(shd_zone *z, shd_entry *e) {
  uint32_t off = shd_off(z, e);
  if (z->hdr->lru_head == off) return;
  lru_unlink(z, e);
  tx_w32(z, &e->prev, 0);
  tx_w32(z, &e->next, z->hdr->lru_head);
  lru_link_head(z, off);
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
  uint32_t off = shd_off(z, e);
  uint32_t *b = shd_bucket(z, e->hash);
  e->hnext = *b;
  e->prev = 0;
  e->next = h->lru_head;
  tx_w32(z, b, off);
  lru_link_head(z, off);
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

int shd_expire_lru(shd_zone *z, int n) {
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
