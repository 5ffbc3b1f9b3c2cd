/*
 * The dictionary's operations, with lua-nginx-module's results, errors and memory behaviour
 * (ngx_http_lua_shdict.c is the reference for behaviour: the same lookups, the same LRU
 * touches, the same 30 forced evictions before "no memory").
 */
#include <math.h>
#include <stdlib.h>

#include "shd_alloc.h"
#include "shd_entry.h"
#include "tresty_shdict.h"

#define MAX_FORCED_EVICTIONS 30

static int check_key(size_t klen) {
  if (klen == 0) return TRESTY_SHD_E_EMPTY_KEY;
  if (klen > SHD_KEY_MAX) return TRESTY_SHD_E_KEY_TOO_LONG;
  return TRESTY_SHD_OK;
}

#define LOCK_OR_FAIL(z) \
  do { \
    if (shd_lock(z) != 0) return TRESTY_SHD_E_LOCK; \
  } while (0)

/* A value's bytes as stored: numbers as a double, booleans as one byte. */
typedef struct {
  const uint8_t *p;
  uint32_t len;
  double num;
  uint8_t b;
} bytes;

static int value_bytes(const tresty_shd_value *v, bytes *out, int allow_bool) {
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
static uint32_t alloc_evicting(shd_zone *z, uint32_t size, int evict, int *forcible) {
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

static shd_entry *new_entry(shd_zone *z, uint32_t off, const uint8_t *key, size_t klen, uint32_t hash,
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

static int64_t expires_at(shd_zone *z, int64_t ttl_ms) { return ttl_ms > 0 ? shd_now(z) + ttl_ms : 0; }

static void copy_out(const uint8_t *p, uint32_t len, uint8_t vtype, uint8_t *buf, size_t cap,
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
  out->type = SHD_TNIL;
  out->stale = 0;
  out->flags = 0;
  out->len = 0;
  out->str = NULL;
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
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
    copy_out(shd_val(e), e->vlen, e->vtype, buf, cap, out);
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
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  bytes val;
  rc = value_bytes(v, &val, 1);
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
      /* Same size: overwrite in place (its old bytes go to the undo log). */
      tx_wi64(z, &e->expires, expires_at(z, exptime_ms));
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
  uint32_t off = alloc_evicting(z, shd_entry_size((uint32_t)klen, val.len), !(op & TRESTY_SHD_SAFE), forcible);
  if (off == 0) {
    rc = TRESTY_SHD_E_NO_MEMORY;
    goto done;
  }
  e = new_entry(z, off, key, klen, hash, (uint8_t)v->type, val.len);
  e->expires = expires_at(z, exptime_ms);
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
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
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
  if (found == SHD_EXPIRED && e->vlen == sizeof(double) && e->vtype != SHD_TLIST) {
    tx_save(z, shd_off(z, e), (uint32_t)sizeof(shd_entry));
    tx_save(z, shd_off(z, shd_val(e)), sizeof(double));
  } else {
    if (found == SHD_EXPIRED) {
      shd_entry_free(z, e);
      tx_commit(z);
    }
    uint32_t off = alloc_evicting(z, shd_entry_size((uint32_t)klen, sizeof(double)), 1, forcible);
    if (off == 0) {
      rc = TRESTY_SHD_E_NO_MEMORY;
      goto done;
    }
    e = new_entry(z, off, key, klen, hash, SHD_TNUMBER, sizeof(double));
    shd_link_new(z, e);
  }
  e->uflags = 0;
  e->expires = expires_at(z, init_ttl_ms);
  e->vtype = SHD_TNUMBER;
  memcpy(shd_val(e), &num, sizeof num);
  *out = num;
done:
  shd_unlock(z);
  return rc;
}

int tresty_shd_push(tresty_shd *z, int left, const uint8_t *key, size_t klen, const tresty_shd_value *v,
                    uint32_t *len) {
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  bytes val;
  if (v->type != SHD_TSTRING && v->type != SHD_TNUMBER) return TRESTY_SHD_E_BAD_VALUE;
  rc = value_bytes(v, &val, 0);
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
  if (found == SHD_NONE) {
    /* The entry and its first element are one step: never an empty list in the zone. */
    uint32_t off = shd_alloc(z, shd_entry_size((uint32_t)klen, sizeof(shd_listhead)));
    if (off == 0) {
      rc = TRESTY_SHD_E_NO_MEMORY;
      goto done;
    }
    e = new_entry(z, off, key, klen, hash, SHD_TLIST, 0);
    shd_list(e)->first = shd_list(e)->last = 0;
    shd_link_new(z, e);
  }
  uint32_t n = shd_alloc(z, (uint32_t)sizeof(shd_lnode) + val.len);
  if (n == 0) {
    shd_rollback(z); /* a list entry made in this step goes again */
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
  out->type = SHD_TNIL;
  out->stale = 0;
  out->flags = 0;
  out->len = 0;
  out->str = NULL;
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
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
  copy_out((const uint8_t *)(node + 1), node->vlen, node->vtype, buf, cap, out);
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
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_expire_lru(z, 1);
  shd_entry *e;
  if (shd_find(z, key, klen, hash, &e) == SHD_LIVE) {
    if (e->vtype != SHD_TLIST) rc = TRESTY_SHD_E_NOT_A_LIST;
    else *out = e->vlen;
  }
  shd_unlock(z);
  return rc;
}

int tresty_shd_ttl(tresty_shd *z, const uint8_t *key, size_t klen, int64_t *ms) {
  *ms = 0;
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_entry *e = shd_peek(z, key, klen, hash);
  if (e == NULL) rc = TRESTY_SHD_E_NOT_FOUND;
  else if (e->expires != 0) *ms = e->expires - shd_now(z);
  shd_unlock(z);
  return rc;
}

int tresty_shd_expire(tresty_shd *z, const uint8_t *key, size_t klen, int64_t exptime_ms) {
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_entry *e = shd_peek(z, key, klen, hash);
  if (e == NULL) rc = TRESTY_SHD_E_NOT_FOUND;
  else tx_wi64(z, &e->expires, expires_at(z, exptime_ms));
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

/* ---- tresty/limit's leaky bucket (lua-resty-limit-traffic's limit.req, made atomic) ---- */

typedef struct {
  double excess; /* thousandths of a request */
  double last;   /* ms */
} leaky_rec;

int tresty_shd_leaky(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst, int commit,
                     double *excess_out) {
  *excess_out = 0;
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  if (!(rate > 0)) return TRESTY_SHD_E_BAD_VALUE;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  double now = (double)shd_now(z);
  double excess = 0;
  if (found == SHD_LIVE) {
    if (e->vtype != SHD_TLEAKY) {
      rc = TRESTY_SHD_E_BAD_VALUE;
      goto done;
    }
    leaky_rec rec;
    memcpy(&rec, shd_val(e), sizeof rec);
    excess = fmax(rec.excess - rate * fabs(now - rec.last) / 1000 + 1000, 0);
    if (excess > burst) {
      *excess_out = excess;
      rc = TRESTY_SHD_E_REJECTED;
      goto done;
    }
  }
  *excess_out = excess;
  if (!commit) goto done;
  leaky_rec rec = {excess, now};
  /* Once the bucket has drained by a whole request, a missing record means the same: let it
   * expire then rather than sit in the zone. */
  int64_t ttl = (int64_t)ceil((excess + 1000) * 1000 / rate) + 1;
  int forcible = 0;
  if (found != SHD_NONE && e->vtype != SHD_TLIST && e->vlen == sizeof rec) {
    tx_save(z, shd_off(z, e), (uint32_t)sizeof(shd_entry));
    tx_save(z, shd_off(z, shd_val(e)), sizeof rec);
  } else {
    if (found != SHD_NONE) {
      shd_entry_free(z, e);
      tx_commit(z);
    }
    uint32_t off = alloc_evicting(z, shd_entry_size((uint32_t)klen, sizeof rec), 1, &forcible);
    if (off == 0) {
      rc = TRESTY_SHD_E_NO_MEMORY;
      goto done;
    }
    e = new_entry(z, off, key, klen, hash, SHD_TLEAKY, sizeof rec);
    shd_link_new(z, e);
  }
  e->vtype = SHD_TLEAKY;
  e->uflags = 0;
  e->expires = shd_now(z) + ttl;
  memcpy(shd_val(e), &rec, sizeof rec);
done:
  shd_unlock(z);
  return rc;
}

int tresty_shd_leaky_uncommit(tresty_shd *z, const uint8_t *key, size_t klen, double rate) {
  int rc = check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  uint32_t hash = (uint32_t)shd_hash(key, klen);
  LOCK_OR_FAIL(z);
  shd_entry *e;
  if (shd_find(z, key, klen, hash, &e) != SHD_LIVE || e->vtype != SHD_TLEAKY) {
    rc = TRESTY_SHD_E_NOT_FOUND;
    goto done;
  }
  leaky_rec rec;
  memcpy(&rec, shd_val(e), sizeof rec);
  rec.excess = fmax(rec.excess - 1000, 0);
  tx_save(z, shd_off(z, shd_val(e)), sizeof rec);
  memcpy(shd_val(e), &rec, sizeof rec);
  if (rate > 0) tx_wi64(z, &e->expires, (int64_t)rec.last + (int64_t)ceil((rec.excess + 1000) * 1000 / rate) + 1);
done:
  shd_unlock(z);
  return rc;
}
