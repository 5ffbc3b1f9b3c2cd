/*
 * The Node binding of the zone (native/build/tresty_shdict.node), used by src/shared/native.ts.
 * N-API was measured against koffi (bench/shdict-binding.mjs, bench/README.md): a call costs
 * tens of nanoseconds instead of ~150, which decides ngx.shared's speed.
 *
 * Zones are numbered per process. Results other than the returned value go to a scratch
 * Float64Array given once by setScratch: [0] the status (TRESTY_SHD_*), [1] flags / a length /
 * a ttl / an excess, [2] stale or forcible. That keeps every call free of allocations.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "shd_layout.h"
#include "tresty_shdict.h"

static tresty_shd **zones;
static uint32_t nzones;
static double *scratch;
static double dummy[4];
static napi_ref scratch_ref;

#define ARGS(n) \
  size_t argc = n; \
  napi_value argv[n]; \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static napi_value throw_sys(napi_env env) {
  napi_throw_error(env, "TRESTY_ERR_SHDICT_ZONE", tresty_shd_last_error());
  return NULL;
}

static tresty_shd *zone_arg(napi_env env, napi_value v) {
  uint32_t id = 0;
  napi_get_value_uint32(env, v, &id);
  if (id >= nzones || zones[id] == NULL) {
    napi_throw_error(env, "TRESTY_ERR_SHDICT_ZONE", "no such zone in this process");
    return NULL;
  }
  return zones[id];
}

/* A JS string as UTF-8: on the stack when short, else malloc()ed. */
typedef struct {
  char *p;
  size_t len;
  char stack[512];
} jstr;

static int get_str(napi_env env, napi_value v, jstr *s) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, s->stack, sizeof s->stack, &n) != napi_ok) return -1;
  s->p = s->stack;
  s->len = n;
  /* A longer string is cut before a character of up to 4 bytes: only a near-full buffer may be
   * a cut one. */
  if (n + 4 < sizeof s->stack) return 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &n);
  if (n < sizeof s->stack) return 0;
  s->p = malloc(n + 1);
  if (s->p == NULL) return -1;
  napi_get_value_string_utf8(env, v, s->p, n + 1, &s->len);
  return 0;
}

static void str_done(jstr *s) {
  if (s->p != s->stack) free(s->p);
}

#define KEY_ARG(s, v) \
  jstr s; \
  if (get_str(env, v, &s) != 0) { \
    napi_throw_type_error(env, "TRESTY_ERR_API_ARGS", "key must be a string"); \
    return NULL; \
  }

static uint32_t add_zone(tresty_shd *z) {
  for (uint32_t i = 0; i < nzones; i++) {
    if (zones[i] == NULL) {
      zones[i] = z;
      return i;
    }
  }
  zones = realloc(zones, (nzones + 1) * sizeof *zones);
  zones[nzones] = z;
  return nzones++;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  ARGS(3);
  jstr path, name;
  double size;
  if (get_str(env, argv[0], &path) || napi_get_value_double(env, argv[1], &size) || get_str(env, argv[2], &name)) {
    napi_throw_type_error(env, "TRESTY_ERR_API_ARGS", "create(path, size, name)");
    return NULL;
  }
  tresty_shd *z;
  int rc = tresty_shd_create(path.p, (uint64_t)size, name.p, &z);
  str_done(&path);
  str_done(&name);
  if (rc != TRESTY_SHD_OK) return throw_sys(env);
  return number(env, add_zone(z));
}

static napi_value js_attach(napi_env env, napi_callback_info info) {
  ARGS(1);
  jstr path;
  if (get_str(env, argv[0], &path)) {
    napi_throw_type_error(env, "TRESTY_ERR_API_ARGS", "attach(path)");
    return NULL;
  }
  tresty_shd *z;
  int rc = tresty_shd_attach(path.p, &z);
  str_done(&path);
  if (rc != TRESTY_SHD_OK) return throw_sys(env);
  return number(env, add_zone(z));
}

static napi_value js_detach(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t id = 0;
  napi_get_value_uint32(env, argv[0], &id);
  if (id < nzones && zones[id] != NULL) {
    tresty_shd_detach(zones[id]);
    zones[id] = NULL;
  }
  return undefined(env);
}

static napi_value js_set_scratch(napi_env env, napi_callback_info info) {
  ARGS(1);
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &t, &len, &data, NULL, NULL) != napi_ok || t != napi_float64_array
      || len < 4) {
    napi_throw_type_error(env, "TRESTY_ERR_API_ARGS", "setScratch(Float64Array(4))");
    return NULL;
  }
  if (scratch_ref != NULL) napi_delete_reference(env, scratch_ref);
  napi_create_reference(env, argv[0], 1, &scratch_ref); /* keeps its memory alive */
  scratch = data;
  return undefined(env);
}

/* The JS value of a result (after the lock is released). */
static napi_value result_value(napi_env env, tresty_shd_result *r, uint8_t *buf) {
  napi_value v;
  switch (r->type) {
  case SHD_TSTRING:
    napi_create_string_utf8(env, (const char *)r->str, r->len, &v);
    if (r->str != buf) free(r->str);
    return v;
  case SHD_TNUMBER: return number(env, r->num);
  case SHD_TBOOLEAN: napi_get_boolean(env, r->num != 0, &v); return v;
  default: return undefined(env);
  }
}

/* get(id, key, stale) */
static napi_value js_get(napi_env env, napi_callback_info info) {
  ARGS(3);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  bool stale = false;
  napi_get_value_bool(env, argv[2], &stale);
  uint8_t buf[4096];
  tresty_shd_result r;
  int rc = tresty_shd_get(z, (const uint8_t *)key.p, key.len, stale, buf, sizeof buf, &r);
  str_done(&key);
  scratch[0] = rc;
  scratch[1] = r.flags;
  scratch[2] = r.stale;
  return result_value(env, &r, buf);
}

/* A JS value as a store value; type -1 for one the dictionary cannot hold. */
static void value_arg(napi_env env, napi_value v, tresty_shd_value *out, jstr *s) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  memset(out, 0, sizeof *out);
  s->p = s->stack;
  switch (t) {
  case napi_string:
    if (get_str(env, v, s) != 0) {
      out->type = -1;
      return;
    }
    out->type = SHD_TSTRING;
    out->str = (const uint8_t *)s->p;
    out->len = s->len;
    return;
  case napi_number:
    out->type = SHD_TNUMBER;
    napi_get_value_double(env, v, &out->num);
    return;
  case napi_boolean: {
    bool b;
    napi_get_value_bool(env, v, &b);
    out->type = SHD_TBOOLEAN;
    out->num = b;
    return;
  }
  case napi_undefined:
  case napi_null: out->type = SHD_TNIL; return;
  default: out->type = -1; return;
  }
}

/* store(id, op, key, value, exptimeMs, flags) -> status; scratch[2] = forcible */
static napi_value js_store(napi_env env, napi_callback_info info) {
  ARGS(6);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  int32_t op = 0;
  napi_get_value_int32(env, argv[1], &op);
  KEY_ARG(key, argv[2]);
  jstr vs;
  tresty_shd_value v;
  value_arg(env, argv[3], &v, &vs);
  double exptime = 0, flags = 0;
  napi_get_value_double(env, argv[4], &exptime);
  napi_get_value_double(env, argv[5], &flags);
  int forcible = 0;
  int rc = v.type < 0 ? TRESTY_SHD_E_BAD_VALUE
                      : tresty_shd_store(z, op, (const uint8_t *)key.p, key.len, &v, (int64_t)exptime,
                                         (uint32_t)(int64_t)flags, &forcible);
  str_done(&key);
  str_done(&vs);
  scratch[2] = forcible;
  return number(env, rc);
}

/* incr(id, key, delta, hasInit, init, initTtlMs) -> value; scratch[0] status, [2] forcible */
static napi_value js_incr(napi_env env, napi_callback_info info) {
  ARGS(6);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  double delta = 0, init = 0, ttl = 0, out = 0;
  bool has_init = false;
  napi_get_value_double(env, argv[2], &delta);
  napi_get_value_bool(env, argv[3], &has_init);
  napi_get_value_double(env, argv[4], &init);
  napi_get_value_double(env, argv[5], &ttl);
  int forcible = 0;
  int rc = tresty_shd_incr(z, (const uint8_t *)key.p, key.len, delta, has_init, init, (int64_t)ttl, &out, &forcible);
  str_done(&key);
  scratch[0] = rc;
  scratch[2] = forcible;
  return number(env, out);
}

/* push(id, left, key, value) -> status; scratch[1] = length */
static napi_value js_push(napi_env env, napi_callback_info info) {
  ARGS(4);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  bool left = false;
  napi_get_value_bool(env, argv[1], &left);
  KEY_ARG(key, argv[2]);
  jstr vs;
  tresty_shd_value v;
  value_arg(env, argv[3], &v, &vs);
  uint32_t len = 0;
  int rc = v.type < 0 ? TRESTY_SHD_E_BAD_VALUE : tresty_shd_push(z, left, (const uint8_t *)key.p, key.len, &v, &len);
  str_done(&key);
  str_done(&vs);
  scratch[1] = len;
  return number(env, rc);
}

/* pop(id, left, key) -> value; scratch[0] = status */
static napi_value js_pop(napi_env env, napi_callback_info info) {
  ARGS(3);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  bool left = false;
  napi_get_value_bool(env, argv[1], &left);
  KEY_ARG(key, argv[2]);
  uint8_t buf[4096];
  tresty_shd_result r;
  int rc = tresty_shd_pop(z, left, (const uint8_t *)key.p, key.len, buf, sizeof buf, &r);
  str_done(&key);
  scratch[0] = rc;
  return result_value(env, &r, buf);
}

/* llen(id, key) -> status; scratch[1] = length */
static napi_value js_llen(napi_env env, napi_callback_info info) {
  ARGS(2);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  uint32_t len = 0;
  int rc = tresty_shd_llen(z, (const uint8_t *)key.p, key.len, &len);
  str_done(&key);
  scratch[1] = len;
  return number(env, rc);
}

/* ttl(id, key) -> status; scratch[1] = ms */
static napi_value js_ttl(napi_env env, napi_callback_info info) {
  ARGS(2);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  int64_t ms = 0;
  int rc = tresty_shd_ttl(z, (const uint8_t *)key.p, key.len, &ms);
  str_done(&key);
  scratch[1] = (double)ms;
  return number(env, rc);
}

/* expire(id, key, exptimeMs) -> status */
static napi_value js_expire(napi_env env, napi_callback_info info) {
  ARGS(3);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  double ms = 0;
  napi_get_value_double(env, argv[2], &ms);
  int rc = tresty_shd_expire(z, (const uint8_t *)key.p, key.len, (int64_t)ms);
  str_done(&key);
  return number(env, rc);
}

static napi_value js_flush_all(napi_env env, napi_callback_info info) {
  ARGS(1);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  return number(env, tresty_shd_flush_all(z));
}

/* flushExpired(id, max) -> freed */
static napi_value js_flush_expired(napi_env env, napi_callback_info info) {
  ARGS(2);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  uint32_t max = 0, freed = 0;
  napi_get_value_uint32(env, argv[1], &max);
  tresty_shd_flush_expired(z, max, &freed);
  return number(env, freed);
}

/* keys(id, max) -> string[] */
static napi_value js_keys(napi_env env, napi_callback_info info) {
  ARGS(2);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  uint32_t max = 0, count = 0;
  napi_get_value_uint32(env, argv[1], &max);
  uint8_t *buf;
  size_t len;
  napi_value arr;
  napi_create_array(env, &arr);
  if (tresty_shd_keys(z, max, &buf, &len, &count) != TRESTY_SHD_OK) return arr;
  size_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t klen = (size_t)buf[pos] | ((size_t)buf[pos + 1] << 8);
    napi_value s;
    napi_create_string_utf8(env, (const char *)buf + pos + 2, klen, &s);
    napi_set_element(env, arr, i, s);
    pos += 2 + klen;
  }
  free(buf);
  return arr;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_set_named_property(env, obj, name, number(env, v));
}

/* stats(id) -> { capacity, free, entries, recoveries, rollbacks, resets } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  ARGS(1);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  tresty_shd_info st;
  memset(&st, 0, sizeof st);
  tresty_shd_stats(z, &st);
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "capacity", (double)st.capacity);
  set_num(env, o, "free", (double)st.free_bytes);
  set_num(env, o, "entries", st.entries);
  set_num(env, o, "recoveries", (double)st.recoveries);
  set_num(env, o, "rollbacks", (double)st.rollbacks);
  set_num(env, o, "resets", (double)st.resets);
  return o;
}

/* check(id) -> null, or the first broken invariant */
static napi_value js_check(napi_env env, napi_callback_info info) {
  ARGS(1);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  char msg[256];
  napi_value v;
  if (tresty_shd_check(z, msg, sizeof msg) == 0) napi_get_null(env, &v);
  else napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* leaky(id, key, rate, burst, commit) -> status; scratch[1] = excess */
static napi_value js_leaky(napi_env env, napi_callback_info info) {
  ARGS(5);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  double rate = 0, burst = 0, excess = 0;
  bool commit = false;
  napi_get_value_double(env, argv[2], &rate);
  napi_get_value_double(env, argv[3], &burst);
  napi_get_value_bool(env, argv[4], &commit);
  int rc = tresty_shd_leaky(z, (const uint8_t *)key.p, key.len, rate, burst, commit, &excess);
  str_done(&key);
  scratch[1] = excess;
  return number(env, rc);
}

/* leakyUncommit(id, key) -> status */
static napi_value js_leaky_uncommit(napi_env env, napi_callback_info info) {
  ARGS(3);
  tresty_shd *z = zone_arg(env, argv[0]);
  if (z == NULL) return NULL;
  KEY_ARG(key, argv[1]);
  double rate = 0;
  napi_get_value_double(env, argv[2], &rate);
  int rc = tresty_shd_leaky_uncommit(z, (const uint8_t *)key.p, key.len, rate);
  str_done(&key);
  return number(env, rc);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  scratch = dummy;
  napi_property_descriptor fns[] = {
    {"create", NULL, js_create, NULL, NULL, NULL, napi_enumerable, NULL},
    {"attach", NULL, js_attach, NULL, NULL, NULL, napi_enumerable, NULL},
    {"detach", NULL, js_detach, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setScratch", NULL, js_set_scratch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"get", NULL, js_get, NULL, NULL, NULL, napi_enumerable, NULL},
    {"store", NULL, js_store, NULL, NULL, NULL, napi_enumerable, NULL},
    {"incr", NULL, js_incr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"push", NULL, js_push, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pop", NULL, js_pop, NULL, NULL, NULL, napi_enumerable, NULL},
    {"llen", NULL, js_llen, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ttl", NULL, js_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
    {"expire", NULL, js_expire, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flushAll", NULL, js_flush_all, NULL, NULL, NULL, napi_enumerable, NULL},
    {"flushExpired", NULL, js_flush_expired, NULL, NULL, NULL, napi_enumerable, NULL},
    {"keys", NULL, js_keys, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"check", NULL, js_check, NULL, NULL, NULL, napi_enumerable, NULL},
    {"leaky", NULL, js_leaky, NULL, NULL, NULL, napi_enumerable, NULL},
    {"leakyUncommit", NULL, js_leaky_uncommit, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  napi_value errors;
  napi_create_array(env, &errors);
  for (int i = 0; i < TRESTY_SHD_E_COUNT; i++) {
    napi_value s;
    napi_create_string_utf8(env, tresty_shd_strerror(i), NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, errors, (uint32_t)i, s);
  }
  napi_set_named_property(env, exports, "errors", errors);
  napi_value limits;
  napi_create_object(env, &limits);
  set_num(env, limits, "minSize", SHD_MIN_SIZE);
  set_num(env, limits, "maxSize", SHD_MAX_SIZE);
  napi_set_named_property(env, exports, "limits", limits);
  return exports;
}
