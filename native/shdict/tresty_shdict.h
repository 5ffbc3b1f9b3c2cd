/*
 * tresty's shared dictionary (js_shared_dict, ngx.shared.DICT): the C contract. Every
 * function returns an int status (TRESTY_SHD_OK or a TRESTY_SHD_E_* code, whose text is
 * tresty_shd_strerror's) and writes results to out-parameters (STYLE 10). The operations
 * follow lua-nginx-module's shdict: the same results, errors and memory behaviour.
 */
#ifndef TRESTY_SHDICT_H
#define TRESTY_SHDICT_H

#include <stddef.h>
#include <stdint.h>

#define TRESTY_SHD_EXPORT __attribute__((visibility("default")))

typedef struct shd_zone tresty_shd;

enum {
  TRESTY_SHD_OK = 0,
  TRESTY_SHD_E_EXISTS,       /* "exists" */
  TRESTY_SHD_E_NOT_FOUND,    /* "not found" */
  TRESTY_SHD_E_NO_MEMORY,    /* "no memory" */
  TRESTY_SHD_E_NOT_A_NUMBER, /* "not a number" */
  TRESTY_SHD_E_NOT_A_LIST,   /* "value not a list" */
  TRESTY_SHD_E_IS_LIST,      /* "value is a list" */
  TRESTY_SHD_E_EMPTY_KEY,    /* "empty key" */
  TRESTY_SHD_E_KEY_TOO_LONG, /* "key too long" */
  TRESTY_SHD_E_ADD_NIL,      /* "attempt to add or replace nil values" */
  TRESTY_SHD_E_BAD_VALUE,    /* "bad value type" */
  TRESTY_SHD_E_REJECTED,     /* "rejected" (the leaky bucket is full) */
  TRESTY_SHD_E_LOCK,         /* the zone's lock cannot be taken */
  TRESTY_SHD_E_SYS,          /* a system call failed: tresty_shd_last_error() */
  TRESTY_SHD_E_COUNT
};

/* store operations, as lua-nginx-module numbers them */
#define TRESTY_SHD_SET 0
#define TRESTY_SHD_ADD 1
#define TRESTY_SHD_REPLACE 2
#define TRESTY_SHD_SAFE 4

typedef struct {
  int type;           /* SHD_TNIL (delete), SHD_TBOOLEAN, SHD_TNUMBER, SHD_TSTRING */
  double num;         /* numbers; booleans as 0 / 1 */
  const uint8_t *str; /* strings */
  size_t len;
} tresty_shd_value;

typedef struct {
  int type;      /* SHD_TNIL when there is no value */
  int stale;     /* get with stale: the value had expired */
  uint32_t flags;
  double num;    /* numbers; booleans as 0 / 1 */
  uint8_t *str;  /* strings: the caller's buf, or malloc()ed when it did not fit (free it if != buf) */
  size_t len;
} tresty_shd_result;

typedef struct {
  uint64_t capacity;
  uint64_t free_bytes;
  uint32_t entries;
  uint32_t pad;
  uint64_t recoveries;
  uint64_t rollbacks;
  uint64_t resets;
} tresty_shd_info;

TRESTY_SHD_EXPORT const char *tresty_shd_strerror(int code);
/* The message of the last TRESTY_SHD_E_SYS (per thread). */
TRESTY_SHD_EXPORT const char *tresty_shd_last_error(void);

/* Creates the segment file `path` (it must not exist) of `size` bytes and formats it. */
TRESTY_SHD_EXPORT int tresty_shd_create(const char *path, uint64_t size, const char *name, tresty_shd **out);
/* Maps an existing zone. */
TRESTY_SHD_EXPORT int tresty_shd_attach(const char *path, tresty_shd **out);
TRESTY_SHD_EXPORT int tresty_shd_detach(tresty_shd *z);

TRESTY_SHD_EXPORT int tresty_shd_get(tresty_shd *z, const uint8_t *key, size_t klen, int stale, uint8_t *buf,
                                     size_t cap, tresty_shd_result *out);
TRESTY_SHD_EXPORT int tresty_shd_store(tresty_shd *z, int op, const uint8_t *key, size_t klen,
                                       const tresty_shd_value *v, int64_t exptime_ms, uint32_t flags, int *forcible);
TRESTY_SHD_EXPORT int tresty_shd_incr(tresty_shd *z, const uint8_t *key, size_t klen, double delta, int has_init,
                                      double init, int64_t init_ttl_ms, double *out, int *forcible);
/* `len`: the list's length; on TRESTY_SHD_E_NO_MEMORY, 1 when the element found no room and 0 when
 * a new list's own entry did not (lua-nginx-module answers nil and false there). */
TRESTY_SHD_EXPORT int tresty_shd_push(tresty_shd *z, int left, const uint8_t *key, size_t klen,
                                      const tresty_shd_value *v, uint32_t *len);
TRESTY_SHD_EXPORT int tresty_shd_pop(tresty_shd *z, int left, const uint8_t *key, size_t klen, uint8_t *buf,
                                     size_t cap, tresty_shd_result *out);
TRESTY_SHD_EXPORT int tresty_shd_llen(tresty_shd *z, const uint8_t *key, size_t klen, uint32_t *out);
/* `ms`: the time left, 0 for a key that never expires, negative for an expired key not yet
 * reclaimed (as lua-nginx-module's peek); TRESTY_SHD_E_NOT_FOUND for no key. */
TRESTY_SHD_EXPORT int tresty_shd_ttl(tresty_shd *z, const uint8_t *key, size_t klen, int64_t *ms);
TRESTY_SHD_EXPORT int tresty_shd_expire(tresty_shd *z, const uint8_t *key, size_t klen, int64_t exptime_ms);
TRESTY_SHD_EXPORT int tresty_shd_flush_all(tresty_shd *z);
TRESTY_SHD_EXPORT int tresty_shd_flush_expired(tresty_shd *z, uint32_t max, uint32_t *freed);
/* Up to `max` (0: all) live keys, least recently used first, packed as [u16 len][bytes] in a
 * malloc()ed buffer the caller frees. */
TRESTY_SHD_EXPORT int tresty_shd_keys(tresty_shd *z, uint32_t max, uint8_t **out, size_t *out_len, uint32_t *count);
TRESTY_SHD_EXPORT int tresty_shd_stats(tresty_shd *z, tresty_shd_info *out);

/* lua-resty-limit-traffic's leaky bucket, atomic under the zone's lock. `rate` and `burst` in
 * thousandths of a request (per second for rate). `excess` receives the bucket's level after
 * this request (thousandths). TRESTY_SHD_E_REJECTED when it would exceed the burst. */
TRESTY_SHD_EXPORT int tresty_shd_leaky(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst,
                                       int commit, double *excess);
/* The same as nginx's limit_req counts: in whole thousandths (what drained since the last request,
 * rate * ms / 1000, rounded down, as nginx's integer arithmetic); `rate` a whole number. */
TRESTY_SHD_EXPORT int tresty_shd_leaky_whole(tresty_shd *z, const uint8_t *key, size_t klen, double rate, double burst,
                                             int commit, double *excess);
/* Takes back one committed request (limit_req's uncommit). */
TRESTY_SHD_EXPORT int tresty_shd_leaky_uncommit(tresty_shd *z, const uint8_t *key, size_t klen, double rate);
/* limit_conn's place: the key's count (a number, absent = 0) plus one when that stays within
 * `max`, checked and written under one lock; else TRESTY_SHD_E_REJECTED, the count left as it
 * was. `count` receives the count with this request (also when refused). */
TRESTY_SHD_EXPORT int tresty_shd_conn_take(tresty_shd *z, const uint8_t *key, size_t klen, double max, double *count);

/* Checks every invariant of the zone (under its lock): 0, or 1 and the first that fails, or 2
 * when the check could not run (no memory for it). */
TRESTY_SHD_EXPORT int tresty_shd_check(tresty_shd *z, char *msg, size_t cap);

#endif
