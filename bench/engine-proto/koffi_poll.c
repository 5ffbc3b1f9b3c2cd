// Layout (b) through koffi instead of N-API: a plain shared library whose libuv poll callback
// (libuv's uv_* functions resolve against the node binary) calls a koffi-registered JS function.
// koffi calls it outside a Node callback scope, so promise microtasks queued by the handler do
// not run when it returns; the JS side must drain them itself (see server-koffi.mjs).
#include <uv.h>
#include "core.h"

typedef int (*batch_cb)(int count);
static pc_engine eng;
static uv_poll_t poller;
static batch_cb g_cb;
static char *inb, *outb;
static uint32_t incap;

static void on_ready(uv_poll_t *h, int status, int events) {
  (void)h; (void)status; (void)events;
  uint32_t used = 0;
  int n = pc_run(&eng, 0, inb, incap, &used, NULL);
  if (n == 0) return;
  int len = g_cb(n);
  if (len > 0) pc_flush(&eng, outb, (uint32_t)len);
}

__attribute__((visibility("default"))) int kp_start(const char *host, int port, char *in, uint32_t cap, char *out, batch_cb cb) {
  inb = in; incap = cap; outb = out; g_cb = cb;
  int lfd = pc_listen(host, port);
  if (lfd < 0) return lfd;
  pc_init(&eng, lfd, 0);
  uv_poll_init(uv_default_loop(), &poller, eng.epfd);
  return uv_poll_start(&poller, UV_READABLE, on_ready);
}

__attribute__((visibility("default"))) void kp_flush(int len) {
  if (len > 0) pc_flush(&eng, outb, (uint32_t)len);
}
