// The shared-memory layout of one plugin's rings. native/include/tresty_ring.h holds the same
// names with the same values; change both together (the host checks MAGIC/VERSION/SLOT_BYTES).
//
//   byte 0                 512                        512 + CAP*SLOT        512 + 2*CAP*SLOT
//   | header (cache lines) | submit slots [CAP]        | completion slots [CAP] |
//
//   slot (SLOT_SIZE = 1024 bytes: a 512 B request or answer, the common RPC size, fits inline;
//   at the 1024-slot cap that is 2 MB per plugin instance)
//   | SEQ u32 | ID u32 | RC i32 | LEN u32 | PTR u64 | pad | DATA ... (INLINE_MAX bytes) |
//   LEN <= INLINE_MAX: the payload is in DATA and PTR is 0; otherwise PTR is a malloc'ed
//   buffer whose ownership moves with the slot.
//
// Each ring is a bounded MPMC queue (Vyukov). HEAD and TAIL are u32 counters that only grow
// (they wrap; differences are read as int32); slot i = pos & (CAP - 1):
//
//     seq == pos          free: the producer at TAIL == pos may claim it
//     seq == pos + 1      published: the consumer at HEAD == pos may take it
//     seq == pos + CAP    taken: free again for the producer one lap later
//
//   EMPTY  slot[HEAD].seq == HEAD             HEAD            TAIL
//                                              v               v
//          [ taken | taken | pub | pub | pub | free | free | free ]
//   FULL   slot[TAIL].seq == TAIL - CAP + 1    (TAIL has gone one whole lap past HEAD)
//   and always 0 <= TAIL - HEAD <= CAP.
//
// Waiting (no system call while both sides are busy):
//   submit:     a poller that finds the ring empty does SUB_SLEEPERS++, re-checks, futex-waits on
//               SUB_FUTEX; JS bumps SUB_FUTEX and wakes them once per batch, only when SUB_SLEEPERS != 0. Function plugins' pool
//               threads do the same with Atomics.wait/notify and count themselves in POOL_ACTIVE.
//   completion: JS sets JS_WAITING = 1 before going idle and re-checks; the producer that swaps
//               it 1 -> 0 writes one byte to the doorbell pipe.

export const MAGIC_VALUE = 0x54525931; // "TRY1"
export const VERSION_VALUE = 2;

/** Header fields: byte offsets. */
export const MAGIC = 0;
export const VERSION = 4;
export const CAPACITY = 8;
export const SLOT_BYTES = 12;
export const STATE = 16;
/** Answers longer than this (bytes) are refused by the host with FLAG_TOO_LARGE; 0: no cap. */
export const MAX_RESPONSE = 20;
export const SUB_TAIL = 64;
export const SUB_HEAD = 128;
export const SUB_FUTEX = 192;
export const SUB_SLEEPERS = 196;
export const POOL_ACTIVE = 200;
export const CMP_TAIL = 256;
export const CMP_HEAD = 320;
export const JS_WAITING = 384;
/** respond() calls on a task already answered: dropped by the host, counted here for JS to log. */
export const DOUBLE_ANSWERS = 448;
/** The host's spin gate for this ring's caller (1: a core is free for a short wait), written by the host. */
export const GATE_OPEN = 452;
/** Spins the host's gate allowed on this ring (pollers and pool threads): tests and benchmarks. */
export const SPINS = 456;
export const HEADER_BYTES = 512;

/** STATE values. */
export const STATE_OPEN = 0;
export const STATE_CLOSING = 1;

/** SLOT_FLAG values. */
export const FLAG_OK = 0;
export const FLAG_TOO_LARGE = 1;
export const FLAG_BAD_LENGTH = 2;

/** Slot fields: byte offsets. */
export const SLOT_SIZE = 1024;
export const SLOT_SEQ = 0;
export const SLOT_ID = 4;
export const SLOT_RC = 8;
export const SLOT_LEN = 12;
export const SLOT_PTR = 16;
/** Completions: FLAG_* (non-zero: the host refused the answer; DATA holds why). */
export const SLOT_FLAG = 24;
export const SLOT_DATA = 32;
export const INLINE_MAX = SLOT_SIZE - SLOT_DATA;

export const SUBMIT_OFFSET = HEADER_BYTES;
export const completionOffset = (cap: number): number => HEADER_BYTES + cap * SLOT_SIZE;
export const totalBytes = (cap: number): number => HEADER_BYTES + 2 * cap * SLOT_SIZE;

/** Where one ring's counters and slots are inside the shared memory. */
export interface RingPlace {
  readonly tail: number;
  readonly head: number;
  readonly slots: number;
  readonly capacity: number;
}

export const submitPlace = (cap: number): RingPlace => ({ tail: SUB_TAIL, head: SUB_HEAD, slots: SUBMIT_OFFSET, capacity: cap });
export const completionPlace = (cap: number): RingPlace => ({ tail: CMP_TAIL, head: CMP_HEAD, slots: completionOffset(cap), capacity: cap });

/** A fresh SharedArrayBuffer with both rings empty and the header written. */
export function createRingMemory(capacity: number, maxResponse = 0): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 20) {
    throw new RangeError(`ring capacity must be a power of two in [2, 2^20], got ${capacity}`);
  }
  const sab = new SharedArrayBuffer(totalBytes(capacity));
  const i32 = new Int32Array(sab);
  for (const base of [SUBMIT_OFFSET, completionOffset(capacity)]) {
    for (let i = 0; i < capacity; i++) i32[(base + i * SLOT_SIZE + SLOT_SEQ) >> 2] = i;
  }
  i32[CAPACITY >> 2] = capacity;
  i32[SLOT_BYTES >> 2] = SLOT_SIZE;
  new Uint32Array(sab)[MAX_RESPONSE >> 2] = Math.min(maxResponse, 0xffffffff);
  i32[VERSION >> 2] = VERSION_VALUE;
  Atomics.store(i32, MAGIC >> 2, MAGIC_VALUE); // last: the header is complete once MAGIC is set
  return sab;
}
