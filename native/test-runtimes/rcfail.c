/* Test runtime: answers every request with rc 3 and a NUL-terminated message (rsp_len 0). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

static void *loop(void *tq) {
  void *task;
  while ((task = ngx_http_lua_ffi_task_poll(tq))) {
    int len = 0;
    char *req = ngx_http_lua_ffi_get_req(task, &len);
    char *msg = malloc(64 + (size_t)len);
    sprintf(msg, "cannot handle '%.*s'", len, req);
    ngx_http_lua_ffi_respond(task, 3, msg, 0);
  }
  return NULL;
}

int libffi_init(char *cfg, void *tq) {
  (void)cfg;
  pthread_t th;
  if (pthread_create(&th, NULL, loop, tq) != 0) return 11;
  pthread_detach(th);
  return 0;
}
