/* Test runtime: echoes each request. cfg "threads=N" starts N pollers (default 1).
   Written like a lua-resty-ffi runtime: it only knows the three ABI functions. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

/* Pollers that saw poll() return NULL (the plugin was unloaded): read by the tests. */
int tresty_test_echo_exited = 0;

static void *loop(void *tq) {
  void *task;
  pthread_setname_np(pthread_self(), "test_echo-poll"); /* a poller by name, as the pools name theirs */
  while ((task = ngx_http_lua_ffi_task_poll(tq))) {
    int len = 0;
    char *req = ngx_http_lua_ffi_get_req(task, &len);
    char *rsp = malloc((size_t)len + 1); /* +1: a 0-byte answer is sent as "" (rsp_len 0 = C string) */
    memcpy(rsp, req, (size_t)len);
    rsp[len] = 0;
    ngx_http_lua_ffi_respond(task, 0, rsp, len);
  }
  __atomic_add_fetch(&tresty_test_echo_exited, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

int libffi_init(char *cfg, void *tq) {
  int n = 1;
  if (cfg && strncmp(cfg, "threads=", 8) == 0) n = atoi(cfg + 8);
  if (n < 1 || n > 64) return 22;
  for (int i = 0; i < n; i++) {
    pthread_t th;
    if (pthread_create(&th, NULL, loop, tq) != 0) return 11;
    pthread_detach(th);
  }
  return 0;
}
