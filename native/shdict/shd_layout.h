/*
 * The layout of one js_shared_dict zone, named once (STYLE 9). A zone is a file in /dev/shm
 * mapped MAP_SHARED by the master and by every worker; each process maps it at its own
 * address, so every link inside the zone is a uint32 offset from the zone's first byte
 * (0 = none: offset 0 is the header, never an entry).
 *
 *  0                  buckets_off          heap_off                         heap_end  size
 *  +------------------+--------------------+--------------------------------+--------+
 *  | shd_hdr          | u32 bucket heads   | blocks: [shd_block 8 B][payload]| end    |
 *  |  magic, lock     | (entry offsets,    |   used: an entry or a list node | marker |
 *  |  LRU ends        |  chained through   |   free: in a size-class list    | (used, |
 *  |  free lists      |  shd_entry.hnext)  |         (TLSF: 2 levels)        |  0 B)  |
 *  |  undo log        |                    |                                 |        |
 *  +------------------+--------------------+---------------------------------+--------+
 *
 * Blocks tile the heap: block b is followed by block b + size; block b's prev_size gives the
 * one before it, so freeing merges with both neighbours. A free block keeps its list links in
 * the first 8 bytes of its payload.
 *
 * Crash safety: every write to shared state under the lock goes through the undo log in the
 * header (shd_zone.h), except the LRU list's links. A process killed mid-operation leaves
 * undo_n > 0; the next owner of the robust mutex (EOWNERDEAD) restores the logged bytes newest
 * first, which puts the zone back as it was before the interrupted step, relinks the LRU list
 * from the hash table if it does not hold together, then checks the invariants (shd_check.c).
 */
#ifndef TRESTY_SHD_LAYOUT_H
#define TRESTY_SHD_LAYOUT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SHD_MAGIC 0x44485354u /* "TSHD" */
#define SHD_VERSION 1u

/* Two-level segregated free lists: sizes < 256 B in 32 exact classes of 8 B, then per power
 * of two 32 subdivisions. 25 first levels cover blocks up to 4 GiB. */
#define SHD_FL 25
#define SHD_SL 32
#define SHD_SMALL 256u

#define SHD_ALIGN 8u
#define SHD_BLOCK_HDR 8u
#define SHD_MIN_BLOCK 16u /* header + two free-list links */
#define SHD_USED 1u       /* low bit of shd_block.size */

/* The undo log: entries of one step (an eviction, a store ...) and the bytes they replaced. */
#define SHD_UNDO_MAX 128
#define SHD_UNDO_DATA 2048
/* Values up to this size are overwritten in place (their old bytes fit the log). */
#define SHD_INPLACE_MAX 1024u

#define SHD_NAME_MAX 64
#define SHD_KEY_MAX 65535u
#define SHD_MIN_SIZE (16u * 1024u)
#define SHD_MAX_SIZE 0xFFFFF000u /* offsets are uint32 */

/* Value types: Lua's type numbers where OpenResty uses them. */
enum {
  SHD_TNIL = 0,
  SHD_TBOOLEAN = 1,
  SHD_TNUMBER = 3,
  SHD_TSTRING = 4,
  SHD_TLIST = 5,
  SHD_TLEAKY = 6, /* tresty/limit's leaky bucket: two doubles (excess, last) */
};

typedef struct {
  uint32_t off;
  uint32_t len;
} shd_undo_ent;

typedef struct {
  uint32_t magic;
  uint32_t version;
  uint64_t size; /* bytes of the whole zone */
  char name[SHD_NAME_MAX];
  uint32_t buckets_off;
  uint32_t nbuckets; /* a power of two */
  uint32_t heap_off;
  uint32_t heap_end; /* offset of the end marker block */
  pthread_mutex_t lock; /* process-shared, robust */

  /* Changed only under the lock, through the undo log. */
  uint32_t lru_head; /* most recently used entry */
  uint32_t lru_tail; /* least recently used entry */
  uint32_t nentries;
  uint32_t fl_bitmap;
  uint64_t free_bytes;
  uint32_t sl_bitmap[SHD_FL];
  uint32_t free_heads[SHD_FL][SHD_SL]; /* block offsets */

  /* Counters of lock owners that died (written only while recovering). */
  uint64_t recoveries; /* EOWNERDEAD seen */
  uint64_t rollbacks;  /* ... with a step in progress, undone */
  uint64_t resets;     /* ... and the zone failed its check afterwards: emptied */

  /* The step in progress: undo_n entries, their old bytes packed in undo_data in order. */
  uint32_t undo_n;
  uint32_t undo_pad;
  shd_undo_ent undo[SHD_UNDO_MAX];
  uint8_t undo_data[SHD_UNDO_DATA];
} shd_hdr;

typedef struct {
  uint32_t size; /* bytes including this header; | SHD_USED when allocated */
  uint32_t prev_size; /* size of the block just before (0 for the first) */
} shd_block;

/* A key and its value (the payload of a used block). */
typedef struct {
  uint32_t hnext;  /* next entry in the same bucket */
  uint32_t prev;   /* LRU: the entry used just more recently */
  uint32_t next;   /* LRU: the entry used just less recently */
  uint32_t hash;
  uint32_t vlen;   /* value bytes; a list's element count */
  uint32_t uflags; /* user flags */
  int64_t expires; /* CLOCK_MONOTONIC ms; 0 = never */
  uint16_t klen;
  uint8_t vtype;
  uint8_t pad[5];
  /* key bytes [klen], then the value; a list's value is a shd_listhead */
} shd_entry;

typedef struct {
  uint32_t first;
  uint32_t last;
} shd_listhead;

/* One element of a list (the payload of a used block). */
typedef struct {
  uint32_t prev;
  uint32_t next;
  uint32_t vlen;
  uint8_t vtype;
  uint8_t pad[3];
  /* value bytes [vlen] */
} shd_lnode;

_Static_assert(sizeof(shd_entry) == 40, "shd_entry layout");
_Static_assert(sizeof(shd_lnode) == 16, "shd_lnode layout");
_Static_assert(sizeof(shd_block) == SHD_BLOCK_HDR, "shd_block layout");

#endif
