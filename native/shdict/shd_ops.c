/*
 * The dictionary's operations, with lua-nginx-module's results, errors and memory behaviour
 * (ngx_http_lua_shdict.c is the reference for behaviour: the same lookups, the same LRU
 * touches, the same 30 forced evictions before "no memory").
 */
#include <math.h>
#include <stdlib.h>

#include "shd_ops.h"

#define MAX_FORCED_EVICTIONS 30

int shd_check_key(size_t klen) {
  if (klen == 0) return TRESTY_SHD_E_EMPTY_KEY;
  if (klen > SHD_KEY_MAX) return TRESTY_SHD_E_KEY_TOO_LONG;
  return TRESTY_SHD_OK;
}

int shd_value_bytes(const tresty_shd_value *v, shd_bytes *out, int allow_bool) {
  switch (v->type) {
  case SHD_TSTRING:
    if (v->len > SHD_MAX_SIZE) return TRESTY_SHD_E_NO_MEMORY;
    out->p = v->str != NULL ? v->str : (const uint8_t *)""; /* NULL means "delete" below */
    out->len = (uint32_t)v->len;
    return TRESTY_SHD_OK;
  case SHD_TNUMBER:
    out->num = v->num;
    out->p = (const uint8_t *)&out->num;
    out->len = sizeof(double);
    return TRESTY_SHD_OK;
  case SHD_TBOOLEAN:
    if (!allow_bool) return TRESTY_SHD_E_BAD_VALUE;
    out->b = v->num != 0;
    out->p = &out->b;
    out->len = 1;
    return TRESTY_SHD_OK;
  case SHD_TNIL:
    out->p = NULL;
    out->len = 0;
    return TRESTY_SHD_OK;
  default:
    return TRESTY_SHD_E_BAD_VALUE;
  }
}

/* Allocates, forcing out least recently used entries if the operation allows it. */
uint32_t shd_alloc_evicting(shd_zone *z, uint32_t size, int evict, int *forcible) {
  uint32_t off = shd_alloc(z, size);
  if (off != 0 || !evict) return off;
  for (int i = 0; i < MAX_FORCED_EVICTIONS; i++) {
    if (shd_expire_lru(z, 0) == 0) break;
    *forcible = 1;
    off = shd_alloc(z, size);
    if (off != 0) return off;
  }
  return 0;
}

shd_entry *shd_new_entry(shd_zone *z, uint32_t off, const uint8_t *key, size_t klen, uint32_t hash,
                            uint8_t vtype, uint32_t vlen) {
  shd_entry *e = shd_e(z, off);
  memset(e, 0, sizeof *e);
  e->hash = hash;
  e->klen = (uint16_t)klen;
  e->vtype = vtype;
  e->vlen = vlen;
  memcpy(shd_key(e), key, klen);
  return e;
}

int64_t shd_expires_at(shd_zone *z, int64_t ttl_ms) { return ttl_ms > 0 ? shd_now(z) + ttl_ms : 0; }

void shd_copy_out(const uint8_t *p, uint32_t len, uint8_t vtype, uint8_t *buf, size_t cap,
                     tresty_shd_result *out) {
  out->type = vtype;
  if (vtype == SHD_TNUMBER) {
    memcpy(&out->num, p, sizeof(double));
  } else if (vtype == SHD_TBOOLEAN) {
    out->num = p[0] != 0;
  } else {
    out->len = len;
    out->str = len <= cap ? buf : malloc(len ? len : 1);
    if (out->str != NULL) memcpy(out->str, p, len);
  }
}

int tresty_shd_get(tresty_shd *z, const uint8_t *key, size_t klen, int stale, uint8_t *buf, size_t cap,
                   tresty_shd_result *out) {
  shd_result_nil(out);
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  if (!stale) shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  if (found == SHD_NONE || (found == SHD_EXPIRED && !stale)) {
    shd_unlock(z);
    return TRESTY_SHD_OK;
  }
  if (e->vtype == SHD_TLIST) rc = TRESTY_SHD_E_IS_LIST;
  else if (e->vtype == SHD_TLEAKY) rc = TRESTY_SHD_E_BAD_VALUE;
  else {
    shd_copy_out(shd_val(e), e->vlen, e->vtype, buf, cap, out);
    out->flags = e->uflags;
    out->stale = found == SHD_EXPIRED;
    if (out->type == SHD_TSTRING && out->str == NULL) rc = TRESTY_SHD_E_NO_MEMORY;
  }
  shd_unlock(z);
  return rc;
}

int tresty_shd_store(tresty_shd *z, int op, const uint8_t *key, size_t klen, const tresty_shd_value *v,
                     int64_t exptime_ms, uint32_t flags, int *forcible) {
  *forcible = 0;
  int rc = shd_check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_bytes val;
  rc = shd_value_bytes(v, &val, 1);
  if (rc != TRESTY_SHD_OK) return rc;
  if (val.p == NULL && (op & (TRESTY_SHD_ADD | TRESTY_SHD_REPLACE))) return TRESTY_SHD_E_ADD_NIL;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  if (op & TRESTY_SHD_REPLACE) {
    if (found != SHD_LIVE) rc = TRESTY_SHD_E_NOT_FOUND;
  } else if (op & TRESTY_SHD_ADD) {
    if (found == SHD_LIVE) rc = TRESTY_SHD_E_EXISTS;
  }
  if (rc != TRESTY_SHD_OK) goto done;
  if (found != SHD_NONE) {
    if (val.p != NULL && val.len == e->vlen && e->vtype != SHD_TLIST && val.len <= SHD_INPLACE_MAX) {
      /* Same size: overwrite in place (its old shd_bytes go to the undo log). */
      tx_wi64(z, &e->expires, shd_expires_at(z, exptime_ms));
      tx_w32(z, &e->uflags, flags);
      tx_w8(z, &e->vtype, (uint8_t)v->type);
      tx_save(z, shd_off(z, shd_val(e)), val.len);
      memcpy(shd_val(e), val.p, val.len);
      goto done;
    }
    shd_entry_free(z, e);
    tx_commit(z);
  }
  if (val.p == NULL) goto done;
  uint32_t off = shd_alloc_evicting(z, shd_entry_size((uint32_t)klen, val.len), !(op & TRESTY_SHD_SAFE), forcible);
  if (off == 0) {
    rc = TRESTY_SHD_E_NO_MEMORY;
    goto done;
  }
  e = shd_new_entry(z, off, key, klen, hash, (uint8_t)v->type, val.len);
  e->expires = shd_expires_at(z, exptime_ms);
  e->uflags = flags;
  memcpy(shd_val(e), val.p, val.len);
  shd_link_new(z, e);
done:
  shd_unlock(z);
  return rc;
}

int tresty_shd_incr(tresty_shd *z, const uint8_t *key, size_t klen, double delta, int has_init, double init,
                    int64_t init_ttl_ms, double *out, int *forcible) {
  *forcible = 0;
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  double num;
  if (found == SHD_LIVE) {
    if (e->vtype != SHD_TNUMBER || e->vlen != sizeof(double)) {
      rc = TRESTY_SHD_E_NOT_A_NUMBER;
      goto done;
    }
    double *p = (double *)shd_val(e);
    num = *p + delta;
    tx_save(z, shd_off(z, p), sizeof(double));
    *p = num;
    *out = num;
    goto done;
  }
  if (!has_init) {
    rc = TRESTY_SHD_E_NOT_FOUND;
    goto done;
  }
  num = delta + init;
  rc = shd_put_number(z, found, e, key, klen, hash, num, shd_expires_at(z, init_ttl_ms), forcible);
  if (rc == TRESTY_SHD_OK) *out = num;
done:
  shd_unlock(z);
  return rc;
}

int shd_put_number(shd_zone *z, int found, shd_entry *e, const uint8_t *key, size_t klen, uint32_t hash,
                   double num, int64_t expires, int *forcible) {
  if (found == SHD_EXPIRED && e->vlen == sizeof(double) && e->vtype != SHD_TLIST) {
    tx_save(z, shd_off(z, e), (uint32_t)sizeof(shd_entry));
    tx_save(z, shd_off(z, shd_val(e)), sizeof(double));
  } else {
    if (found == SHD_EXPIRED) {
      shd_entry_free(z, e);
      tx_commit(z);
    }
    uint32_t off = shd_alloc_evicting(z, shd_entry_size((uint32_t)klen, sizeof(double)), 1, forcible);
    if (off == 0) return TRESTY_SHD_E_NO_MEMORY;
    e = shd_new_entry(z, off, key, klen, hash, SHD_TNUMBER, sizeof(double));
    shd_link_new(z, e);
  }
  e->uflags = 0;
  e->expires = expires;
  e->vtype = SHD_TNUMBER;
  memcpy(shd_val(e), &num, sizeof num);
  return TRESTY_SHD_OK;
}
