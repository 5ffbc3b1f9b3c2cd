/* The zone's Node binding: the leaky bucket of resty.limit.req (leaky, leakyUncommit) and
 * limit_conn's place (connTake), over shd_leaky.c. */
#include "shd_napi.h"

/* leaky(key, rate, burst, commit, whole?) -> status; scratch[1] = excess. whole: limit_req's
   count in whole thousandths (tresty_shd_leaky_whole). */
napi_value js_leaky(napi_env env, napi_callback_info info) {
  ZONE_ARGS(5);
  KEY_ARG(key, argv[0]);
  double rate = 0, burst = 0, excess = 0;
  bool commit = false;
  napi_get_value_double(env, argv[1], &rate);
  napi_get_value_double(env, argv[2], &burst);
  napi_get_value_bool(env, argv[3], &commit);
  bool whole = false;
  if (argc >= 5) napi_get_value_bool(env, argv[4], &whole);
  int rc = (whole ? tresty_shd_leaky_whole : tresty_shd_leaky)(z, (const uint8_t *)key.p, key.len, rate, burst, commit, &excess);
  str_done(&key);
  scratch[1] = excess;
  return number(env, rc);
}

/* leakyUncommit(key, rate) -> status */
napi_value js_leaky_uncommit(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double rate = 0;
  napi_get_value_double(env, argv[1], &rate);
  int rc = tresty_shd_leaky_uncommit(z, (const uint8_t *)key.p, key.len, rate);
  str_done(&key);
  return number(env, rc);
}


/* connTake(key, max) -> status; scratch[1] = the count with this request */
napi_value js_conn_take(napi_env env, napi_callback_info info) {
  ZONE_ARGS(2);
  KEY_ARG(key, argv[0]);
  double max = 0, count = 0;
  napi_get_value_double(env, argv[1], &max);
  int rc = tresty_shd_conn_take(z, (const uint8_t *)key.p, key.len, max, &count);
  str_done(&key);
  scratch[1] = count;
  return number(env, rc);
}
