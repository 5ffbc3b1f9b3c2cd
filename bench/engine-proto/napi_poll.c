// Layout (b): the event loop drives the engine. libuv polls the engine's epoll fd (uv_poll); one
// native pass per readiness accepts, reads and scans everything ready into a batch buffer, calls
// JS once (napi_make_callback: microtasks run before it returns), then writes the answers JS put
// in the out buffer. One thread, no hand-off, no doorbell.
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <stdlib.h>
#include <stdio.h>
#include "core.h"

static pc_engine eng;
static uv_poll_t poller;
static napi_env g_env;
static napi_ref g_cb;
static napi_async_context g_actx;
static char *inb, *outb;
static uint32_t incap;

static void on_ready(uv_poll_t *h, int status, int events) {
  (void)h; (void)status; (void)events;
  uint32_t used = 0;
  int n = pc_run(&eng, 0, inb, incap, &used, NULL);
  if (n == 0) return;
  napi_handle_scope scope;
  napi_open_handle_scope(g_env, &scope);
  napi_value cb, recv, argv[1], res;
  napi_get_reference_value(g_env, g_cb, &cb);
  napi_get_global(g_env, &recv);
  napi_create_int32(g_env, n, &argv[0]);
  napi_status st = napi_make_callback(g_env, g_actx, recv, cb, 1, argv, &res);
  if (st != napi_ok) { const napi_extended_error_info *ei; napi_get_last_error_info(g_env, &ei); fprintf(stderr, "make_callback: %d %s\n", st, ei->error_message); }
  if (st == napi_ok) {
    int32_t len = 0;
    napi_get_value_int32(g_env, res, &len);
    if (len > 0) pc_flush(&eng, outb, (uint32_t)len);
  }
  napi_close_handle_scope(g_env, scope);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  char host[64];
  size_t hl;
  int32_t port;
  napi_get_value_string_utf8(env, a[0], host, sizeof host, &hl);
  napi_get_value_int32(env, a[1], &port);
  size_t l1, l2;
  napi_get_buffer_info(env, a[2], (void **)&inb, &l1);
  napi_get_buffer_info(env, a[3], (void **)&outb, &l2);
  incap = (uint32_t)l1;
  napi_create_reference(env, a[4], 1, &g_cb);
  g_env = env;
  napi_value name;
  napi_create_string_utf8(env, "engine-proto", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &g_actx);
  int lfd = pc_listen(host, port);
  napi_value r;
  if (lfd < 0) { napi_create_int32(env, lfd, &r); return r; }
  pc_init(&eng, lfd, 0);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &poller, eng.epfd);
  uv_poll_start(&poller, UV_READABLE, on_ready);
  napi_create_int32(env, 0, &r);
  return r;
}

/* Answers produced outside a batch (after an await): written now. */
static napi_value flush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t len;
  napi_get_value_int32(env, a[0], &len);
  if (len > 0) pc_flush(&eng, outb, (uint32_t)len);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &f);
  napi_set_named_property(env, exports, "start", f);
  napi_create_function(env, "flush", NAPI_AUTO_LENGTH, flush, NULL, &f);
  napi_set_named_property(env, exports, "flush", f);
  return exports;
}
