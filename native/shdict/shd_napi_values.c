/* The zone's Node binding: values and counters (get, set, store, incr, ttl, expire), over shd_ops.c. */
#include "shd_napi.h"

/* get(key, stale) */
napi_value js_get(napi_env env, napi_callback_info info) {
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

/* store(op, key, value, exptimeMs, flags) -> status; scratch[2] = forcible */
napi_value js_store(napi_env env, napi_callback_info info) {
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
napi_value js_set(napi_env env, napi_callback_info info) {
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
napi_value js_incr1(napi_env env, napi_callback_info info) {
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
napi_value js_incr(napi_env env, napi_callback_info info) {
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

/* ttl(key) -> status; scratch[1] = ms */
napi_value js_ttl(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  KEY_ARG(key, argv[0]);
  int64_t ms = 0;
  int rc = tresty_shd_ttl(z, (const uint8_t *)key.p, key.len, &ms);
  str_done(&key);
  scratch[1] = (double)ms;
  return number(env, rc);
}

/* expire(key, exptimeMs) -> status */
napi_value js_expire(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double ms = 0;
  napi_get_value_double(env, argv[1], &ms);
  int rc = tresty_shd_expire(z, (const uint8_t *)key.p, key.len, (int64_t)ms);
  str_done(&key);
  return number(env, rc);
}

