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
    return this.advance(this.tailIdx, 0);
  }

  /** Make the slot from the last claim() visible to consumers. */
  publish(off: number, pos = this.pos): void {
    Atomics.store(this.i32, (off + SLOT_SEQ) >> 2, (pos + 1) | 0);
  }

  /** Take a published slot; its byte offset, or -1 when the ring is empty. */
  take(): number {
    return this.advance(this.headIdx, 1);
  }

  /**
   * Vyukov's step, shared by both ends: the slot at counter `idx` is ready when its sequence is
   * `pos + lag` (0: free for a producer, 1: published for a consumer); win it by CAS on the counter.
   */
  private advance(idx: number, lag: number): number {
    const i32 = this.i32;
    let pos = Atomics.load(i32, idx);
    for (;;) {
      const off = this.slotAt(pos);
      const dif = (Atomics.load(i32, (off + SLOT_SEQ) >> 2) - ((pos + lag) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(i32, idx, pos, (pos + 1) | 0);
        if (seen === pos) {
          this.pos = pos;
          return off;
        }
        pos = seen;
      } else if (dif < 0) {
        return -1;
      } else {
        pos = Atomics.load(i32, idx);
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
