/*
 * The koffi candidates of bench/shdict-binding.mjs (native/build/libtresty_shdict.so): the same
 * operations as the N-API binding with only numbers and pointers crossing the call. Kept so the
 * choice recorded in bench/README.md can be measured again; tresty itself uses shd_napi.c.
 *
 * The scratch buffer (registered once): [0..8) a double, [8..12) a length, [12..16) flags,
 * [16..) the key on the way in, the value on the way out (after the key for a store).
 */
#include <string.h>

#include "shd_layout.h"
#include "tresty_shdict.h"

#define KS_DATA 16

static uint8_t *ks;
static uint32_t ks_cap;

TRESTY_SHD_EXPORT int tresty_shd_k_scratch(uint8_t *p, uint32_t cap) {
  ks = p;
  ks_cap = cap;
  return TRESTY_SHD_OK;
}

static int finish_get(int rc, tresty_shd_result *r, uint8_t *buf) {
  if (rc != TRESTY_SHD_OK) return -rc;
  memcpy(ks, &r->num, 8);
  memcpy(ks + 12, &r->flags, 4);
  if (r->type == SHD_TSTRING) {
    uint32_t len = (uint32_t)r->len;
    memcpy(ks + 8, &len, 4);
    if (r->str != buf) { /* larger than the scratch: cut (a benchmark never gets here) */
      memcpy(ks + KS_DATA, r->str, ks_cap - KS_DATA);
    }
  }
  return r->type;
}

/* The key is in the scratch; the value's type is returned (negative: -status). */
TRESTY_SHD_EXPORT int tresty_shd_k_get(tresty_shd *z, uint32_t klen) {
  uint8_t key[512];
  if (klen > sizeof key) return -TRESTY_SHD_E_KEY_TOO_LONG;
  memcpy(key, ks + KS_DATA, klen);
  tresty_shd_result r;
  uint8_t *buf = ks + KS_DATA;
  int rc = tresty_shd_get(z, key, klen, 0, buf, ks_cap - KS_DATA, &r);
  return finish_get(rc, &r, buf);
}

/* The key comes as a string argument (koffi converts it); the value goes to the scratch. */
TRESTY_SHD_EXPORT int tresty_shd_k_get_str(tresty_shd *z, const char *key, uint32_t klen) {
  tresty_shd_result r;
  uint8_t *buf = ks + KS_DATA;
  int rc = tresty_shd_get(z, (const uint8_t *)key, klen, 0, buf, ks_cap - KS_DATA, &r);
  return finish_get(rc, &r, buf);
}

/* Key then value in the scratch; returns the status, forcible in the flags slot. */
TRESTY_SHD_EXPORT int tresty_shd_k_set(tresty_shd *z, uint32_t klen, int type, uint32_t vlen, double num) {
  tresty_shd_value v = {type, num, ks + KS_DATA + klen, vlen};
  int forcible = 0;
  int rc = tresty_shd_store(z, TRESTY_SHD_SET, ks + KS_DATA, klen, &v, 0, 0, &forcible);
  memcpy(ks + 12, &forcible, 4);
  return rc;
}

/* The key in the scratch; the new value in the double slot. */
TRESTY_SHD_EXPORT int tresty_shd_k_incr(tresty_shd *z, uint32_t klen, double delta) {
  double out = 0;
  int forcible = 0;
  int rc = tresty_shd_incr(z, ks + KS_DATA, klen, delta, 0, 0, 0, &out, &forcible);
  memcpy(ks, &out, 8);
  return rc;
}
