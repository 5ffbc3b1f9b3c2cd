/*
 * The Node binding of the zone (native/build/tresty_shdict.node), used by src/shared/native.ts:
 * the module, zones (create, attach, detach), the scratch, and the conversions between JS values
 * and the dictionary's; the bound functions are in shd_napi_values.c, shd_napi_list.c,
 * shd_napi_admin.c and shd_napi_leaky.c.
 * N-API was measured against koffi (bench/shdict-binding.mjs, bench/README.md): a call costs
 * tens of nanoseconds instead of ~150, which decides ngx.shared's speed.
 *
 * create() and attach() answer an object of functions bound to the zone (the zone rides in
 * each function's data pointer: no id argument to read and check on the hot calls). Results
 * other than the returned value go to a scratch Float64Array given once by setScratch: [0] the
 * status (TRESTY_SHD_*), [1] flags / a length / a ttl / an excess, [2] stale or forcible. That
 * keeps every call free of allocations.
 */
#include "shd_napi.h"

double *scratch;
static double dummy[4];
static napi_ref scratch_ref;

/* The n arguments of a module function (not bound to a zone). */
#define ARGS(n) \
  size_t argc = n; \
  napi_value argv[n]; \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

static napi_value throw_sys(napi_env env) {
  napi_throw_error(env, "TRESTY_ERR_SHDICT_ZONE", tresty_shd_last_error());
  return NULL;
}

static napi_value zone_object(napi_env env, tresty_shd *z);

/* Reads a JS string into s (see jstr in shd_napi.h); -1 when v is not a string. */
int get_str(napi_env env, napi_value v, jstr *s) {
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
napi_value js_string(napi_env env, const uint8_t *p, size_t len) {
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
napi_value result_value(napi_env env, tresty_shd_result *r, uint8_t *buf) {
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

#define FN(name, cb) {name, NULL, cb, NULL, NULL, NULL, napi_enumerable, NULL}

static napi_value zone_object(napi_env env, tresty_shd *z) {
  zref *r = malloc(sizeof *r);
  r->z = z;
  napi_property_descriptor fns[] = {
    FN("get", js_get), FN("set", js_set), FN("store", js_store), FN("incr", js_incr1), FN("incrInit", js_incr),
    FN("push", js_push), FN("pop", js_pop), FN("llen", js_llen), FN("ttl", js_ttl), FN("expire", js_expire),
    FN("flushAll", js_flush_all), FN("flushExpired", js_flush_expired), FN("keys", js_keys), FN("stats", js_stats),
    FN("check", js_check), FN("leaky", js_leaky), FN("leakyUncommit", js_leaky_uncommit), FN("connTake", js_conn_take), FN("detach", js_detach),
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
