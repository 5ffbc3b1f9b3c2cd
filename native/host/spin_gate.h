/* Whether a thread that found its ring empty may spin before it sleeps (included by tresty_host.c).

   A spin is free only while a core would otherwise idle: then it catches the next request without a
   futex round trip. When every core has work, each spinning microsecond is taken from a worker
   (issue 10's first table). The request a spinner waits for comes from another thread, the event
   loop that made the plugin (the caller), which needs a core of its own: while it runs it has one,
   while it sleeps one must stay free for it to wake on. So the rule counts the others:

     others = running - 1 (the spinner) - (the caller is running ? 1 : 0)
     spin while others + 1 (the spinner) + keep (the caller's core, 1) <= cores

   running is /proc/loadavg's fourth field (the kernel's instantaneous nr_running, the reader
   included), the caller's state the third field of /proc/self/task/TID/stat, read right after it.
   Counting the caller as another task whether it ran or slept (the rule before) shut the gate in a
   quiet 1-in-flight ping-pong, where the caller runs about half the time: there a spin is free. Any other runnable
   task on 2 cores (a hog, a second worker, another poller) shuts it, as before. cores is what the
   process may really use (cpu_limit.h: the smallest of the online CPUs, the spinner's and the
   caller's affinity masks together, and a cgroup CPU quota); with one such core (none beyond the
   caller's) the gate never opens, whatever
   the run queue says. Both reads cost ~5 us, so the verdict is shared by every thread of the process and
   re-read at most every GATE_EVERY_NS; a machine that gets busy stops the spins within that time.
   Measured in bench/ffi-wait.mjs (bench/README.md, "How pollers wait"). */
#ifndef TRESTY_SPIN_GATE_H
#define TRESTY_SPIN_GATE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_limit.h"

#define GATE_EVERY_NS 2000000ull /* how stale the verdict may be */

static int gate_fd = -1;        /* /proc/loadavg, kept open; -1: unavailable (never spin) */
static char gate_path[256];     /* what gate_fd reads */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;   /* swapping the sources */
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER; /* one sampler at a time */
static long gate_cores;         /* online CPUs under the cgroup quota, or TRESTY_FFI_GATE_CORES (cpu_limit.h) */
static long gate_keep;          /* cores kept for the caller: TRESTY_FFI_GATE_KEEP, 1 unless set */
static int gate_blind;          /* TRESTY_FFI_GATE_BLIND=1: count the caller as another task always (the rule before, for measurements) */
static uint64_t gate_at;        /* CLOCK_MONOTONIC ns of the last sample */
static int gate_verdict;        /* 1: a spin takes no core anyone else wants */
static long gate_tid;           /* the caller the verdict was sampled for */
static int caller_fd = -1;      /* gate_tid's stat file (sample_lock) */
static long caller_fd_tid;      /* whose stat caller_fd reads */
static char caller_path[256];   /* TRESTY_FFI_GATE_CALLER_FILE: a fixed stat file (tests) */
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

static void gate_init(void) {
  const char *keep = getenv("TRESTY_FFI_GATE_KEEP"); /* measurements */
  gate_cores = cpu_limit_fixed();
  gate_keep = keep && *keep ? atol(keep) : 1;
  const char *blind = getenv("TRESTY_FFI_GATE_BLIND");
  gate_blind = blind && *blind == '1';
}

/* Where the gate reads the run queue and the caller's state: /proc, or (TRESTY_FFI_GATE_FILE and
   TRESTY_FFI_GATE_CALLER_FILE, for tests) files in the same formats, so that a test can make the
   machine look idle or busy and the caller awake or asleep whatever other jobs run. dup2 swaps
   the file under a thread that may be reading it without ever closing its fd. */
static void spin_gate_source(const char *path, const char *caller) {
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
  }
  pthread_mutex_lock(&sample_lock);
  snprintf(caller_path, sizeof caller_path, "%s", caller ? caller : "");
  caller_fd_tid = -1; /* reopen at the next sample */
  pthread_mutex_unlock(&sample_lock);
  __atomic_store_n(&gate_at, 0, __ATOMIC_RELEASE); /* sample the new sources at once */
  pthread_mutex_unlock(&gate_lock);
}

/* loadavg's fourth field, "running/total": the running count, or -1 when unreadable. */
static long read_running(void) {
  char buf[128];
  ssize_t n = pread(gate_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = buf;
  for (int i = 0; i < 3; i++) { /* skip the three averages */
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  char *end;
  long running = strtol(p, &end, 10);
  return end != p ? running : -1;
}

/* 1 when the caller (thread tid of this process) is running or runnable; 0 when it sleeps or is
   unknown (tid 0, an unreadable file): then its core is kept free, the safe side. Under
   sample_lock. */
static int caller_running(long tid) {
  if (!tid) return 0;
  if (caller_fd_tid != tid) {
    if (caller_fd >= 0) close(caller_fd);
    char path[64];
    const char *p = caller_path;
    if (!*p) {
      snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
      p = path;
    }
    caller_fd = open(p, O_RDONLY | O_CLOEXEC);
    caller_fd_tid = tid;
  }
  if (caller_fd < 0) return 0;
  char buf[512];
  ssize_t n = pread(caller_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
  return p && p[1] == ' ' && p[2] == 'R';
}

/* 1 when the others leave a core for the spinner and one for the caller (see the top). A file
   that says 0 running (tests) opens the gate wherever the process may use two cores.
   With others = running - 1 - caller, the rule is running - caller + keep <= cores. The run
   queue is read first and the costlier reads only when they can change the verdict: on a busy
   machine a sample is one pread, not three system calls (bench/README.md, "Where the pollers'
   CPU goes": the three took 8% of the pollers' CPU under load). */
static int gate_sample(long tid, int self) {
  if (gate_cores <= gate_keep) return 0; /* no core beyond the caller's: a spin always takes someone's */
  long running = read_running();
  if (running < 0) return 0;
  if (running - 1 + gate_keep > gate_cores) return 0; /* shut even with the caller counted out */
  long mask = affinity_cpus(tid); /* re-read: worker_cpu_affinity pins after the plugins loaded */
  long cores = mask > 0 && mask < gate_cores ? mask : gate_cores;
  if (cores <= gate_keep) return 0;
  if (running + gate_keep <= cores) return 1; /* open even with the caller counted in */
  /* self: the caller samples (at queue creation): it is the one running task already taken off */
  long caller = gate_blind || self ? 0 : caller_running(tid);
  return running - caller + gate_keep <= cores;
}

/* The shared verdict for a caller, re-sampled by one thread when older than GATE_EVERY_NS or
   sampled for another caller. self: the asking thread is the caller itself, not a spinner. */
static int spin_gate_open(uint64_t now, long tid, int self) {
  pthread_once(&gate_once, gate_init);
  if (gate_fd < 0) return 0;
  uint64_t at = __atomic_load_n(&gate_at, __ATOMIC_ACQUIRE);
  int fresh = at && now - at < GATE_EVERY_NS && __atomic_load_n(&gate_tid, __ATOMIC_RELAXED) == tid;
  if (fresh || pthread_mutex_trylock(&sample_lock) != 0) return __atomic_load_n(&gate_verdict, __ATOMIC_RELAXED);
  int v = gate_sample(tid, self);
  __atomic_store_n(&gate_verdict, v, __ATOMIC_RELAXED);
  __atomic_store_n(&gate_tid, tid, __ATOMIC_RELAXED);
  __atomic_store_n(&gate_at, now, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&sample_lock);
  return v;
}

#endif
