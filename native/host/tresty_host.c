/* libtresty_host.so: the native side of tresty's FFI rings (layout: tresty_ring.h). */
#define _GNU_SOURCE
#include "tresty_host.h"
#include "tresty_ring.h"
#include "spin_gate.h"
#include "host_env.h"
#include "host_err.h"
#include "host_answer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>


/* Waiting: a poller that finds the ring empty spins for up to GATED_SPIN_NS, but only while the
   machine's runnable tasks leave a core free (spin_gate.h), then sleeps on the futex.
   bench/ffi-wait.mjs measured it against no spin and an ungated spin on idle, half-loaded and
   saturated machines (bench/README.md, "How pollers wait"): an ungated spin takes the core a
   worker needs once the machine is busy; the gated one spins only where nobody else would run.
   TRESTY_FFI_GATED_SPIN_NS sets its budget (0: never spin); TRESTY_FFI_SPIN_NS sets an ungated
   spin instead, for measurements (both at most SPIN_MAX_NS). */
#define GATED_SPIN_NS 50000u
#define SPIN_MAX_NS 1000000u
#define SPIN_CLOCK_EVERY 32 /* polls between clock reads */

/* Answered tasks wait this many others before their memory is reused, so that a runtime's
   second answer to one of them is recognised (and dropped) rather than read as another call's. */
#define TASK_QUARANTINE 256
#define TASK_LIVE 0x4c495645u /* "LIVE" */
#define TASK_DONE 0x444f4e45u /* "DONE" */

typedef struct tresty_task tresty_task;

typedef struct tresty_tq {
  uint8_t *mem;
  uint32_t cap;
  tr_ring sub, cmp;
  int rfd, wfd;     /* doorbell pipe: JS reads rfd, completion producers write wfd */
  int dead;         /* set by tresty_tq_detach: no more completions */
  int closed;       /* set by tresty_tq_close: pollers no longer touch mem */
  int polling;      /* threads inside task_poll / try_poll */
  int responding;   /* respond() calls past the dead check */
  int64_t live;     /* tasks taken and not yet answered */
  int64_t dropped;  /* responses freed because JS had gone */
  int64_t doubled;  /* second answers dropped */
  uint32_t max_rsp; /* answers over it are refused; 0: no cap */
  uint32_t spin_ns;  /* TRESTY_FFI_SPIN_NS: an ungated spin (measurements) */
  uint32_t gated_ns; /* TRESTY_FFI_GATED_SPIN_NS: the spin allowed while the gate is open */
  uint32_t yields;  /* TRESTY_FFI_SPIN_YIELDS: sched_yield rounds before the futex (measurements) */
  long js_tid;      /* the thread that made the queue: the event loop the spin gate keeps a core for */
  pthread_mutex_t lock; /* the task pool */
  tresty_task *free_head, *free_tail;
  uint32_t nfree;
} tresty_tq;

struct tresty_task {
  uint32_t state;   /* TASK_LIVE, then TASK_DONE once answered */
  uint32_t id, len;
  tresty_tq *q;
  tresty_task *next; /* in the pool's FIFO */
  char *req;   /* points at heap or at data[] */
  char *heap;  /* a large request, freed with the answer */
  char data[TR_INLINE_MAX + 1]; /* a small request, NUL-terminated */
};


/* Libraries whose threads outlive JS stay mapped for good. When the process ends, koffi's
   finalizers dlclose what JS loaded while a runtime's threads may still run its code (a poller
   leaving task_poll, a pool joining its workers): unmapped code under a running thread is a
   SIGSEGV at exit. RTLD_NODELETE on a second dlopen makes every later dlclose a no-op. */
__attribute__((constructor)) static void pin_self(void) {
  Dl_info info;
  if (dladdr((void *)pin_self, &info) && info.dli_fname) dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* malloc's thresholds (host_env.h, tune_malloc) are set when this library is loaded, which is when
   the process loads its first plugin of any kind (src/ffi/core.ts, getHost): a function plugin
   called on the event loop (tresty_fn_invoke) makes no queue, and its large answers pass through
   malloc as much as a runtime's do. */
__attribute__((constructor)) static void host_loaded(void) {
  tune_malloc();
}

EXPORT int tresty_pin_library(const char *path) {
  if (!path) return fail("tresty_pin_library: NULL path");
  if (!dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) return fail("cannot pin %s: %s", path, dlerror());
  return 0;
}

static int gate_open(tresty_tq *q, uint64_t now, int self);

EXPORT int tresty_tq_new(uint8_t *mem, uint32_t bytes, void **out_tq, int *out_fd) {
  if (!mem || !out_tq || !out_fd) return fail("tresty_tq_new: NULL argument");
  if (bytes < TR_HEADER_BYTES) return fail("ring memory too small (%u bytes)", bytes);
  if (tr_load(mem, TR_MAGIC) != TR_MAGIC_VALUE || tr_load(mem, TR_VERSION) != TR_VERSION_VALUE)
    return fail("ring header magic/version mismatch: rebuild the native host (npm run build)");
  uint32_t cap = tr_load(mem, TR_CAPACITY);
  if (tr_load(mem, TR_SLOT_BYTES) != TR_SLOT_SIZE)
    return fail("ring slot size %u, host expects %u: rebuild the native host", tr_load(mem, TR_SLOT_BYTES),
                TR_SLOT_SIZE);
  if (cap == 0 || (cap & (cap - 1)) != 0 || (uint64_t)TR_TOTAL_BYTES((uint64_t)cap) > bytes)
    return fail("ring capacity %u is not a power of two that fits %u bytes", cap, bytes);
  tresty_tq *q = calloc(1, sizeof *q);
  if (!q) return fail("out of memory");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    free(q);
    return fail("pipe2: %s", strerror(errno));
  }
  q->mem = mem;
  q->cap = cap;
  q->sub = (tr_ring){mem, TR_SUB_TAIL, TR_SUB_HEAD, TR_SUBMIT_OFFSET, cap};
  q->cmp = (tr_ring){mem, TR_CMP_TAIL, TR_CMP_HEAD, TR_COMPLETION_OFFSET(cap), cap};
  q->rfd = fds[0];
  q->wfd = fds[1];
  q->max_rsp = tr_load(mem, TR_MAX_RESPONSE);
  q->spin_ns = env_ns("TRESTY_FFI_SPIN_NS", 0, SPIN_MAX_NS);
  q->gated_ns = env_ns("TRESTY_FFI_GATED_SPIN_NS", GATED_SPIN_NS, SPIN_MAX_NS);
  q->js_tid = (long)syscall(SYS_gettid); /* koffi calls on the JS thread */
  spin_gate_source(getenv("TRESTY_FFI_GATE_FILE"), getenv("TRESTY_FFI_GATE_CALLER_FILE"));
  const char *yields = getenv("TRESTY_FFI_SPIN_YIELDS");
  unsigned long y = yields ? strtoul(yields, NULL, 10) : 0;
  q->yields = y > 1000 ? 1000 : (uint32_t)y;
  pthread_mutex_init(&q->lock, NULL);
  if (q->gated_ns && !q->spin_ns) gate_open(q, now_ns(), 1); /* JS reads the verdict from the first call on */
  *out_tq = q;
  *out_fd = fds[0];
  return 0;
}

EXPORT int tresty_runtime_init(void *tq, void *init_fn, const char *cfg, int *out_rc) {
  if (!tq || !init_fn || !out_rc) return fail("tresty_runtime_init: NULL argument");
  char *copy = NULL;
  if (cfg && !(copy = strdup(cfg))) return fail("out of memory");
  /* lua-resty-ffi semantics: cfg is the host's and is freed once init returns. */
  *out_rc = ((tresty_init_fn)init_fn)(copy, tq);
  free(copy);
  return 0;
}

EXPORT int tresty_tq_wake(void *tq, int n) {
  tresty_tq *q = tq;
  if (!q) return fail("tresty_tq_wake: NULL tq");
  __atomic_add_fetch(tr_u32(q->mem, TR_SUB_FUTEX), 1, __ATOMIC_SEQ_CST);
  futex(tr_u32(q->mem, TR_SUB_FUTEX), FUTEX_WAKE_PRIVATE, n > 0 ? (uint32_t)n : 1);
  return 0;
}

/* A task from the pool: the oldest answered one once TASK_QUARANTINE others wait behind it. */
static tresty_task *task_alloc(tresty_tq *q) {
  tresty_task *t = NULL;
  pthread_mutex_lock(&q->lock);
  if (q->nfree > TASK_QUARANTINE) {
    t = q->free_head;
    q->free_head = t->next;
    if (!q->free_head) q->free_tail = NULL;
    q->nfree--;
  }
  pthread_mutex_unlock(&q->lock);
  if (!t && !(t = malloc(sizeof *t))) abort(); /* no way to report it to a runtime that only knows poll() */
  return t;
}

static void task_recycle(tresty_tq *q, tresty_task *t) {
  free(t->heap);
  t->heap = NULL;
  t->next = NULL;
  pthread_mutex_lock(&q->lock);
  if (q->free_tail) q->free_tail->next = t;
  else q->free_head = t;
  q->free_tail = t;
  q->nfree++;
  pthread_mutex_unlock(&q->lock);
}

/* Move one submitted request into a task the runtime owns until it responds. */
static tresty_task *take_task(tresty_tq *q) {
  uint32_t pos;
  uint8_t *s = tr_take(&q->sub, &pos);
  if (!s) return NULL;
  uint32_t len, id;
  memcpy(&len, s + TR_SLOT_LEN, 4);
  memcpy(&id, s + TR_SLOT_ID, 4);
  uint64_t ptr;
  memcpy(&ptr, s + TR_SLOT_PTR, 8);
  if (!ptr && len > TR_INLINE_MAX) len = TR_INLINE_MAX; /* a corrupt slot must not overread */
  tresty_task *t = task_alloc(q);
  t->q = q;
  t->id = id;
  t->len = len;
  t->heap = (char *)(uintptr_t)ptr;
  if (ptr) {
    t->req = t->heap;
  } else {
    memcpy(t->data, s + TR_SLOT_DATA, len);
    t->data[len] = 0;
    t->req = t->data;
  }
  tr_release(&q->sub, s, pos);
  __atomic_add_fetch(&q->live, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&t->state, TASK_LIVE, __ATOMIC_RELEASE);
  return t;
}

/* A poller inside the host: counted, so tresty_tq_close can wait until none touches mem. Returns 0
   when the tq is closed (the caller must leave without touching mem). */
static int enter(tresty_tq *q) {
  __atomic_add_fetch(&q->polling, 1, __ATOMIC_SEQ_CST);
  if (!__atomic_load_n(&q->closed, __ATOMIC_SEQ_CST)) return 1;
  __atomic_sub_fetch(&q->polling, 1, __ATOMIC_SEQ_CST);
  return 0;
}
static void *leave(tresty_tq *q, tresty_task *t) {
  __atomic_sub_fetch(&q->polling, 1, __ATOMIC_SEQ_CST);
  return t;
}

static int closing(tresty_tq *q) {
  return __atomic_load_n(&q->closed, __ATOMIC_SEQ_CST) ||
         (tr_load(q->mem, TR_STATE) != TR_STATE_OPEN && tr_empty(&q->sub));
}

/* The gate's verdict for this queue's caller, published in the ring header for JS (TR_GATE_OPEN:
   whether a bounded wait on the event loop's side would take a core from anyone). self: asked by
   the caller (the JS thread), not by a spinner. */
static int gate_open(tresty_tq *q, uint64_t now, int self) {
  int v = spin_gate_open(now, q->js_tid, self);
  if (tr_load(q->mem, TR_GATE_OPEN) != (uint32_t)v) tr_store(q->mem, TR_GATE_OPEN, (uint32_t)v);
  return v;
}

/* A bounded spin of budget ns: a request, or NULL when the budget ran out (or, gated, when the
   machine got busy). */
static tresty_task *spin(tresty_tq *q, uint32_t budget, int gated) {
  uint64_t start = now_ns();
  tresty_task *t;
  for (uint32_t i = 1; !(t = take_task(q)); i++) {
    if (closing(q)) return NULL;
    if (i % SPIN_CLOCK_EVERY == 0) {
      uint64_t now = now_ns();
      if (now - start >= budget || (gated && !gate_open(q, now, 0))) return NULL;
    }
    tr_cpu_relax();
  }
  return t;
}

/* The spin budget a thread that found the ring empty may use now: 0 means sleep at once. Pool
   threads (workers/ffi-pool-thread.ts) ask it too. */
EXPORT uint32_t tresty_spin_budget(void *tq) {
  tresty_tq *q = tq;
  if (!q) return 0;
  if (q->spin_ns) return q->spin_ns;
  if (!q->gated_ns || !gate_open(q, now_ns(), 0)) return 0;
  __atomic_add_fetch(tr_u32(q->mem, TR_SPINS), 1, __ATOMIC_RELAXED); /* counted for tests */
  return q->gated_ns;
}

EXPORT void *ngx_http_lua_ffi_task_poll(void *tq) {
  tresty_tq *q = tq;
  if (!q || !enter(q)) return NULL;
  poller_policy();
  for (;;) {
    tresty_task *t = take_task(q);
    if (t) return leave(q, t);
    uint32_t budget = tresty_spin_budget(q);
    if (budget && (t = spin(q, budget, !q->spin_ns))) return leave(q, t);
    for (uint32_t i = 0; i < q->yields && !closing(q); i++) {
      sched_yield(); /* gives the core to whoever is runnable: spins only on an idle machine */
      if ((t = take_task(q))) return leave(q, t);
    }
    if (closing(q)) return leave(q, NULL);
    /* Eventcount: read the futex word, announce, re-check, then sleep on the old value; JS makes
       its wake system call only when it sees a sleeper. */
    uint32_t v = tr_load(q->mem, TR_SUB_FUTEX);
    __atomic_add_fetch(tr_u32(q->mem, TR_SUB_SLEEPERS), 1, __ATOMIC_SEQ_CST);
    if (tr_empty(&q->sub) && !closing(q)) futex(tr_u32(q->mem, TR_SUB_FUTEX), FUTEX_WAIT_PRIVATE, v);
    __atomic_sub_fetch(tr_u32(q->mem, TR_SUB_SLEEPERS), 1, __ATOMIC_SEQ_CST);
  }
}

EXPORT char *ngx_http_lua_ffi_get_req(void *task, int *len) {
  tresty_task *t = task;
  if (len) *len = t ? (int)t->len : 0;
  return t ? t->req : NULL;
}

static void ring_doorbell(tresty_tq *q) {
  if (__atomic_exchange_n(tr_u32(q->mem, TR_JS_WAITING), 0, __ATOMIC_SEQ_CST) == 1) {
    char b = 1;
    ssize_t n = write(q->wfd, &b, 1); /* EAGAIN: a byte is already pending, which is enough */
    (void)n;
  }
}

/* Put a completion on the ring; JS admits at most CAP calls, so a free slot exists. */
static int push_completion(tresty_tq *q, uint32_t id, int rc, uint32_t flag, char *rsp, uint32_t len) {
  uint32_t pos;
  uint8_t *s;
  for (long spins = 0; !(s = tr_claim(&q->cmp, &pos)); spins++) {
    if (spins > 1000000) return -1; /* a broken invariant: drop rather than hang a runtime */
    sched_yield();
  }
  int32_t rc32 = rc;
  memcpy(s + TR_SLOT_ID, &id, 4);
  memcpy(s + TR_SLOT_RC, &rc32, 4);
  memcpy(s + TR_SLOT_LEN, &len, 4);
  memcpy(s + TR_SLOT_FLAG, &flag, 4);
  uint64_t ptr = 0;
  if (len <= TR_INLINE_MAX) {
    if (len) memcpy(s + TR_SLOT_DATA, rsp, len);
    free(rsp);
  } else {
    ptr = (uint64_t)(uintptr_t)rsp; /* JS copies it out with tresty_buf_take */
  }
  memcpy(s + TR_SLOT_PTR, &ptr, 8);
  tr_publish(s, pos);
  return 0;
}

EXPORT void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len) {
  tresty_task *t = task;
  if (!t) {
    free(rsp);
    return;
  }
  tresty_tq *q = t->q;
  /* A second answer to one task: drop it (the first one stands), count it for JS to log. */
  if (__atomic_exchange_n(&t->state, TASK_DONE, __ATOMIC_SEQ_CST) != TASK_LIVE) {
    free(rsp);
    __atomic_add_fetch(&q->doubled, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&q->dead, __ATOMIC_SEQ_CST)) __atomic_add_fetch(tr_u32(q->mem, TR_DOUBLE_ANSWERS), 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
    return;
  }
  uint32_t flag;
  uint32_t len = check_answer(q->max_rsp, &rsp, rsp_len, &flag);
  __atomic_sub_fetch(&q->live, 1, __ATOMIC_SEQ_CST); /* first, so JS never sees an answer still counted */
  __atomic_add_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&q->dead, __ATOMIC_SEQ_CST) || push_completion(q, t->id, rc, flag, rsp, len) != 0) {
    free(rsp);
    __atomic_add_fetch(&q->dropped, 1, __ATOMIC_SEQ_CST);
  } else {
    ring_doorbell(q);
  }
  __atomic_sub_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
  task_recycle(q, t);
}

EXPORT int tresty_tq_detach(void *tq) {
  tresty_tq *q = tq;
  if (!q) return fail("tresty_tq_detach: NULL tq");
  if (__atomic_exchange_n(&q->dead, 1, __ATOMIC_SEQ_CST)) return 0;
  while (__atomic_load_n(&q->responding, __ATOMIC_SEQ_CST) != 0) sched_yield();
  close(q->wfd); /* JS owns rfd (its socket closes it) */
  q->wfd = -1;
  return 0;
}

EXPORT int tresty_tq_close(void *tq, int wait_ms, int *out_left) {
  tresty_tq *q = tq;
  if (!q || !out_left) return fail("tresty_tq_close: NULL argument");
  if (!__atomic_exchange_n(&q->closed, 1, __ATOMIC_SEQ_CST)) {
    tr_store(q->mem, TR_STATE, TR_STATE_CLOSING);
    tresty_tq_wake(q, 0x7fffffff);
  }
  uint64_t end = now_ns() + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000000u;
  while (__atomic_load_n(&q->polling, __ATOMIC_SEQ_CST) != 0 && now_ns() < end) {
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
  tresty_tq_detach(q);
  *out_left = __atomic_load_n(&q->polling, __ATOMIC_SEQ_CST);
  return 0;
}

EXPORT int tresty_tq_free(void *tq) {
  tresty_tq *q = tq;
  if (!q) return 0;
  tresty_tq_detach(q);
  for (tresty_task *t = q->free_head, *n; t; t = n) {
    n = t->next;
    free(t);
  }
  pthread_mutex_destroy(&q->lock);
  free(q);
  return 0;
}


EXPORT void *tresty_task_try_poll(void *tq) {
  tresty_tq *q = tq;
  if (!q || !enter(q)) return NULL;
  return leave(q, take_task(q));
}

EXPORT int tresty_fn_run(void *task, void *fn) {
  tresty_task *t = task;
  if (!t || !fn) return fail("tresty_fn_run: NULL argument");
  char *rsp = NULL;
  int rsp_len = 0;
  int rc = ((tresty_call_fn)fn)(t->req, (int)t->len, &rsp, &rsp_len);
  ngx_http_lua_ffi_respond(t, rc, rsp, rsp_len);
  return 0;
}

EXPORT int tresty_tq_stats(void *tq, int64_t *out_live, int64_t *out_dropped) {
  tresty_tq *q = tq;
  if (!q) return fail("tresty_tq_stats: NULL tq");
  *out_live = __atomic_load_n(&q->live, __ATOMIC_SEQ_CST);
  *out_dropped = __atomic_load_n(&q->dropped, __ATOMIC_SEQ_CST);
  return 0;
}
