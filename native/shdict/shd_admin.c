/* Keys and the whole dictionary: ttl, expire, flush_all, flush_expired, get_keys, stats. */
#include <stdlib.h>

#include "shd_ops.h"

int tresty_shd_ttl(tresty_shd *z, const uint8_t *key, size_t klen, int64_t *ms) {
  *ms = 0;
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_entry *e = shd_peek(z, key, klen, hash);
  if (e == NULL) rc = TRESTY_SHD_E_NOT_FOUND;
  else if (e->expires != 0) *ms = e->expires - shd_now(z);
  shd_unlock(z);
  return rc;
}

int tresty_shd_expire(tresty_shd *z, const uint8_t *key, size_t klen, int64_t exptime_ms) {
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_entry *e = shd_peek(z, key, klen, hash);
  if (e == NULL) rc = TRESTY_SHD_E_NOT_FOUND;
  else tx_wi64(z, &e->expires, shd_expires_at(z, exptime_ms));
  shd_unlock(z);
  return rc;
}

int tresty_shd_flush_all(tresty_shd *z) {
  LOCK_OR_FAIL(z);
  /* As lua-nginx-module: every entry expires now; the tail one is freed, the rest go as
   * operations meet them (or by flush_expired). */
  for (uint32_t off = z->hdr->lru_head; off != 0;) {
    shd_entry *e = shd_e(z, off);
    tx_wi64(z, &e->expires, 1);
    tx_commit(z);
    off = e->next;
  }
  shd_expire_lru(z, 0);
  shd_unlock(z);
  return TRESTY_SHD_OK;
}

int tresty_shd_flush_expired(tresty_shd *z, uint32_t max, uint32_t *freed) {
  *freed = 0;
  LOCK_OR_FAIL(z);
  for (uint32_t off = z->hdr->lru_tail; off != 0;) {
    shd_entry *e = shd_e(z, off);
    uint32_t prev = e->prev;
    if (e->expires != 0 && e->expires - shd_now(z) <= 0) {
      shd_entry_free(z, e);
      tx_commit(z);
      if (++*freed == max) break;
    }
    off = prev;
  }
  shd_unlock(z);
  return TRESTY_SHD_OK;
}

int tresty_shd_keys(tresty_shd *z, uint32_t max, uint8_t **out, size_t *out_len, uint32_t *count) {
  *out = NULL;
  *out_len = 0;
  *count = 0;
  LOCK_OR_FAIL(z);
  size_t bytes_needed = 0;
  uint32_t n = 0;
  for (uint32_t off = z->hdr->lru_tail; off != 0 && (max == 0 || n < max);) {
    shd_entry *e = shd_e(z, off);
    if (e->expires == 0 || e->expires - shd_now(z) > 0) {
      bytes_needed += 2u + e->klen;
      n++;
    }
    off = e->prev;
  }
  uint8_t *buf = malloc(bytes_needed ? bytes_needed : 1);
  if (buf == NULL) {
    shd_unlock(z);
    return TRESTY_SHD_E_NO_MEMORY;
  }
  size_t pos = 0;
  uint32_t i = 0;
  for (uint32_t off = z->hdr->lru_tail; off != 0 && i < n;) {
    shd_entry *e = shd_e(z, off);
    if (e->expires == 0 || e->expires - shd_now(z) > 0) {
      buf[pos] = (uint8_t)(e->klen & 0xff);
      buf[pos + 1] = (uint8_t)(e->klen >> 8);
      memcpy(buf + pos + 2, shd_key(e), e->klen);
      pos += 2u + e->klen;
      i++;
    }
    off = e->prev;
  }
  shd_unlock(z);
  *out = buf;
  *out_len = pos;
  *count = i;
  return TRESTY_SHD_OK;
}

int tresty_shd_stats(tresty_shd *z, tresty_shd_info *out) {
  LOCK_OR_FAIL(z);
  shd_hdr *h = z->hdr;
  out->capacity = h->size;
  out->free_bytes = h->free_bytes;
  out->entries = h->nentries;
  out->pad = 0;
  out->recoveries = h->recoveries;
  out->rollbacks = h->rollbacks;
  out->resets = h->resets;
  shd_unlock(z);
  return TRESTY_SHD_OK;
}
