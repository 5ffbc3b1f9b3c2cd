/*
 * What the zone's Node binding shares (shd_napi.c: the module, zones and conversions;
 * shd_napi_values.c, shd_napi_list.c, shd_napi_admin.c, shd_napi_leaky.c: the bound functions,
 * by concern as shd_ops.c, shd_list.c, shd_admin.c, shd_leaky.c). Internal to the addon.
 *
 * The helpers every hot call runs (number, undefined, str_done, value_arg) are static inline
 * here, so that splitting the binding into files adds no call to get() or set().
 */
#ifndef SHD_NAPI_H
#define SHD_NAPI_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "shd_layout.h"
#include "tresty_shdict.h"

/* The addon's own: hidden even where the build does not say -fvisibility=hidden. */
#pragma GCC visibility push(hidden)

/* One per zone object; never freed, so a function called after detach() finds z == NULL. */
typedef struct {
  tresty_shd *z;
} zref;

/* Results besides the returned value (shd_napi.c: setScratch); see there. */
extern double *scratch;

static inline napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static inline napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
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

/* A JS string as UTF-8: on the stack when short, else malloc()ed. (Reading UTF-16 and encoding
 * here was measured too: no fewer instructions than V8's WriteUtf8 for short ASCII keys.) */
typedef struct {
  char *p;
  size_t len;
  char stack[512];
} jstr;

int get_str(napi_env env, napi_value v, jstr *s);

static inline void str_done(jstr *s) {
  if (s->p != s->stack) free(s->p);
}

#define KEY_ARG(s, v) \
  jstr s; \
  if (get_str(env, v, &s) != 0) { \
    napi_throw_type_error(env, "TRESTY_ERR_API_ARGS", "key must be a string"); \
    return NULL; \
  }

/* A JS string from UTF-8 bytes (Latin-1 when ASCII). */
napi_value js_string(napi_env env, const uint8_t *p, size_t len);
/* The JS value of a result (after the lock is released); frees a result larger than buf. */
napi_value result_value(napi_env env, tresty_shd_result *r, uint8_t *buf);

/* A JS value as a store value; type -1 for one the dictionary cannot hold. */
static inline void value_arg(napi_env env, napi_value v, tresty_shd_value *out, jstr *s) {
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

static inline void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_set_named_property(env, obj, name, number(env, v));
}

/* The functions bound to a zone (shd_napi.c's zone_object lists them). */
napi_value js_get(napi_env env, napi_callback_info info);
napi_value js_set(napi_env env, napi_callback_info info);
napi_value js_store(napi_env env, napi_callback_info info);
napi_value js_incr1(napi_env env, napi_callback_info info);
napi_value js_incr(napi_env env, napi_callback_info info);
napi_value js_ttl(napi_env env, napi_callback_info info);
napi_value js_expire(napi_env env, napi_callback_info info);
napi_value js_push(napi_env env, napi_callback_info info);
napi_value js_pop(napi_env env, napi_callback_info info);
napi_value js_llen(napi_env env, napi_callback_info info);
napi_value js_flush_all(napi_env env, napi_callback_info info);
napi_value js_flush_expired(napi_env env, napi_callback_info info);
napi_value js_keys(napi_env env, napi_callback_info info);
napi_value js_stats(napi_env env, napi_callback_info info);
napi_value js_check(napi_env env, napi_callback_info info);
napi_value js_leaky(napi_env env, napi_callback_info info);
napi_value js_leaky_uncommit(napi_env env, napi_callback_info info);
napi_value js_conn_take(napi_env env, napi_callback_info info);

#pragma GCC visibility pop

#endif
