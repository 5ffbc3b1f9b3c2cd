/* Test runtime that breaks the FFI contract on purpose (issue 11, item 7), chosen by cfg:
     "double"   answers every task twice (the second answer must be dropped and logged once)
     "overlen"  answers with rsp_len far past the block it malloc'ed (must not be read)
     "nonul"    answers rsp_len 0 (a C string) with a block that holds no NUL
     "big"      answers a valid answer of the length asked for in the request ("big:N")
   Otherwise it echoes. One poller thread, written against the three ABI functions only. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

/* Per instance (two plugins may load this library with different modes: one copy of it). */
struct inst {
  void *tq;
  char mode[16];
};

static char *copy(const char *req, int len) {
  char *rsp = malloc((size_t)len + 1);
  memcpy(rsp, req, (size_t)len);
  rsp[len] = 0;
  return rsp;
}

static void *loop(void *arg) {
  struct inst *in = arg;
  void *tq = in->tq;
  const char *mode = in->mode;
  void *task;
  while ((task = ngx_http_lua_ffi_task_poll(tq))) {
    int len = 0;
    char *req = ngx_http_lua_ffi_get_req(task, &len);
    if (strcmp(mode, "double") == 0) {
      ngx_http_lua_ffi_respond(task, 0, copy(req, len), len);
      ngx_http_lua_ffi_respond(task, 0, copy("again", 5), 5);
    } else if (strcmp(mode, "overlen") == 0) {
      ngx_http_lua_ffi_respond(task, 0, copy(req, len), 64 << 20);
    } else if (strcmp(mode, "nonul") == 0) {
      char *rsp = malloc(4096);
      memset(rsp, 'x', malloc_usable_size(rsp)); /* the whole block, slack included: no NUL at all */
      ngx_http_lua_ffi_respond(task, 0, rsp, 0);
    } else if (strcmp(mode, "big") == 0 && len > 4 && strncmp(req, "big:", 4) == 0) {
      size_t n = strtoul(req + 4, NULL, 10);
      char *rsp = malloc(n + 1);
      memset(rsp, 'b', n);
      rsp[n] = 0;
      ngx_http_lua_ffi_respond(task, 0, rsp, (int)n);
    } else {
      ngx_http_lua_ffi_respond(task, 0, copy(req, len), len);
    }
  }
  free(in);
  return NULL;
}

int libffi_init(char *cfg, void *tq) {
  struct inst *in = calloc(1, sizeof *in);
  if (!in) return 12;
  in->tq = tq;
  strncpy(in->mode, cfg ? cfg : "", sizeof in->mode - 1);
  pthread_t th;
  if (pthread_create(&th, NULL, loop, in) != 0) return 11;
  pthread_detach(th);
  return 0;
}
