/* The zone's Node binding: flushing, keys, stats and the invariant check, over shd_admin.c and
 * shd_check.c. */
#include "shd_napi.h"

napi_value js_flush_all(napi_env env, napi_callback_info info) {
  ZONE_ARGS(0);
  return number(env, tresty_shd_flush_all(z));
}

/* flushExpired(max) -> freed */
napi_value js_flush_expired(napi_env env, napi_callback_info info) {
  ZONE_ARGS(1);
  uint32_t max = 0, freed = 0;
  napi_get_value_uint32(env, argv[0], &max);
  tresty_shd_flush_expired(z, max, &freed);
  return number(env, freed);
}

/* keys(max) -> string[] */
napi_value js_keys(napi_env env, napi_callback_info info) {
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

/* stats() -> { capacity, free, entries, recoveries, rollbacks, resets } */
napi_value js_stats(napi_env env, napi_callback_info info) {
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
napi_value js_check(napi_env env, napi_callback_info info) {
  ZONE_ARGS(0);
  char msg[256];
  napi_value v;
  if (tresty_shd_check(z, msg, sizeof msg) == 0) napi_get_null(env, &v);
  else napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &v);
  return v;
}

