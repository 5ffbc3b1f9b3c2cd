/*
 * Robustness check of the zone, run by test/shdict-native.test.ts (and by hand):
 *
 *   tresty-shdict-stress PATH KILLS [WRITERS]
 *
 * Creates a small zone at PATH (so that stores evict), forks WRITERS processes that run random
 * operations on it as fast as they can, and SIGKILLs one of them at a random moment KILLS
 * times (respawning it), checking the zone's invariants after every few kills. Prints the
 * zone's counters as JSON and exits 0 only when every check passed and no recovery had to
 * empty the zone (every interrupted step was undone exactly).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shd_layout.h"
#include "tresty_shdict.h"

static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static void writer(const char *path, uint64_t seed) {
  tresty_shd *z;
  if (tresty_shd_attach(path, &z) != TRESTY_SHD_OK) _exit(3);
  rng_state = seed | 1;
  static uint8_t val[2048];
  for (size_t i = 0; i < sizeof val; i++) val[i] = (uint8_t)('a' + i % 26);
  uint8_t buf[256];
  char key[32];
  for (;;) {
    int klen = snprintf(key, sizeof key, "k%u", rnd() % 400);
    const uint8_t *k = (const uint8_t *)key;
    uint32_t op = rnd() % 100;
    int forcible;
    tresty_shd_value v = {SHD_TSTRING, 0, val, rnd() % 600};
    if (op < 30) {
      int64_t ttl = rnd() % 4 == 0 ? 1 + rnd() % 50 : 0;
      tresty_shd_store(z, TRESTY_SHD_SET, k, (size_t)klen, &v, ttl, rnd() % 3, &forcible);
    } else if (op < 38) {
      v.type = rnd() % 2 ? SHD_TNUMBER : SHD_TBOOLEAN;
      v.num = rnd() % 7;
      tresty_shd_store(z, rnd() % 2 ? TRESTY_SHD_ADD : TRESTY_SHD_SAFE, k, (size_t)klen, &v, 0, 0, &forcible);
    } else if (op < 50) {
      double out;
      tresty_shd_incr(z, k, (size_t)klen, 1, rnd() % 2, 0, rnd() % 3 ? 0 : 20, &out, &forcible);
    } else if (op < 62) {
      uint32_t len;
      v.len = rnd() % 40;
      if (rnd() % 3 == 0) {
        v.type = SHD_TNUMBER;
        v.num = 1;
      }
      tresty_shd_push(z, rnd() % 2, k, (size_t)klen, &v, &len);
    } else if (op < 72) {
      tresty_shd_result r;
      tresty_shd_pop(z, rnd() % 2, k, (size_t)klen, buf, sizeof buf, &r);
      if (r.str != NULL && r.str != buf) free(r.str);
    } else if (op < 84) {
      tresty_shd_result r;
      tresty_shd_get(z, k, (size_t)klen, rnd() % 2, buf, sizeof buf, &r);
      if (r.str != NULL && r.str != buf) free(r.str);
    } else if (op < 90) {
      tresty_shd_value nil = {SHD_TNIL, 0, NULL, 0};
      tresty_shd_store(z, TRESTY_SHD_SET, k, (size_t)klen, &nil, 0, 0, &forcible);
    } else if (op < 96) {
      double excess;
      tresty_shd_leaky(z, k, (size_t)klen, 5000, 3000, 1, &excess);
    } else if (op < 98) {
      uint32_t freed;
      tresty_shd_flush_expired(z, 10, &freed);
    } else if (op < 99) {
      tresty_shd_expire(z, k, (size_t)klen, rnd() % 30);
    } else {
      uint8_t *keys;
      size_t len;
      uint32_t n;
      if (tresty_shd_keys(z, 50, &keys, &len, &n) == TRESTY_SHD_OK) free(keys);
    }
  }
}

static pid_t spawn(const char *path, uint64_t seed) {
  pid_t p = fork();
  if (p == 0) writer(path, seed);
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PATH KILLS [WRITERS]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  int kills = atoi(argv[2]);
  int nw = argc > 3 ? atoi(argv[3]) : 3;
  if (nw < 1 || nw > 16) nw = 3;
  unlink(path);
  tresty_shd *z;
  if (tresty_shd_create(path, 256 * 1024, "stress", &z) != TRESTY_SHD_OK) {
    fprintf(stderr, "%s\n", tresty_shd_last_error());
    return 2;
  }
  rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
  pid_t pids[16];
  for (int i = 0; i < nw; i++) pids[i] = spawn(path, rnd() + (uint64_t)i);
  char msg[256];
  int failed = 0;
  for (int k = 1; k <= kills && !failed; k++) {
    usleep(200 + rnd() % 3000);
    int i = (int)(rnd() % (uint32_t)nw);
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
    pids[i] = spawn(path, rnd());
    if (k % 5 == 0 && tresty_shd_check(z, msg, sizeof msg) != 0) {
      fprintf(stderr, "check failed after %d kills: %s\n", k, msg);
      failed = 1;
    }
  }
  for (int i = 0; i < nw; i++) {
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
  }
  if (!failed && tresty_shd_check(z, msg, sizeof msg) != 0) {
    fprintf(stderr, "final check failed: %s\n", msg);
    failed = 1;
  }
  tresty_shd_info st;
  tresty_shd_stats(z, &st);
  printf("{\"kills\":%d,\"recoveries\":%llu,\"rollbacks\":%llu,\"resets\":%llu,\"entries\":%u,\"free\":%llu,\"ok\":%s}\n",
         kills, (unsigned long long)st.recoveries, (unsigned long long)st.rollbacks, (unsigned long long)st.resets,
         st.entries, (unsigned long long)st.free_bytes, failed ? "false" : "true");
  tresty_shd_detach(z);
  unlink(path);
  return failed || st.resets != 0 ? 1 : 0;
}
