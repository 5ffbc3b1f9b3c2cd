/*
 * Zones as segments: create (the master), attach (workers), detach; the robust lock and what
 * its next owner does when a process died holding it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shd_alloc.h"
#include "tr_pause.h"
#include "shd_check.h"
#include "shd_entry.h"
#include "tresty_shdict.h"

static __thread char last_error[256];

const char *tresty_shd_last_error(void) { return last_error; }

static int sys_error(const char *what, const char *path) {
  snprintf(last_error, sizeof last_error, "%s \"%s\" failed (%d: %s)", what, path, errno, strerror(errno));
  return TRESTY_SHD_E_SYS;
}

static const char *const messages[TRESTY_SHD_E_COUNT] = {
  [TRESTY_SHD_OK] = "ok",
  [TRESTY_SHD_E_EXISTS] = "exists",
  [TRESTY_SHD_E_NOT_FOUND] = "not found",
  [TRESTY_SHD_E_NO_MEMORY] = "no memory",
  [TRESTY_SHD_E_NOT_A_NUMBER] = "not a number",
  [TRESTY_SHD_E_NOT_A_LIST] = "value not a list",
  [TRESTY_SHD_E_IS_LIST] = "value is a list",
  [TRESTY_SHD_E_EMPTY_KEY] = "empty key",
  [TRESTY_SHD_E_KEY_TOO_LONG] = "key too long",
  [TRESTY_SHD_E_ADD_NIL] = "attempt to add or replace nil values",
  [TRESTY_SHD_E_BAD_VALUE] = "bad value type",
  [TRESTY_SHD_E_REJECTED] = "rejected",
  [TRESTY_SHD_E_LOCK] = "the zone's lock is unrecoverable",
  [TRESTY_SHD_E_SYS] = "system error",
};

const char *tresty_shd_strerror(int code) {
  return code >= 0 && code < TRESTY_SHD_E_COUNT ? messages[code] : "unknown error";
}

void shd_undo_overflow(void) {
  /* A step larger than the log is a bug in this file's callers, never a user's input. */
  fprintf(stderr, "tresty shdict: undo log overflow\n");
  abort();
}

int64_t shd_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  /* Never 0: 0 means "never expires" and "not read yet". */
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

static uint32_t pow2_at_least(uint64_t v) {
  uint32_t p = 64;
  while (p < v && p < (1u << 26)) p <<= 1;
  return p;
}

void shd_format(shd_zone *z) {
  shd_hdr *h = z->hdr;
  memset(z->base + h->buckets_off, 0, (size_t)h->nbuckets * 4);
  h->lru_head = h->lru_tail = 0;
  h->nentries = 0;
  h->fl_bitmap = 0;
  memset(h->sl_bitmap, 0, sizeof h->sl_bitmap);
  memset(h->free_heads, 0, sizeof h->free_heads);
  uint32_t size = h->heap_end - h->heap_off;
  shd_block *first = shd_b(z, h->heap_off);
  first->size = size;
  first->prev_size = 0;
  shd_block *end = shd_b(z, h->heap_end);
  end->size = SHD_USED; /* size 0, used: merging stops here */
  end->prev_size = size;
  h->free_bytes = size;
  h->undo_n = 0;
  z->undo_bytes = 0;
  shd_insert_free(z, h->heap_off, size);
  tx_commit(z);
}

static int map_file(int fd, size_t size, const char *path, uint8_t **out) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return sys_error("mmap()", path);
  *out = p;
  return TRESTY_SHD_OK;
}

int tresty_shd_create(const char *path, uint64_t size, const char *name, tresty_shd **out) {
  if (size < SHD_MIN_SIZE || size > SHD_MAX_SIZE) {
    errno = EINVAL;
    return sys_error("create zone", path);
  }
  size &= ~(uint64_t)(SHD_ALIGN - 1);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("open()", path);
  uint8_t *base;
  int rc = TRESTY_SHD_OK;
  if (ftruncate(fd, (off_t)size) != 0) rc = sys_error("ftruncate()", path);
  else rc = map_file(fd, size, path, &base);
  close(fd);
  if (rc != TRESTY_SHD_OK) {
    unlink(path);
    return rc;
  }
  shd_zone *z = calloc(1, sizeof *z);
  z->base = base;
  z->hdr = (shd_hdr *)base;
  z->size = size;
  shd_hdr *h = z->hdr;
  h->version = SHD_VERSION;
  h->size = size;
  snprintf(h->name, sizeof h->name, "%s", name);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&h->lock, &a);
  pthread_mutexattr_destroy(&a);
  /* About one bucket per 128 bytes: a full zone of small entries has chains of one or two. */
  h->buckets_off = (sizeof(shd_hdr) + 63) & ~63u;
  h->nbuckets = pow2_at_least(size / 128);
  while ((uint64_t)h->buckets_off + h->nbuckets * 4ull + 4096 > size) h->nbuckets >>= 1;
  h->heap_off = (h->buckets_off + h->nbuckets * 4 + SHD_ALIGN - 1) & ~(SHD_ALIGN - 1);
  h->heap_end = (uint32_t)size - SHD_BLOCK_HDR;
  shd_format(z);
  __atomic_store_n(&h->magic, SHD_MAGIC, __ATOMIC_RELEASE);
  *out = z;
  return TRESTY_SHD_OK;
}

int tresty_shd_attach(const char *path, tresty_shd **out) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return sys_error("open()", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int rc = sys_error("fstat()", path);
    close(fd);
    return rc;
  }
  uint8_t *base;
  int rc = (size_t)st.st_size < SHD_MIN_SIZE ? (errno = EINVAL, sys_error("attach zone", path))
                                             : map_file(fd, (size_t)st.st_size, path, &base);
  close(fd);
  if (rc != TRESTY_SHD_OK) return rc;
  shd_hdr *h = (shd_hdr *)base;
  if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SHD_MAGIC || h->version != SHD_VERSION
      || h->size != (uint64_t)st.st_size) {
    munmap(base, (size_t)st.st_size);
    errno = EINVAL;
    return sys_error("attach zone (not a tresty zone of this version)", path);
  }
  shd_zone *z = calloc(1, sizeof *z);
  z->base = base;
  z->hdr = h;
  z->size = (size_t)st.st_size;
  *out = z;
  return TRESTY_SHD_OK;
}

int tresty_shd_detach(tresty_shd *z) {
  munmap(z->base, z->size);
  free(z);
  return TRESTY_SHD_OK;
}

int shd_rollback(shd_zone *z) {
  shd_hdr *h = z->hdr;
  uint32_t n = h->undo_n;
  if (n == 0) return 0;
  if (n > SHD_UNDO_MAX) n = SHD_UNDO_MAX;
  uint32_t pos = 0;
  for (uint32_t i = 0; i < n; i++) pos += h->undo[i].len;
  /* Newest first: a place written twice in one step gets its oldest bytes back. */
  for (uint32_t i = n; i-- > 0;) {
    shd_undo_ent e = h->undo[i];
    pos -= e.len;
    if (pos + e.len <= SHD_UNDO_DATA && (uint64_t)e.off + e.len <= z->size) memcpy(z->base + e.off, h->undo_data + pos, e.len);
  }
  tx_commit(z);
  return 1;
}

/* The owner died holding the lock: undo its step, then make sure the zone is whole. */
static void recover(shd_zone *z) {
  shd_hdr *h = z->hdr;
  h->recoveries++;
  if (shd_rollback(z)) h->rollbacks++;
  shd_lru_repair(z);
  char msg[160];
  /* 2 (the check could not run) trusts the rollback rather than empty a zone for nothing. */
  if (shd_check_locked(z, msg, sizeof msg) == 1) {
    fprintf(stderr, "tresty shdict: zone \"%s\" was inconsistent after a worker died holding its lock (%s); "
            "it was emptied\n", h->name, msg);
    shd_format(z);
    h->resets++;
  }
}

/* Under contention a critical section lasts a few hundred nanoseconds: spin that long on the
 * lock word (read-only, no cache-line ping-pong) before sleeping in the kernel, as nginx's
 * shmtx does. Bounded, so a holder that was descheduled costs at most this much spinning. */
#define SHD_SPINS 100

int shd_lock(shd_zone *z) {
  pthread_mutex_t *m = &z->hdr->lock;
  int rc = pthread_mutex_trylock(m);
  if (rc == EBUSY) {
    for (int i = 0; i < SHD_SPINS; i++) {
      tr_cpu_relax();
      if (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0 && (rc = pthread_mutex_trylock(m)) != EBUSY) break;
    }
    if (rc == EBUSY) rc = pthread_mutex_lock(m);
  }
  z->now = 0;
  z->undo_bytes = 0;
  if (rc == 0) return 0;
  if (rc == EOWNERDEAD) {
    recover(z);
    pthread_mutex_consistent(&z->hdr->lock);
    return 0;
  }
  return -1;
}

void shd_unlock(shd_zone *z) {
  tx_commit(z); /* every operation ends at a consistent point */
  pthread_mutex_unlock(&z->hdr->lock);
}
