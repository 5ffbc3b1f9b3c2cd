/* The zone's invariants, checked in one pass (tests, and after a lock owner died). */
#ifndef TRESTY_SHD_CHECK_H
#define TRESTY_SHD_CHECK_H

#include "shd_zone.h"

/* 0 when every invariant holds, else 1 with the first violation in msg. The lock is held. */
int shd_check_locked(shd_zone *z, char *msg, size_t cap);

#endif
