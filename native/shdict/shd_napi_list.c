/* The zone's Node binding: lists (push, pop, llen), over shd_list.c. */
#include "shd_napi.h"

/* push(left, key, value) -> status; scratch[1] = length */
napi_value js_push(napi_env env, napi_callback_info info) {
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
napi_value js_pop(napi_env env, napi_callback_info info) {
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
napi_value js_llen(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  KEY_ARG(key, argv[0]);
  uint32_t len = 0;
  int rc = tresty_shd_llen(z, (const uint8_t *)key.p, key.len, &len);
  str_done(&key);
  scratch[1] = len;
  return number(env, rc);
}

