/* host_check: drives libtresty_host.so from C the way src/ffi/channel.ts does from JS, so the
   host can run under valgrind: requests of every size, late answers after detach, the zero-hop
   binding (tresty_fn_bind/invoke), no leaks.
   usage: host_check DIR   (DIR holds libtresty_host.so and test-runtimes/) */
#define _GNU_SOURCE
#include "tresty_host.h"
#include "tresty_ring.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAP 64u
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "host_check: %s failed (line %d)\n", #c, __LINE__); exit(1); } } while (0)

static uint8_t *mem;
static tr_ring sub, cmp;

static void submit(uint32_t id, const char *data, uint32_t len) {
  uint32_t pos;
  uint8_t *s = tr_claim(&sub, &pos);
  CHECK(s);
  memcpy(s + TR_SLOT_ID, &id, 4);
  memcpy(s + TR_SLOT_LEN, &len, 4);
  uint64_t ptr = 0;
  if (len > TR_INLINE_MAX) {
    void *buf;
    CHECK(tresty_buf_new((const uint8_t *)data, len, &buf) == 0);
    ptr = (uint64_t)(uintptr_t)buf;
  } else {
    memcpy(s + TR_SLOT_DATA, data, len);
  }
  memcpy(s + TR_SLOT_PTR, &ptr, 8);
  tr_publish(s, pos);
}

/* Wait for one completion (spinning: this is a test driver, not the event loop). */
static char *complete(uint32_t *id, int32_t *rc, uint32_t *len) {
  uint32_t pos;
  uint8_t *s;
  while (!(s = tr_take(&cmp, &pos))) usleep(100);
  uint64_t ptr;
  memcpy(id, s + TR_SLOT_ID, 4);
  memcpy(rc, s + TR_SLOT_RC, 4);
  memcpy(len, s + TR_SLOT_LEN, 4);
  memcpy(&ptr, s + TR_SLOT_PTR, 8);
  char *out = malloc(*len + 1);
  if (*len > TR_INLINE_MAX) CHECK(tresty_buf_take((void *)(uintptr_t)ptr, (uint8_t *)out, *len) == 0);
  else memcpy(out, s + TR_SLOT_DATA, *len);
  tr_release(&cmp, s, pos);
  return out;
}

/* Wait for a condition the host or a runtime reaches on its own threads, with a deadline long
   enough for valgrind (which slows threads 20-50x): never a fixed sleep that happens to suffice. */
#define WAIT_FOR(c) do { \
    struct timespec t0_, t_; clock_gettime(CLOCK_MONOTONIC, &t0_); \
    for (;;) { if (c) break; clock_gettime(CLOCK_MONOTONIC, &t_); \
      CHECK(t_.tv_sec - t0_.tv_sec < 20); usleep(1000); } } while (0)

static int stats_are(void *tq, int64_t want_live, int64_t want_dropped) {
  int64_t live, dropped;
  return tresty_tq_stats(tq, &live, &dropped) == 0 && live == want_live && dropped == want_dropped;
}

/* Threads of this process the kernel still runs. A runtime's poller announces its exit just
   before it returns; until the thread has really gone, its TLS block is still allocated and
   valgrind, if main returns first, reports it as "possibly lost". */
static int threads_alive(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return 1; /* no /proc: nothing to wait on */
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void *start(const char *dir, const char *name, const char *cfg, void **tq, int *fd) {
  char path[4096];
  snprintf(path, sizeof path, "%s/test-runtimes/libtresty_test_%s.so", dir, name);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  CHECK(lib);
  memset(mem, 0, TR_TOTAL_BYTES(CAP));
  for (uint32_t i = 0; i < CAP; i++) {
    memcpy(mem + TR_SUBMIT_OFFSET + i * TR_SLOT_SIZE, &i, 4);
    memcpy(mem + TR_COMPLETION_OFFSET(CAP) + i * TR_SLOT_SIZE, &i, 4);
  }
  tr_store(mem, TR_CAPACITY, CAP);
  tr_store(mem, TR_SLOT_BYTES, TR_SLOT_SIZE);
  tr_store(mem, TR_VERSION, TR_VERSION_VALUE);
  tr_store(mem, TR_MAGIC, TR_MAGIC_VALUE);
  CHECK(tresty_tq_new(mem, TR_TOTAL_BYTES(CAP), tq, fd) == 0);
  int rc = -1;
  CHECK(tresty_runtime_init(*tq, dlsym(lib, "libffi_init"), cfg, &rc) == 0 && rc == 0);
  return lib;
}

int main(int argc, char **argv) {
  CHECK(argc == 2);
  char host[4096];
  snprintf(host, sizeof host, "%s/libtresty_host.so", argv[1]);
  CHECK(dlopen(host, RTLD_NOW | RTLD_GLOBAL)); /* as koffi.load(host, { global: true }) */
  mem = aligned_alloc(64, TR_TOTAL_BYTES(CAP));
  sub = (tr_ring){mem, TR_SUB_TAIL, TR_SUB_HEAD, TR_SUBMIT_OFFSET, CAP};
  cmp = (tr_ring){mem, TR_CMP_TAIL, TR_CMP_HEAD, TR_COMPLETION_OFFSET(CAP), CAP};
  void *tq;
  int fd;

  /* echo: sizes around the inline limit, 0 bytes and 1 MB, several laps of the ring */
  void *echo = start(argv[1], "echo", "threads=2", &tq, &fd);
  int *echo_exited = dlsym(echo, "tresty_test_echo_exited");
  CHECK(echo_exited);
  static const uint32_t sizes[] = {0, 1, TR_INLINE_MAX, TR_INLINE_MAX + 1, 100 * 1024, 1024 * 1024};
  char *big = malloc(1024 * 1024);
  for (uint32_t i = 0; i < 1024 * 1024; i++) big[i] = (char)(i * 31);
  for (uint32_t round = 0; round < 40; round++) {
    uint32_t n = sizeof sizes / sizeof sizes[0];
    for (uint32_t k = 0; k < n; k++) submit(k, big, sizes[k]);
    tresty_tq_wake(tq, INT32_MAX);
    for (uint32_t k = 0; k < n; k++) {
      uint32_t id, len;
      int32_t rc;
      char *out = complete(&id, &rc, &len);
      CHECK(rc == 0 && id < n && len == sizes[id] && memcmp(out, big, len) == 0);
      free(out);
    }
  }
  tr_store(mem, TR_STATE, TR_STATE_CLOSING);
  tresty_tq_wake(tq, INT32_MAX);
  tresty_tq_detach(tq);
  close(fd);
  WAIT_FOR(__atomic_load_n(echo_exited, __ATOMIC_SEQ_CST) == 2);
  tresty_tq_free(tq); /* both echo pollers have seen NULL and left the tq */

  /* slow: answers that arrive after detach are freed by the host */
  start(argv[1], "slow", NULL, &tq, &fd);
  submit(0, "sleep:300", 9); /* long enough to land after detach even under valgrind */
  submit(1, big, 512 * 1024); /* answered at once, never read by us */
  tresty_tq_wake(tq, INT32_MAX);
  WAIT_FOR(stats_are(tq, 1, 0) && tr_load(mem, TR_CMP_TAIL) == 1); /* sleep held, the big one answered */
  tr_store(mem, TR_STATE, TR_STATE_CLOSING);
  tresty_tq_wake(tq, INT32_MAX);
  tresty_tq_detach(tq);
  close(fd);
  WAIT_FOR(stats_are(tq, 0, 1)); /* the late answer came after detach and the host freed it */
  /* After detach nothing is pushed any more: free what is left on the ring, as channel.ts does. */
  uint32_t pos, len;
  uint8_t *s;
  while ((s = tr_take(&cmp, &pos))) {
    uint64_t ptr;
    memcpy(&len, s + TR_SLOT_LEN, 4);
    memcpy(&ptr, s + TR_SLOT_PTR, 8);
    CHECK(len == 512 * 1024 && ptr);
    tresty_buf_free((void *)(uintptr_t)ptr);
    tr_release(&cmp, s, pos);
  }
  tresty_tq_free(tq);

  /* zero hop: a bound function, small answers into out, a 1 MB one as a heap block, a C string */
  char fnlib[4096];
  snprintf(fnlib, sizeof fnlib, "%s/test-runtimes/libtresty_test_fnlib.so", argv[1]);
  void *fl = dlopen(fnlib, RTLD_NOW | RTLD_LOCAL);
  CHECK(fl);
  static uint8_t req[2 * 1024 * 1024], out[64 * 1024];
  int32_t meta[8];
  void *b = tresty_fn_bind(dlsym(fl, "tresty_test_echo"), req, 16, out, sizeof out, 0, meta);
  CHECK(b && tresty_fn_invoke(b, 16) == -1); /* no room for the NUL */
  CHECK(tresty_fn_rebind_req(b, req, sizeof req) == 0);
  for (uint32_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    memcpy(req, big, sizes[k]);
    CHECK(tresty_fn_invoke(b, sizes[k]) == 0 && req[sizes[k]] == 0);
    void *heap;
    memcpy(&heap, &meta[4], sizeof heap);
    CHECK(meta[0] == 0 && (uint32_t)meta[1] == sizes[k] && meta[2] == TR_FLAG_OK);
    if (sizes[k] > sizeof out) {
      char *got = malloc(sizes[k]);
      CHECK(heap && tresty_buf_take(heap, (uint8_t *)got, sizes[k]) == 0 && memcmp(got, big, sizes[k]) == 0);
      free(got);
    } else {
      CHECK(!heap && memcmp(out, big, sizes[k]) == 0);
    }
  }
  tresty_fn_unbind(b);
  b = tresty_fn_bind(dlsym(fl, "tresty_test_overlen"), req, sizeof req, out, sizeof out, 0, meta);
  CHECK(b && tresty_fn_invoke(b, 0) == 0 && meta[2] == TR_FLAG_BAD_LENGTH);
  tresty_fn_unbind(b);
  dlclose(fl);
  free(big);
  free(mem);
  WAIT_FOR(threads_alive() == 1); /* the runtimes' pollers are gone before main returns */
  puts("host_check: ok");
  return 0;
}
