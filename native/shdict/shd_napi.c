/*
 * The Node binding of the zone (native/build/tresty_shdict.node), used by src/shared/native.ts.
 * N-API was measured against koffi (bench/shdict-binding.mjs, bench/README.md): a call costs
 * tens of nanoseconds instead of ~150, which decides ngx.shared's speed.
 *
 * create() and attach() answer an object of functions bound to the zone (the zone rides in
 * each function's data pointer: no id argument to read and check on the hot calls). Results
 * other than the returned value go to a scratch Float64Array given once by setScratch: [0] the
 * status (TRESTY_SHD_*), [1] flags / a length / a ttl / an excess, [2] stale or forcible. That
 * keeps every call free of allocations.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "shd_layout.h"
#include "tresty_shdict.h"

/* One per zone object; never freed, so a function called after detach() finds z == NULL. */
typedef struct {
  tresty_shd *z;
} zref;

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

/* The zone of a bound function and its n arguments; throws when it was detached. */
#define ZONE_ARGS(n) \
  size_t argc = n; \
  napi_value argv[(n) > 0 ? (n) : 1]; \
  void *data; \
  napi_get_cb_info(env, info, &argc, argv, NULL, &data); \
  tresty_shd *z = ((zref *)data)->z; \
  if (z == NULL) { \
    napi_throw_error(env, "TRESTY_ERR_SHDICT_ZONE", "the zone was detached"); \
    return NULL; \
  }

static napi_value zone_object(napi_env env, tresty_shd *z);

/* A JS string as UTF-8: on the stack when short, else malloc()ed. (Reading UTF-16 and encoding
 * here was measured too: no fewer instructions than V8's WriteUtf8 for short ASCII keys.) */
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
  return zone_object(env, z);
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
  return zone_object(env, z);
}

static napi_value js_detach(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void *data;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &data);
  zref *r = data;
  if (r->z != NULL) tresty_shd_detach(r->z);
  r->z = NULL;
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

/* A JS string from UTF-8 bytes. ASCII (most values) is made as Latin-1: the same string, without
 * V8's UTF-8 decoder, half the instructions for short strings (callgrind: bench/README.md). */
static napi_value js_string(napi_env env, const uint8_t *p, size_t len) {
  napi_value v;
  uint64_t bits = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    bits |= w;
  }
  for (; i < len; i++) bits |= p[i];
  if (bits & 0x8080808080808080ull) napi_create_string_utf8(env, (const char *)p, len, &v);
  else napi_create_string_latin1(env, (const char *)p, len, &v);
  return v;
}

/* The JS value of a result (after the lock is released). */
static napi_value result_value(napi_env env, tresty_shd_result *r, uint8_t *buf) {
  napi_value v;
  switch (r->type) {
  case SHD_TSTRING:
    v = js_string(env, r->str, r->len);
    if (r->str != buf) free(r->str);
    return v;
  case SHD_TNUMBER: return number(env, r->num);
  case SHD_TBOOLEAN: napi_get_boolean(env, r->num != 0, &v); return v;
  default: return undefined(env);
  }
}

/* get(key, stale) */
static napi_value js_get(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  bool stale = false;
  napi_get_value_bool(env, argv[1], &stale);
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
  memset(out, 0, sizeof *out);
  s->p = s->stack;
  /* Most values are strings: try that first, and ask for the type only when it is not one. */
  if (get_str(env, v, s) == 0) {
    out->type = SHD_TSTRING;
    out->str = (const uint8_t *)s->p;
    out->len = s->len;
    return;
  }
  s->p = s->stack;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  switch (t) {
  case napi_string: /* a string that could not be read (out of memory) */
    out->type = -1;
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

/* store(op, key, value, exptimeMs, flags) -> status; scratch[2] = forcible */
static napi_value js_store(napi_env env, napi_callback_info info) {
  ZONE_ARGS(5);
  int32_t op = 0;
  napi_get_value_int32(env, argv[0], &op);
  KEY_ARG(key, argv[1]);
  jstr vs;
  tresty_shd_value v;
  value_arg(env, argv[2], &v, &vs);
  double exptime = 0, flags = 0;
  napi_get_value_double(env, argv[3], &exptime);
  napi_get_value_double(env, argv[4], &flags);
  int forcible = 0;
  int rc = v.type < 0 ? TRESTY_SHD_E_BAD_VALUE
                      : tresty_shd_store(z, op, (const uint8_t *)key.p, key.len, &v, (int64_t)exptime,
                                         (uint32_t)(int64_t)flags, &forcible);
  str_done(&key);
  str_done(&vs);
  scratch[2] = forcible;
  return number(env, rc);
}

/* set(key, value) -> undefined; scratch[0] = status, scratch[2] = forcible. store() without
 * exptime and flags: the common call, with three fewer arguments to read and no number made. */
static napi_value js_set(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  jstr vs;
  tresty_shd_value v;
  value_arg(env, argv[1], &v, &vs);
  int forcible = 0;
  int rc = v.type < 0 ? TRESTY_SHD_E_BAD_VALUE : tresty_shd_store(z, TRESTY_SHD_SET, (const uint8_t *)key.p, key.len, &v, 0, 0, &forcible);
  str_done(&key);
  str_done(&vs);
  scratch[0] = rc;
  scratch[2] = forcible;
  return undefined(env);
}

/* incr1(key, delta) -> value; scratch[0] status. incr() without init. */
static napi_value js_incr1(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double delta = 0, out = 0;
  napi_get_value_double(env, argv[1], &delta);
  int forcible = 0;
  int rc = tresty_shd_incr(z, (const uint8_t *)key.p, key.len, delta, 0, 0, 0, &out, &forcible);
  str_done(&key);
  scratch[0] = rc;
  return number(env, out);
}

/* incrInit(key, delta, hasInit, init, initTtlMs) -> value; scratch[0] status, [2] forcible */
static napi_value js_incr(napi_env env, napi_callback_info info) {
  ZONE_ARGS(5);
  KEY_ARG(key, argv[0]);
  double delta = 0, init = 0, ttl = 0, out = 0;
  bool has_init = false;
  napi_get_value_double(env, argv[1], &delta);
  napi_get_value_bool(env, argv[2], &has_init);
  napi_get_value_double(env, argv[3], &init);
  napi_get_value_double(env, argv[4], &ttl);
  int forcible = 0;
  int rc = tresty_shd_incr(z, (const uint8_t *)key.p, key.len, delta, has_init, init, (int64_t)ttl, &out, &forcible);
  str_done(&key);
  scratch[0] = rc;
  scratch[2] = forcible;
  return number(env, out);
}

/* push(left, key, value) -> status; scratch[1] = length */
static napi_value js_push(napi_env env, napi_callback_info info) {
  ZONE_ARGS(3);
  bool left = false;
  napi_get_value_bool(env, argv[0], &left);
  KEY_ARG(key, argv[1]);
  jstr vs;
  tresty_shd_value v;
  value_arg(env, argv[2], &v, &vs);
  uint32_t len = 0;
  int rc = v.type < 0 ? TRESTY_SHD_E_BAD_VALUE : tresty_shd_push(z, left, (const uint8_t *)key.p, key.len, &v, &len);
  str_done(&key);
  str_done(&vs);
  scratch[1] = len;
  return number(env, rc);
}

/* pop(left, key) -> value; scratch[0] = status */
static napi_value js_pop(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  bool left = false;
  napi_get_value_bool(env, argv[0], &left);
  KEY_ARG(key, argv[1]);
  uint8_t buf[4096];
  tresty_shd_result r;
  int rc = tresty_shd_pop(z, left, (const uint8_t *)key.p, key.len, buf, sizeof buf, &r);
  str_done(&key);
  scratch[0] = rc;
  return result_value(env, &r, buf);
}

/* llen(key) -> status; scratch[1] = length */
static napi_value js_llen(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  KEY_ARG(key, argv[0]);
  uint32_t len = 0;
  int rc = tresty_shd_llen(z, (const uint8_t *)key.p, key.len, &len);
  str_done(&key);
  scratch[1] = len;
  return number(env, rc);
}

/* ttl(key) -> status; scratch[1] = ms */
static napi_value js_ttl(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  KEY_ARG(key, argv[0]);
  int64_t ms = 0;
  int rc = tresty_shd_ttl(z, (const uint8_t *)key.p, key.len, &ms);
  str_done(&key);
  scratch[1] = (double)ms;
  return number(env, rc);
}

/* expire(key, exptimeMs) -> status */
static napi_value js_expire(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double ms = 0;
  napi_get_value_double(env, argv[1], &ms);
  int rc = tresty_shd_expire(z, (const uint8_t *)key.p, key.len, (int64_t)ms);
  str_done(&key);
  return number(env, rc);
}

static napi_value js_flush_all(napi_env env, napi_callback_info info) {
  ZONE_ARGS(0);
  return number(env, tresty_shd_flush_all(z));
}

/* flushExpired(max) -> freed */
static napi_value js_flush_expired(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  uint32_t max = 0, freed = 0;
  napi_get_value_uint32(env, argv[0], &max);
  tresty_shd_flush_expired(z, max, &freed);
  return number(env, freed);
}

/* keys(max) -> string[] */
static napi_value js_keys(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  uint32_t max = 0, count = 0;
  napi_get_value_uint32(env, argv[0], &max);
  uint8_t *buf;
  size_t len;
  napi_value arr;
  napi_create_array(env, &arr);
  if (tresty_shd_keys(z, max, &buf, &len, &count) != TRESTY_SHD_OK) return arr;
  size_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t klen = (size_t)buf[pos] | ((size_t)buf[pos + 1] << 8);
    napi_set_element(env, arr, i, js_string(env, buf + pos + 2, klen));
    pos += 2 + klen;
  }
  free(buf);
  return arr;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_set_named_property(env, obj, name, number(env, v));
}

/* stats() -> { capacity, free, entries, recoveries, rollbacks, resets } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  ZONE_ARGS(0);
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

/* check() -> null, or the first broken invariant */
static napi_value js_check(napi_env env, napi_callback_info info) {
  ZONE_ARGS(0);
  char msg[256];
  napi_value v;
  if (tresty_shd_check(z, msg, sizeof msg) == 0) napi_get_null(env, &v);
  else napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* leaky(key, rate, burst, commit) -> status; scratch[1] = excess */
static napi_value js_leaky(napi_env env, napi_callback_info info) {
  ZONE_ARGS(4);
  KEY_ARG(key, argv[0]);
  double rate = 0, burst = 0, excess = 0;
  bool commit = false;
  napi_get_value_double(env, argv[1], &rate);
  napi_get_value_double(env, argv[2], &burst);
  napi_get_value_bool(env, argv[3], &commit);
  int rc = tresty_shd_leaky(z, (const uint8_t *)key.p, key.len, rate, burst, commit, &excess);
  str_done(&key);
  scratch[1] = excess;
  return number(env, rc);
}

/* leakyUncommit(key, rate) -> status */
static napi_value js_leaky_uncommit(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double rate = 0;
  napi_get_value_double(env, argv[1], &rate);
  int rc = tresty_shd_leaky_uncommit(z, (const uint8_t *)key.p, key.len, rate);
  str_done(&key);
  return number(env, rc);
}

#define FN(name, cb) {name, NULL, cb, NULL, NULL, NULL, napi_enumerable, NULL}

static napi_value zone_object(napi_env env, tresty_shd *z) {
  zref *r = malloc(sizeof *r);
  r->z = z;
  napi_property_descriptor fns[] = {
    FN("get", js_get), FN("set", js_set), FN("store", js_store), FN("incr", js_incr1), FN("incrInit", js_incr),
    FN("push", js_push), FN("pop", js_pop), FN("llen", js_llen), FN("ttl", js_ttl), FN("expire", js_expire),
    FN("flushAll", js_flush_all), FN("flushExpired", js_flush_expired), FN("keys", js_keys), FN("stats", js_stats),
    FN("check", js_check), FN("leaky", js_leaky), FN("leakyUncommit", js_leaky_uncommit), FN("detach", js_detach),
  };
  size_t n = sizeof fns / sizeof fns[0];
  for (size_t i = 0; i < n; i++) fns[i].data = r;
  napi_value o;
  napi_create_object(env, &o);
  napi_define_properties(env, o, n, fns);
  return o;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  scratch = dummy;
  napi_property_descriptor fns[] = {
    FN("create", js_create), FN("attach", js_attach), FN("setScratch", js_set_scratch),
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
