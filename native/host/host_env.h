/* The host's small system helpers and what it takes from the environment: the futex and clock
   calls, the spin's pause, malloc's thresholds and the pollers' scheduling policy (included once,
   by tresty_host.c, after spin_gate.h). */
#ifndef TRESTY_HOST_ENV_H
#define TRESTY_HOST_ENV_H

#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tr_pause.h"

static long futex(uint32_t *addr, int op, uint32_t val) {
  return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A duration in ns from the environment, dflt when unset, at most max. */
static uint32_t env_ns(const char *name, uint32_t dflt, uint32_t max) {
  const char *v = getenv(name);
  unsigned long ns = v && *v ? strtoul(v, NULL, 10) : dflt;
  return ns > max ? max : (uint32_t)ns;
}

/* Large requests and answers pass through malloc'ed blocks of the process (the host's copy of a
   request, the runtime's answer, the Uint8Array JS copies an answer into, freed only when V8
   collects it). Below glibc's first mmap threshold (128 KB) they come from the heap, and with its
   first trim threshold (128 KB) every collection that frees a few of them gives the top of the
   heap back to the kernel, so the next ones fault in their pages again: 15 us to allocate a 100 KB
   answer's buffer against 5 us once the heap is kept (bench/README.md, "raw 100 KB"). glibc
   raises both thresholds by itself only after a block over them was mmap'ed and freed, which
   answers under 128 KB never are; so they are set here, to values inside the range glibc's own
   adjustment reaches (at most 32 MB and twice that on 64-bit). TRESTY_FFI_MALLOC_TUNE=0, or the
   user's own MALLOC_*_THRESHOLD_: leave malloc alone. Run once, when the host is loaded. */
#define MMAP_THRESHOLD (4u << 20)
#define TRIM_THRESHOLD (64u << 20)
static void tune_malloc(void) {
  const char *v = getenv("TRESTY_FFI_MALLOC_TUNE");
  if ((v && *v == '0') || getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TRIM_THRESHOLD_")) return; /* the user's */
  mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
  mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}

/* A poller's scheduling policy, set once per thread at its first poll, for measurements
   (bench/README.md, issue 10, "Pollers that do not preempt"): TRESTY_FFI_POLLER_SCHED=batch
   (SCHED_BATCH: same weight, but a woken poller never preempts the worker that woke it), idle
   (SCHED_IDLE), nice:N (SCHED_OTHER at nice N; below 0 needs CAP_SYS_NICE); unset or normal
   leaves the thread as created. A refusal leaves it as it was. */
static void poller_policy(void) {
  static __thread int done;
  if (done) return;
  done = 1;
  const char *v = getenv("TRESTY_FFI_POLLER_SCHED");
  if (!v || !*v) return;
  struct sched_param sp = {0};
  if (!strcmp(v, "batch")) (void)sched_setscheduler(0, SCHED_BATCH, &sp); /* 0: the calling thread */
  else if (!strcmp(v, "idle")) (void)sched_setscheduler(0, SCHED_IDLE, &sp);
  else if (!strncmp(v, "nice:", 5)) (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), atoi(v + 5));
}

#endif
