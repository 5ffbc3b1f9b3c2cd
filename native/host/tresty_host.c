/* libtresty_host.so: the native side of tresty's FFI rings (layout: tresty_ring.h). */
#define _GNU_SOURCE
#include "tresty_host.h"
#include "tresty_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* Adaptive spin: how long a dry poller keeps polling before it sleeps on the futex. Waking it
   costs JS a futex wake through koffi (~11% of the event loop at 64 calls in flight) and the
   call a scheduler hand-off (most of the latency at 1 in flight); spinning burns a core. So
   each poller learns its request gaps: one that comes while it spins, or soon after it fell
   asleep, stretches the spin to twice the gap (at most SPIN_MAX_NS); a spin in vain halves it
   (at least SPIN_MIN_NS, the old fixed ~200 polls). Idle: one last spin, then the futex: 0% CPU.
   While answers wait on the completion ring JS has not drained them, and its next requests
   usually follow the drain: the gap counts from then, so a long drain (64 msgpack answers,
   ~100 us) does not put the poller to sleep. One poller per queue waits so, for at most
   drain_wait_ns (learned the same way, at most SPIN_HARD_NS): a trickle of calls, or an event
   loop blocked by user code, costs little spinning. */
#define SPIN_MIN_NS 2000u
#define SPIN_MAX_NS 100000u
#define SPIN_HARD_NS 500000u
#define SPIN_CLOCK_EVERY 32 /* polls between clock reads */

typedef struct tresty_tq {
  uint8_t *mem;
  uint32_t cap;
  tr_ring sub, cmp;
  int rfd, wfd;     /* doorbell pipe: JS reads rfd, completion producers write wfd */
  int dead;         /* set by tresty_tq_detach */
  int responding;   /* respond() calls past the dead check */
  int64_t live;     /* tasks taken and not yet answered */
  int64_t dropped;  /* responses freed because JS had gone */
  int waiter;       /* 1 while a poller waits out JS's drain (see SPIN_HARD_NS) */
} tresty_tq;

typedef struct tresty_task {
  tresty_tq *q;
  uint32_t id, len;
  char *req;   /* points at heap or at data[] */
  char *heap;  /* a large request, freed with the task */
  char data[]; /* a small request, NUL-terminated */
} tresty_task;

static __thread char err_buf[256];

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
  return -1;
}

EXPORT const char *tresty_last_error(void) { return err_buf; }

static long futex(uint32_t *addr, int op, uint32_t val) {
  return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

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
  size_t inl = ptr ? 0 : len;
  tresty_task *t = malloc(sizeof *t + inl + 1);
  if (!t) abort(); /* no way to report it to a runtime that only knows poll() */
  t->q = q;
  t->id = id;
  t->len = len;
  t->heap = (char *)(uintptr_t)ptr;
  if (ptr) {
    t->req = t->heap;
  } else {
    memcpy(t->data, s + TR_SLOT_DATA, inl);
    t->data[inl] = 0;
    t->req = t->data;
  }
  tr_release(&q->sub, s, pos);
  __atomic_add_fetch(&q->live, 1, __ATOMIC_SEQ_CST);
  return t;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Per poller thread: how long to spin once dry, and how long to wait out JS's drain. */
static __thread uint32_t spin_ns = SPIN_MIN_NS, drain_wait_ns = SPIN_HARD_NS;

/* Something came after seen_ns: budget twice that (below cap), never less than it had. */
static void grow(uint32_t *budget, uint64_t seen_ns, uint32_t cap) {
  if (seen_ns < cap && (uint32_t)seen_ns * 2 > *budget) *budget = (uint32_t)seen_ns * 2 < cap ? (uint32_t)seen_ns * 2 : cap;
}
static void halve(uint32_t *budget) { *budget = *budget / 2 > SPIN_MIN_NS ? *budget / 2 : SPIN_MIN_NS; }

/* Spin until a request comes (returned), the budget runs out, or the queue closes (*closed).
   *undrained: it gave up while JS still had answers to drain. */
static tresty_task *spin(tresty_tq *q, uint64_t start, uint64_t *dry, int *closed, int *undrained) {
  int zero = 0, waited = 0;
  int waiter = __atomic_compare_exchange_n(&q->waiter, &zero, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
  tresty_task *t = NULL;
  for (uint32_t i = 1; !(t = take_task(q)); i++) {
    if ((*closed = tr_load(q->mem, TR_STATE) != TR_STATE_OPEN && tr_empty(&q->sub))) break;
    if (i % SPIN_CLOCK_EVERY == 0) {
      uint64_t now = now_ns();
      int draining = waiter && !tr_empty(&q->cmp);
      if (draining && now - start < drain_wait_ns) {
        *dry = now; /* JS has answers to drain: its next requests come after that */
        waited = 1;
      } else if (now - *dry >= spin_ns) {
        *undrained = draining;
        break;
      }
    }
    cpu_relax();
  }
  if (waiter) __atomic_store_n(&q->waiter, 0, __ATOMIC_SEQ_CST);
  if (waited && t) grow(&drain_wait_ns, now_ns() - start, SPIN_HARD_NS);
  else if (waited) halve(&drain_wait_ns); /* JS drained and sent nothing more */
  return t;
}

EXPORT void *ngx_http_lua_ffi_task_poll(void *tq) {
  tresty_tq *q = tq;
  if (!q) return NULL;
  tresty_task *t = take_task(q);
  if (t) return t; /* busy: no clock read */
  uint64_t dry = now_ns(); /* when the ring was last seen empty (and JS had drained) */
  for (;;) {
    int closed = 0, undrained = 0;
    uint64_t start = dry;
    if ((t = spin(q, start, &dry, &closed, &undrained))) {
      grow(&spin_ns, now_ns() - dry, SPIN_MAX_NS);
      return t;
    }
    if (closed) return NULL;
    halve(&spin_ns); /* spun in vain */
    /* Eventcount: read the futex word, announce, re-check, then sleep on the old value. */
    uint32_t v = tr_load(q->mem, TR_SUB_FUTEX);
    __atomic_add_fetch(tr_u32(q->mem, TR_SUB_SLEEPERS), 1, __ATOMIC_SEQ_CST);
    if (tr_empty(&q->sub) && tr_load(q->mem, TR_STATE) == TR_STATE_OPEN)
      futex(tr_u32(q->mem, TR_SUB_FUTEX), FUTEX_WAIT_PRIVATE, v);
    __atomic_sub_fetch(tr_u32(q->mem, TR_SUB_SLEEPERS), 1, __ATOMIC_SEQ_CST);
    /* Woken (or the futex word moved): how soon the request came still teaches both budgets,
       but one 1 ms later means JS slept, not that it was busy draining. */
    if ((t = take_task(q))) {
      uint64_t now = now_ns();
      grow(&spin_ns, now - dry, SPIN_MAX_NS);
      if (undrained) grow(&drain_wait_ns, now - start, SPIN_HARD_NS / 2);
      return t;
    }
    dry = now_ns();
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
static int push_completion(tresty_tq *q, uint32_t id, int rc, char *rsp, uint32_t len) {
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
  uint32_t len = 0;
  if (rsp) len = rsp_len > 0 ? (uint32_t)rsp_len : (uint32_t)strlen(rsp);
  __atomic_sub_fetch(&q->live, 1, __ATOMIC_SEQ_CST); /* first, so JS never sees an answer still counted */
  __atomic_add_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&q->dead, __ATOMIC_SEQ_CST) || push_completion(q, t->id, rc, rsp, len) != 0) {
    free(rsp);
    __atomic_add_fetch(&q->dropped, 1, __ATOMIC_SEQ_CST);
  } else {
    ring_doorbell(q);
  }
  __atomic_sub_fetch(&q->responding, 1, __ATOMIC_SEQ_CST);
  free(t->heap);
  free(t);
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

EXPORT int tresty_tq_free(void *tq) {
  tresty_tq *q = tq;
  if (!q) return 0;
  tresty_tq_detach(q);
  free(q);
  return 0;
}

EXPORT int tresty_buf_new(const uint8_t *data, uint32_t len, void **out_buf) {
  if (!out_buf || (len && !data)) return fail("tresty_buf_new: NULL argument");
  char *p = malloc((size_t)len + 1);
  if (!p) return fail("out of memory for a %u-byte request", len);
  if (len) memcpy(p, data, len);
  p[len] = 0; /* runtimes may treat a request as a C string */
  *out_buf = p;
  return 0;
}

EXPORT int tresty_buf_take(void *buf, uint8_t *out, uint32_t len) {
  if (!buf) return fail("tresty_buf_take: NULL buffer");
  if (len) memcpy(out, buf, len);
  free(buf);
  return 0;
}

EXPORT int tresty_buf_free(void *buf) {
  free(buf);
  return 0;
}

EXPORT void *tresty_task_try_poll(void *tq) { return tq ? take_task(tq) : NULL; }

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
