/* Lists in the dictionary: lpush/rpush, lpop/rpop, llen, as lua-nginx-module does them. */
#include <stdlib.h>

#include "shd_ops.h"

int tresty_shd_push(tresty_shd *z, int left, const uint8_t *key, size_t klen, const tresty_shd_value *v,
                    uint32_t *len) {
  int rc = shd_check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_bytes val;
  if (v->type != SHD_TSTRING && v->type != SHD_TNUMBER) return TRESTY_SHD_E_BAD_VALUE;
  rc = shd_value_bytes(v, &val, 0);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  if (found == SHD_LIVE && e->vtype != SHD_TLIST) {
    rc = TRESTY_SHD_E_NOT_A_LIST;
    goto done;
  }
  if (found == SHD_EXPIRED) {
    /* An expired value (a list too) gives way to a new list. */
    shd_entry_free(z, e);
    tx_commit(z);
    found = SHD_NONE;
  }
  int made = 0;
  if (found == SHD_NONE) {
    /* The entry and its first element are one step: never an empty list in the zone. */
    uint32_t off = shd_alloc(z, shd_entry_size((uint32_t)klen, sizeof(shd_listhead)));
    if (off == 0) {
      rc = TRESTY_SHD_E_NO_MEMORY;
      goto done;
    }
    e = shd_new_entry(z, off, key, klen, hash, SHD_TLIST, 0);
    shd_list(e)->first = shd_list(e)->last = 0;
    shd_link_new(z, e);
    made = 1;
  }
  uint32_t n = shd_alloc(z, (uint32_t)sizeof(shd_lnode) + val.len);
  if (n == 0) {
    /* A list entry made in this step goes again, as lua-nginx-module frees it. Freed, not rolled
     * back: the LRU links are written unlogged (a rollback is for a dead owner, followed by
     * shd_lru_repair), so a rollback left the freed entry in the LRU list and the next walk of
     * it (get_keys, an eviction) read a free block as an entry, or looped. */
    if (made) {
      shd_entry_free(z, e);
      tx_commit(z);
    }
    *len = 1; /* the element's room, not the entry's (tresty_shdict.h) */
    rc = TRESTY_SHD_E_NO_MEMORY;
    goto done;
  }
  shd_lnode *node = shd_node(z, n);
  node->vlen = val.len;
  node->vtype = (uint8_t)v->type;
  memcpy(node + 1, val.p, val.len);
  shd_listhead *l = shd_list(e);
  if (left) {
    node->prev = 0;
    node->next = l->first;
    if (l->first != 0) tx_w32(z, &shd_node(z, l->first)->prev, n);
    else tx_w32(z, &l->last, n);
    tx_w32(z, &l->first, n);
  } else {
    node->next = 0;
    node->prev = l->last;
    if (l->last != 0) tx_w32(z, &shd_node(z, l->last)->next, n);
    else tx_w32(z, &l->first, n);
    tx_w32(z, &l->last, n);
  }
  tx_w32(z, &e->vlen, e->vlen + 1);
  *len = e->vlen;
done:
  shd_unlock(z);
  return rc;
}

int tresty_shd_pop(tresty_shd *z, int left, const uint8_t *key, size_t klen, uint8_t *buf, size_t cap,
                   tresty_shd_result *out) {
  shd_result_nil(out);
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_expire_lru(z, 1);
  shd_entry *e;
  if (shd_find(z, key, klen, hash, &e) != SHD_LIVE) goto done;
  if (e->vtype != SHD_TLIST) {
    rc = TRESTY_SHD_E_NOT_A_LIST;
    goto done;
  }
  shd_listhead *l = shd_list(e);
  uint32_t n = left ? l->first : l->last;
  if (n == 0) goto done; /* never: an empty list is removed */
  shd_lnode *node = shd_node(z, n);
  shd_copy_out((const uint8_t *)(node + 1), node->vlen, node->vtype, buf, cap, out);
  if (out->type == SHD_TSTRING && out->str == NULL) {
    rc = TRESTY_SHD_E_NO_MEMORY;
    goto done;
  }
  if (e->vlen <= 1) {
    shd_entry_free(z, e);
  } else {
    if (left) {
      tx_w32(z, &l->first, node->next);
      tx_w32(z, &shd_node(z, node->next)->prev, 0);
    } else {
      tx_w32(z, &l->last, node->prev);
      tx_w32(z, &shd_node(z, node->prev)->next, 0);
    }
    tx_w32(z, &e->vlen, e->vlen - 1);
    shd_free(z, n);
  }
done:
  shd_unlock(z);
  return rc;
}

int tresty_shd_llen(tresty_shd *z, const uint8_t *key, size_t klen, uint32_t *out) {
  *out = 0;
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_expire_lru(z, 1);
  shd_entry *e;
  if (shd_find(z, key, klen, hash, &e) == SHD_LIVE) {
    if (e->vtype != SHD_TLIST) rc = TRESTY_SHD_E_NOT_A_LIST;
    else *out = e->vlen;
  }
  shd_unlock(z);
  return rc;
}
