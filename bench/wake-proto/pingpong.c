/* Wake-up latency of a sleeping thread, futex against pipe (a "sync" wake-up), for issue 10's busy
   cells: the caller wakes a sleeping server thread, then sleeps until the server wakes it back, as
   a 1-in-flight FFI call does. Run it alone and under a CPU hog per core (run.sh). Prints the p50,
   p90, p99 round trip in µs. Usage: pingpong futex|pipe SECONDS */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int use_pipe;
static uint32_t to_srv, to_cli; /* futex words */
static int p_srv[2], p_cli[2];
static volatile int stop;

static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec; }
static void fwait(uint32_t *w, uint32_t v) { while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == v) syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void fwake(uint32_t *w) { __atomic_add_fetch(w, 1, __ATOMIC_RELEASE); syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *server(void *arg) {
  (void)arg;
  uint32_t seen = 0;
  char b;
  while (!stop) {
    if (use_pipe) { if (read(p_srv[0], &b, 1) != 1) break; if (write(p_cli[1], &b, 1) != 1) break; }
    else { fwait(&to_srv, seen); seen = __atomic_load_n(&to_srv, __ATOMIC_ACQUIRE); fwake(&to_cli); }
  }
  return NULL;
}

static int cmp(const void *a, const void *b) { uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  use_pipe = argc > 1 && strcmp(argv[1], "pipe") == 0;
  double secs = argc > 2 ? atof(argv[2]) : 2;
  if (pipe(p_srv) || pipe(p_cli)) return 1;
  pthread_t t;
  pthread_create(&t, NULL, server, NULL);
  size_t cap = 4000000, n = 0;
  uint64_t *lat = malloc(cap * sizeof *lat);
  uint64_t end = now() + (uint64_t)(secs * 1e9);
  char b = 1;
  uint32_t seen = 0;
  while (now() < end && n < cap) {
    uint64_t t0 = now();
    if (use_pipe) { if (write(p_srv[1], &b, 1) != 1 || read(p_cli[0], &b, 1) != 1) return 1; }
    else { fwake(&to_srv); fwait(&to_cli, seen); seen = __atomic_load_n(&to_cli, __ATOMIC_ACQUIRE); }
    lat[n++] = now() - t0;
  }
  stop = 1;
  qsort(lat, n, sizeof *lat, cmp);
  printf("%-5s %8.0f round trips/s  p50 %6.1f  p90 %7.1f  p99 %7.1f us\n", use_pipe ? "pipe" : "futex", n / secs,
         lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3, lat[n * 99 / 100] / 1e3);
  fflush(stdout);
  _exit(0);
}
