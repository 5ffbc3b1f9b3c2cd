/* Whether a thread that found its ring empty may spin before it sleeps (included by tresty_host.c).

   A spin is free only while a core would otherwise idle: then it catches the next request without a
   futex round trip. When every core has work, each spinning microsecond is taken from a worker
   (issue 10's first table). The request a spinner waits for comes from another thread (the event
   loop), which needs a core too, and may be asleep at the moment of the sample. So a spin is
   allowed only while the runnable tasks of the whole machine, the spinner included, leave a core
   free: fewer than the cores, by /proc/loadavg's fourth field ("running/total", the kernel's
   instantaneous nr_running, not an average). On one core that never holds: spinning there only
   delays the thread that would bring the work. One read costs ~3 us, so the verdict is shared by
   every thread of the process and re-read at most every GATE_EVERY_NS; a machine that gets busy
   stops the spins within that time. Measured in bench/ffi-wait.mjs (bench/README.md, "How pollers
   wait"). */
#ifndef TRESTY_SPIN_GATE_H
#define TRESTY_SPIN_GATE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GATE_EVERY_NS 2000000ull /* how stale the verdict may be */

static int gate_fd = -1;        /* /proc/loadavg, kept open; -1: unavailable (never spin) */
static char gate_path[256];     /* what gate_fd reads */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static long gate_allowed;        /* runnable tasks allowed: the cores less those kept free */
static uint64_t gate_at;        /* CLOCK_MONOTONIC ns of the last sample */
static int gate_verdict;        /* 1: a core is idle */
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

static void gate_init(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  const char *keep = getenv("TRESTY_FFI_GATE_KEEP"); /* cores kept free, 1 unless set (measurements) */
  gate_allowed = (n > 0 ? n : 1) - (keep && *keep ? atol(keep) : 1);
}

/* Where the gate reads the run queue: /proc/loadavg, or (TRESTY_FFI_GATE_FILE, for tests) a file
   in its format, so that a test can make the machine look idle or busy whatever other jobs run.
   dup2 swaps the file under a thread that may be reading it without ever closing its fd. */
static void spin_gate_source(const char *path) {
  pthread_once(&gate_once, gate_init);
  if (!path || !*path) path = "/proc/loadavg";
  pthread_mutex_lock(&gate_lock);
  if (strcmp(path, gate_path) != 0) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && gate_fd >= 0) {
      dup2(fd, gate_fd);
      close(fd);
    } else if (fd >= 0) {
      gate_fd = fd;
    }
    if (fd >= 0) snprintf(gate_path, sizeof gate_path, "%s", path);
    __atomic_store_n(&gate_at, 0, __ATOMIC_RELEASE); /* sample the new source at once */
  }
  pthread_mutex_unlock(&gate_lock);
}

/* 1 when the runnable tasks (the caller is one of them) leave the cores kept free. A file that
   says 0 running (tests) opens the gate on any machine. */
static int gate_sample(void) {
  char buf[128];
  ssize_t n = pread(gate_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = buf;
  for (int i = 0; i < 3; i++) { /* skip the three averages */
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  char *end;
  long running = strtol(p, &end, 10);
  return end != p && running <= gate_allowed;
}

/* The shared verdict, re-sampled by one thread when older than GATE_EVERY_NS. */
static int spin_gate_open(uint64_t now) {
  pthread_once(&gate_once, gate_init);
  if (gate_fd < 0) return 0;
  uint64_t at = __atomic_load_n(&gate_at, __ATOMIC_ACQUIRE);
  if (at && now - at < GATE_EVERY_NS) return __atomic_load_n(&gate_verdict, __ATOMIC_RELAXED);
  if (!__atomic_compare_exchange_n(&gate_at, &at, now, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return __atomic_load_n(&gate_verdict, __ATOMIC_RELAXED); /* another thread samples it now */
  int v = gate_sample();
  __atomic_store_n(&gate_verdict, v, __ATOMIC_RELAXED);
  return v;
}

#endif
