#define _POSIX_C_SOURCE 200809L
/* Test runtime for timeouts: "sleep:MS" answers after MS milliseconds from a thread of its own
   (respond may come from any thread), "never" is never answered, anything else at once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);

static void answer(void *task) {
  int len = 0;
  char *req = ngx_http_lua_ffi_get_req(task, &len);
  char *rsp = malloc((size_t)len + 1);
  memcpy(rsp, req, (size_t)len);
  rsp[len] = 0;
  ngx_http_lua_ffi_respond(task, 0, rsp, len);
}

static void *later(void *task) {
  int len = 0;
  long ms = atol(ngx_http_lua_ffi_get_req(task, &len) + 6);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  answer(task);
  return NULL;
}

static void *loop(void *tq) {
  void *task;
  while ((task = ngx_http_lua_ffi_task_poll(tq))) {
    int len = 0;
    char *req = ngx_http_lua_ffi_get_req(task, &len);
    if (len == 5 && memcmp(req, "never", 5) == 0) continue; /* leaked on purpose */
    if (len > 6 && memcmp(req, "sleep:", 6) == 0) {
      pthread_t th;
      if (pthread_create(&th, NULL, later, task) == 0) {
        pthread_detach(th);
        continue;
      }
    }
    answer(task);
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
