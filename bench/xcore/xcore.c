// What it costs to move a payload from one core to the other, as a ring call does twice (the
// request to the poller, the answer back): one thread writes the buffer, another on the other core
// reads all of it, handing off through a spun flag (no sleeps, so only the cache traffic is timed).
// `same` does the write and the read on one core, for comparison. The two cores are the first two
// this process may use; with one only, `cross` exits 3 (the spun hand-off would need time slices).
// Built and run by bench/lib/xcore.mjs: at the start and end of bench/ffi-vs-uds and bench/http,
// before every round of bench/http-xcore, or by hand with `node bench/lib/xcore.mjs [bytes] [rounds]`.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *buf;
static size_t bytes;
static int iters;
static _Atomic int turn; // 1: the reader's turn, 0: the writer's
static volatile unsigned long sink; // keeps the reads from being optimised away

/** The n-th CPU (0-based) of this process's affinity mask, or -1. */
static int allowed_cpu(int n) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set) && n-- == 0) return cpu;
  return -1;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void read_all(void) {
  unsigned long s = 0;
  for (size_t j = 0; j + 8 <= bytes; j += 8) s += *(unsigned long *)(buf + j);
  sink = s;
}

static void *reader(void *arg) {
  pin(*(int *)arg);
  for (int i = 0; i < iters; i++) {
    while (atomic_load(&turn) != 1) {}
    read_all();
    atomic_store(&turn, 0);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "same") && strcmp(argv[1], "cross"))) {
    fprintf(stderr, "usage: xcore same|cross [bytes] [iterations]\n");
    return 2;
  }
  bytes = argc > 2 ? strtoul(argv[2], NULL, 10) : 102400;
  iters = argc > 3 ? atoi(argv[3]) : 20000;
  buf = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  memset(buf, 1, bytes);
  int first = allowed_cpu(0), second = allowed_cpu(1);
  if (first < 0 || (second < 0 && !strcmp(argv[1], "cross"))) {
    fprintf(stderr, "xcore: cross needs two CPUs in this process's affinity mask\n");
    return 3;
  }
  pin(first);
  double t0 = now_us();
  if (!strcmp(argv[1], "same")) {
    for (int i = 0; i < iters; i++) { memset(buf, i, bytes); read_all(); }
  } else {
    int cpu = second;
    pthread_t th;
    pthread_create(&th, NULL, reader, &cpu);
    t0 = now_us();
    for (int i = 0; i < iters; i++) {
      memset(buf, i, bytes);
      atomic_store(&turn, 1);
      while (atomic_load(&turn) != 0) {}
    }
    pthread_join(th, NULL);
  }
  printf("%-5s %7zu B  %6.2f us per write + read\n", argv[1], bytes, (now_us() - t0) / iters);
  return 0;
}
