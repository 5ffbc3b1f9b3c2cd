/*
 * The zone's allocator: two-level segregated fit (TLSF) over the heap, with merging of free
 * neighbours. Every write goes through the undo log, so an allocation or a free interrupted
 * by a dead process is undone with the step it belongs to.
 */
#ifndef TRESTY_SHD_ALLOC_H
#define TRESTY_SHD_ALLOC_H

#include "shd_zone.h"

/* The payload offset of a new block of at least `n` bytes, or 0 when no free block fits.
 * The payload is the caller's to fill without logging: until the step commits, a rollback
 * returns the block to the free lists with its links (saved here) intact. */
uint32_t shd_alloc(shd_zone *z, uint32_t n);

/* Frees the block whose payload is at `payload`, merging it with free neighbours. */
void shd_free(shd_zone *z, uint32_t payload);

/* The block size an allocation of `n` bytes takes (for accounting and tests). */
uint32_t shd_block_size(uint32_t n);

/* Size classes, shared with the checker. */
void shd_mapping(uint32_t size, uint32_t *fl, uint32_t *sl);

/* Inserts a free block (used by shd_format and the checker's tests). */
void shd_insert_free(shd_zone *z, uint32_t b, uint32_t size);

#endif
