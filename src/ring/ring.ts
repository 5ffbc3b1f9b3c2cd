// The JS side of one bounded MPMC ring (see layout.ts for the slot protocol and invariants).
// claim/publish and take/release are split so callers read and write slot bytes in place,
// with no allocation and no copy through an intermediate buffer.
import { type RingPlace, SLOT_SEQ, SLOT_SIZE } from './layout.js';

export class Ring {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  private readonly mask: number;
  private readonly tailIdx: number;
  private readonly headIdx: number;
  private readonly slots: number;
  /** The position of the last successful claim() or take(), for publish()/release(). */
  pos = 0;

  constructor(readonly sab: SharedArrayBuffer, place: RingPlace) {
    this.i32 = new Int32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.capacity = place.capacity;
    this.mask = place.capacity - 1;
    this.tailIdx = place.tail >> 2;
    this.headIdx = place.head >> 2;
    this.slots = place.slots;
  }

  /** Byte offset of the slot for position pos. */
  slotAt(pos: number): number {
    return this.slots + (pos & this.mask) * SLOT_SIZE;
  }

  /** Claim a slot to fill; its byte offset, or -1 when the ring is full. */
  claim(): number {
    const i32 = this.i32;
    let pos = Atomics.load(i32, this.tailIdx);
    for (;;) {
      const off = this.slotAt(pos);
      const dif = (Atomics.load(i32, (off + SLOT_SEQ) >> 2) - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(i32, this.tailIdx, pos, (pos + 1) | 0);
        if (seen === pos) {
          this.pos = pos;
          return off;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1;
      } else {
        pos = Atomics.load(i32, this.tailIdx);
      }
    }
  }

  /** Make the slot from the last claim() visible to consumers. */
  publish(off: number, pos = this.pos): void {
    Atomics.store(this.i32, (off + SLOT_SEQ) >> 2, (pos + 1) | 0);
  }

  /** Take a published slot; its byte offset, or -1 when the ring is empty. */
  take(): number {
    const i32 = this.i32;
    let pos = Atomics.load(i32, this.headIdx);
    for (;;) {
      const off = this.slotAt(pos);
      const dif = (Atomics.load(i32, (off + SLOT_SEQ) >> 2) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(i32, this.headIdx, pos, (pos + 1) | 0);
        if (seen === pos) {
          this.pos = pos;
          return off;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1;
      } else {
        pos = Atomics.load(i32, this.headIdx);
      }
    }
  }

  /** Give the slot from the last take() back to producers. */
  release(off: number, pos = this.pos): void {
    Atomics.store(this.i32, (off + SLOT_SEQ) >> 2, (pos + this.capacity) | 0);
  }

  isEmpty(): boolean {
    const pos = Atomics.load(this.i32, this.headIdx);
    return ((Atomics.load(this.i32, (this.slotAt(pos) + SLOT_SEQ) >> 2) - ((pos + 1) | 0)) | 0) < 0;
  }

  /** Published or claimed slots not yet taken (a snapshot; exact when nobody else moves). */
  size(): number {
    return (Atomics.load(this.i32, this.tailIdx) - Atomics.load(this.i32, this.headIdx)) >>> 0;
  }
}
