/* tresty/limit's atomic steps: the leaky bucket (lua-resty-limit-traffic's limit.req, made atomic
 * in the zone) and limit_conn's check-and-take of a place. */
#include <math.h>

#include "shd_ops.h"

typedef struct {
  double excess; /* thousandths of a request */
  double last;   /* ms */
} leaky_rec;

static int leaky(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst, int commit, int whole,
                 double *excess_out) {
  *excess_out = 0;
  int rc = shd_check_key(klen);
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
    double drained = rate * fabs(now - rec.last) / 1000;
    excess = fmax(rec.excess - (whole ? floor(drained) : drained) + 1000, 0);
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
    uint32_t off = shd_alloc_evicting(z, shd_entry_size((uint32_t)klen, sizeof rec), 1, &forcible);
    if (off == 0) {
      rc = TRESTY_SHD_E_NO_MEMORY;
      goto done;
    }
    e = shd_new_entry(z, off, key, klen, hash, SHD_TLEAKY, sizeof rec);
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

int tresty_shd_leaky(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst, int commit,
                     double *excess_out) {
  return leaky(z, key, klen, rate, burst, commit, 0, excess_out);
}

/* nginx's limit_req keeps the excess as an integer: a fraction of a thousandth drained is not,
   which decides a request at the edge of `burst` or `delay` as nginx does. */
int tresty_shd_leaky_whole(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst, int commit,
                           double *excess_out) {
  return leaky(z, key, klen, rate, burst, commit, 1, excess_out);
}

int tresty_shd_leaky_uncommit(tresty_shd *z, const uint8_t *key, size_t klen, double rate) {
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
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

/* One check and one write under the lock, as nginx's limit_conn: an increment undone after the
 * fact would, for a moment, count a refused request and refuse another one that fits. */
int tresty_shd_conn_take(tresty_shd *z, const uint8_t *key, size_t klen, double max, double *count) {
  *count = 0;
  uint32_t hash;
  int rc = shd_lock_key(z, key, klen, &hash);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_expire_lru(z, 1);
  shd_entry *e;
  int found = shd_find(z, key, klen, hash, &e);
  if (found == SHD_LIVE) {
    if (e->vtype != SHD_TNUMBER || e->vlen != sizeof(double)) {
      rc = TRESTY_SHD_E_NOT_A_NUMBER;
      goto done;
    }
    double *p = (double *)shd_val(e);
    *count = *p + 1;
    if (*count > max) {
      rc = TRESTY_SHD_E_REJECTED;
      goto done;
    }
    tx_save(z, shd_off(z, p), sizeof(double));
    *p = *count;
    goto done;
  }
  *count = 1;
  if (1 > max) {
    rc = TRESTY_SHD_E_REJECTED;
    goto done;
  }
  int forcible = 0;
  rc = shd_put_number(z, found, e, key, klen, hash, 1, 0, &forcible);
done:
  shd_unlock(z);
  return rc;
}
