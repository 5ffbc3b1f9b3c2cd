/*
 * What the dictionary's operations share (shd_ops.c, shd_list.c, shd_admin.c, shd_leaky.c): key and
 * value checks, allocation with lua-nginx-module's forced evictions, making and reading entries.
 */
#ifndef SHD_OPS_H
#define SHD_OPS_H

#include <stdint.h>
#include <string.h>

#include "shd_alloc.h"
#include "shd_entry.h"
#include "tresty_shdict.h"

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
} shd_bytes;

int shd_check_key(size_t klen);

/* The start of an operation on one key: the key checked, its hash, the zone locked. Returns
   TRESTY_SHD_OK with the lock held, else the status to return (the lock not taken). */
static inline int shd_lock_key(shd_zone *z, const uint8_t *key, size_t klen, uint32_t *hash) {
  int rc = shd_check_key(klen);
  if (rc != TRESTY_SHD_OK) return rc;
  *hash = (uint32_t)shd_hash(key, klen);
  return shd_lock(z) != 0 ? TRESTY_SHD_E_LOCK : TRESTY_SHD_OK;
}

/* A result without a value: what a miss answers. */
static inline void shd_result_nil(tresty_shd_result *out) {
  out->type = SHD_TNIL;
  out->stale = 0;
  out->flags = 0;
  out->len = 0;
  out->str = NULL;
}
int shd_value_bytes(const tresty_shd_value *v, shd_bytes *out, int allow_bool);
/* Allocates, forcing out least recently used entries if the operation allows it. */
uint32_t shd_alloc_evicting(shd_zone *z, uint32_t size, int evict, int *forcible);
shd_entry *shd_new_entry(shd_zone *z, uint32_t off, const uint8_t *key, size_t klen, uint32_t hash,
                         uint8_t vtype, uint32_t vlen);
int64_t shd_expires_at(shd_zone *z, int64_t ttl_ms);
/* Stores the number `num` for a key with no live entry (`found` SHD_NONE, or SHD_EXPIRED with its
 * entry `e`), reusing the expired entry's room when it fits. Under the lock. */
int shd_put_number(shd_zone *z, int found, shd_entry *e, const uint8_t *key, size_t klen, uint32_t hash,
                   double num, int64_t expires, int *forcible);
void shd_copy_out(const uint8_t *p, uint32_t len, uint8_t vtype, uint8_t *buf, size_t cap,
                  tresty_shd_result *out);

#endif
