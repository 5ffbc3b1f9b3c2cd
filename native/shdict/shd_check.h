/* The zone's invariants, checked in one pass (tests, and after a lock owner died). */
#ifndef TRESTY_SHD_CHECK_H
#define TRESTY_SHD_CHECK_H

#include "shd_zone.h"

/* 0 when every invariant holds, 1 with the first violation in msg, 2 when the check could not
 * run (no memory for its map of the heap). The lock is held. */
int shd_check_locked(shd_zone *z, char *msg, size_t cap);

#endif
