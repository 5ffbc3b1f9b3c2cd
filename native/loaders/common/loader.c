/* Shared by the Python and Java loaders: see loader.h. */
#define _GNU_SOURCE /* dladdr, pthread_setname_np, strdup, vasprintf */
#include "loader.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Written by a load (on the loader's thread) while the caller waits in tl_run, read by the
   caller afterwards: the thread hand-over orders them, no lock of their own. */
static char *last_error;
static char *pending_path;
static char *start_error; /* a failed start, repeated to every later load */

TL_EXPORT const char *tresty_loader_error(void) { return last_error ? last_error : ""; }

void tl_error_clear(void) {
  free(last_error);
  last_error = NULL;
}

void tl_errorf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  free(last_error);
  last_error = s;
}

void tl_error_append(const char *text) {
  if (!text || !*text) return;
  char *s = NULL;
  if (asprintf(&s, "%s%s%s", last_error ? last_error : "", last_error ? "\n" : "", text) < 0) return;
  free(last_error);
  last_error = s;
}

int tl_cfg_split(char *cfg, tl_cfg *out, const char *what) {
  memset(out, 0, sizeof *out);
  char *first = cfg ? strchr(cfg, ',') : NULL;
  if (!cfg || !first || first == cfg) {
    tl_errorf("config %s%s%s: expected \"%s\"", cfg ? "\"" : "", cfg ? cfg : "NULL", cfg ? "\"" : "", what);
    return -1;
  }
  *first = 0;
  out->target = cfg;
  out->func = first + 1;
  char *second = strchr(out->func, ',');
  if (second) {
    *second = 0;
    out->rest = second + 1;
  }
  size_t n = strlen(out->target);
  if (out->target[n - 1] == '?') {
    out->target[n - 1] = 0;
    out->fresh = 1;
  }
  if (!*out->target || !*out->func) {
    tl_errorf("config: the %s is empty; expected \"%s\"", *out->target ? "function" : "name", what);
    return -1;
  }
  return 0;
}

void tl_path_set(const char *paths) {
  free(pending_path);
  pending_path = paths && *paths ? strdup(paths) : NULL;
}

char *tl_path_take(void) {
  char *p = pending_path;
  pending_path = NULL;
  return p;
}

static void *thread_main(void *arg) {
  tl_thread *t = arg;
  pthread_setname_np(pthread_self(), t->name);
  int ok = t->start() == 0;
  pthread_mutex_lock(&t->mu);
  if (!ok) start_error = strdup(last_error ? last_error : "the loader failed to start");
  t->state = ok ? 1 : 2;
  pthread_cond_broadcast(&t->cv);
  while (ok) {
    while (!t->busy) pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    t->job(t->load);
    pthread_mutex_lock(&t->mu);
    t->busy = 0;
    pthread_cond_broadcast(&t->cv);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

int tl_run(tl_thread *t, void (*job)(tl_load *), tl_load *load) {
  pthread_mutex_lock(&t->mu);
  if (t->state == 0) {
    pthread_attr_t attr;
    pthread_t id;
    pthread_attr_init(&attr);
    if (t->stack) pthread_attr_setstacksize(&attr, t->stack);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&id, &attr, thread_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      pthread_mutex_unlock(&t->mu);
      tl_errorf("cannot start the %s thread: %s", t->name, strerror(rc));
      return -1;
    }
    while (t->state == 0) pthread_cond_wait(&t->cv, &t->mu);
  }
  if (t->state == 2) {
    pthread_mutex_unlock(&t->mu);
    tl_errorf("%s", start_error ? start_error : "the loader failed to start");
    return -1;
  }
  t->job = job;
  t->load = load;
  t->busy = 1;
  pthread_cond_broadcast(&t->cv);
  while (t->busy) pthread_cond_wait(&t->cv, &t->mu);
  pthread_mutex_unlock(&t->mu);
  return 0;
}

int tl_libffi_init(char *cfg, void *tq, const char *shape, tl_thread *t, void (*job)(tl_load *)) {
  tl_error_clear();
  tl_pin_host();
  tl_load l = {.tq = tq, .rc = 1, .paths = tl_path_take()};
  if (tl_cfg_split(cfg, &l.cfg, shape) == 0 && tl_run(t, job, &l) != 0) l.rc = 1;
  free(l.paths);
  return l.rc;
}

void tl_pin_host(void) {
  static int pinned;
  if (pinned) return;
  Dl_info info;
  void *poll = dlsym(RTLD_DEFAULT, "ngx_http_lua_ffi_task_poll");
  if (poll && dladdr(poll, &info) && info.dli_fname && dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
    pinned = 1;
}

char *tl_dir_of(void *addr) {
  Dl_info info;
  if (!dladdr(addr, &info) || !info.dli_fname) return NULL;
  char *dir = strdup(info.dli_fname);
  if (!dir) return NULL;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else strcpy(dir, ".");
  return dir;
}
