// Layout (a): an I/O thread per worker in C. It sleeps in epoll_wait, accepts, reads and scans
// requests, and pushes each batch into a shared ring (I/O -> JS); JS answers into a second ring
// (JS -> I/O). A doorbell goes only to a sleeper: uv_async_send when JS said it sleeps, an eventfd
// write when the I/O thread said it sleeps. Nobody spins.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core.h"

#define RING (4u << 20)
#define WRAP 0xFFFFFFFFu
enum { IN_HEAD, IN_TAIL, OUT_HEAD, OUT_TAIL, JS_SLEEPING, IO_SLEEPING, N_ASYNC, N_EVFD, CTL_INTS = 16 };

static pc_engine eng;
static _Atomic uint32_t *ctl;
static char *in_ring, *out_ring;
static uv_async_t async;
static napi_env g_env;
static napi_ref g_cb;
static napi_async_context g_actx;
static char *batch;
#define BATCH_CAP (1u << 20)

/* Pushes one record [u32 size][u32 count][bytes]; size includes the 8-byte header. */
static int push_in(int count, const char *p, uint32_t n) {
  uint32_t size = 8 + n;
  uint32_t head = atomic_load_explicit(&ctl[IN_HEAD], memory_order_relaxed);
  uint32_t tail = atomic_load_explicit(&ctl[IN_TAIL], memory_order_acquire);
  uint32_t pos = head & (RING - 1);
  uint32_t skip = RING - pos < size ? RING - pos : 0;
  if (head - tail + skip + size > RING) return 0;
  if (skip) { uint32_t w = WRAP; memcpy(in_ring + pos, &w, 4); head += skip; pos = 0; }
  memcpy(in_ring + pos, &size, 4);
  uint32_t c = count;
  memcpy(in_ring + pos + 4, &c, 4);
  memcpy(in_ring + pos + 8, p, n);
  atomic_store_explicit(&ctl[IN_HEAD], head + size, memory_order_seq_cst);
  return 1;
}

static void drain_out(void) {
  uint32_t tail = atomic_load_explicit(&ctl[OUT_TAIL], memory_order_relaxed);
  uint32_t head = atomic_load_explicit(&ctl[OUT_HEAD], memory_order_acquire);
  while (tail != head) {
    uint32_t pos = tail & (RING - 1), size;
    memcpy(&size, out_ring + pos, 4);
    if (size == WRAP) { tail += RING - pos; continue; }
    pc_flush(&eng, out_ring + pos + 8, size - 8);
    tail += size;
  }
  atomic_store_explicit(&ctl[OUT_TAIL], tail, memory_order_release);
}

static void *io_main(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "tresty-io");
  for (;;) {
    drain_out();
    atomic_store(&ctl[IO_SLEEPING], 1);
    if (atomic_load(&ctl[OUT_HEAD]) != atomic_load(&ctl[OUT_TAIL])) { atomic_store(&ctl[IO_SLEEPING], 0); continue; }
    uint32_t used = 0;
    int woken = 0;
    int n = pc_run(&eng, -1, batch, BATCH_CAP, &used, &woken);
    atomic_store(&ctl[IO_SLEEPING], 0);
    if (woken) atomic_fetch_add(&ctl[N_EVFD], 1);
    if (n == 0) continue;
    while (!push_in(n, batch, used)) { drain_out(); usleep(50); } // ring full: JS is behind (never seen)
    if (atomic_exchange(&ctl[JS_SLEEPING], 0)) { atomic_fetch_add(&ctl[N_ASYNC], 1); uv_async_send(&async); }
  }
  return NULL;
}

static void on_async(uv_async_t *h) {
  (void)h;
  napi_handle_scope scope;
  napi_open_handle_scope(g_env, &scope);
  napi_value cb, recv, res;
  napi_get_reference_value(g_env, g_cb, &cb);
  napi_get_global(g_env, &recv);
  napi_make_callback(g_env, g_actx, recv, cb, 0, NULL, &res);
  napi_close_handle_scope(g_env, scope);
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  char host[64];
  size_t hl;
  int32_t port;
  napi_get_value_string_utf8(env, a[0], host, sizeof host, &hl);
  napi_get_value_int32(env, a[1], &port);
  napi_create_reference(env, a[2], 1, &g_cb);
  g_env = env;
  napi_value name, r;
  napi_create_string_utf8(env, "engine-proto", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &g_actx);
  int lfd = pc_listen(host, port);
  if (lfd < 0) { napi_create_int32(env, lfd, &r); return r; }
  pc_init(&eng, lfd, 1);
  size_t size = CTL_INTS * 4 + 2 * RING;
  char *mem = aligned_alloc(64, size);
  memset(mem, 0, size);
  ctl = (_Atomic uint32_t *)mem;
  in_ring = mem + CTL_INTS * 4;
  out_ring = in_ring + RING;
  atomic_store(&ctl[JS_SLEEPING], 1);
  batch = malloc(BATCH_CAP);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_async_init(loop, &async, on_async);
  pthread_t t;
  pthread_create(&t, NULL, io_main, NULL);
  napi_create_external_arraybuffer(env, mem, size, NULL, NULL, &r);
  return r;
}

static napi_value wake(napi_env env, napi_callback_info info) {
  (void)env; (void)info;
  uint64_t one = 1;
  if (write(eng.evfd, &one, 8) < 0) { /* counter full: a wake-up is pending anyway */ }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &f);
  napi_set_named_property(env, exports, "start", f);
  napi_create_function(env, "wake", NAPI_AUTO_LENGTH, wake, NULL, &f);
  napi_set_named_property(env, exports, "wake", f);
  return exports;
}
