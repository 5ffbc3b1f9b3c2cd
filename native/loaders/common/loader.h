/*
 * What the Python and Java loaders share: the cfg "TARGET[?],FUNC[,REST]", the text of the
 * last load failure (tresty_loader_error), the plugin's search path handed over just before
 * libffi_init (tresty_python_path / tresty_class_path), and one long-lived thread per loader
 * on which every load runs, so the event loop never enters the interpreter or the JVM.
 */
#ifndef TRESTY_LOADER_H
#define TRESTY_LOADER_H

#include <pthread.h>
#include <stddef.h>

#define TL_EXPORT __attribute__((visibility("default")))

/* cfg split in place: "pkg.mod?,init,a,b" -> target "pkg.mod", fresh 1, func "init", rest "a,b".
   rest is NULL when cfg has no second comma. Returns 0, or -1 with the error set. */
typedef struct {
  char *target;
  int fresh;
  char *func;
  char *rest;
} tl_cfg;
int tl_cfg_split(char *cfg, tl_cfg *out, const char *what);

/* The failure text tresty shows (error log, err.message); cleared by tl_error_clear(). */
void tl_error_clear(void);
void tl_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append text (a traceback) to the failure text. */
void tl_error_append(const char *text);

/* The search path set for the next libffi_init (":"-separated; NULL when none). Taken once. */
void tl_path_set(const char *paths);
char *tl_path_take(void);

/* One load: the cfg split, the plugin's search path, the tq; the job sets rc (0: loaded). */
typedef struct {
  tl_cfg cfg;
  char *paths;
  void *tq;
  int rc;
} tl_load;

/* A loader's own thread: tl_run runs job(load) there and returns when it is done. The thread is
   started on first use with `start` (run once on it, before any job) and lives as long as the
   process; it sleeps between loads. */
typedef struct {
  const char *name;           /* thread name, at most 15 chars */
  size_t stack;               /* bytes; 0: the default */
  int (*start)(void);         /* 0 ok; else the error is set and every later load fails */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int state;                  /* 0 not started, 1 running, 2 start failed */
  void (*job)(tl_load *);
  tl_load *load;
  int busy;
} tl_thread;
#define TL_THREAD(NAME, STACK, START) { (NAME), (STACK), (START), PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0 }
/* 0: the job ran; -1: the thread could not start (error set). */
int tl_run(tl_thread *t, void (*job)(tl_load *), tl_load *load);

/* libffi_init of a loader: split cfg (expected to look like `shape`), take the pending path,
   run job on the loader's thread; the return value is libffi_init's. */
int tl_libffi_init(char *cfg, void *tq, const char *shape, tl_thread *t, void (*job)(tl_load *));

/* Keeps the host library (the one that exports the lua-resty-ffi ABI) mapped until the process
   ends: Node closes the libraries it loaded at exit, while a loader's threads may still be
   leaving ngx_http_lua_ffi_task_poll. */
void tl_pin_host(void);

/* The directory of the shared object that contains addr (for files installed beside it). */
char *tl_dir_of(void *addr);

#endif
