// receiveuntil's reader: the data before a pattern, whole or in pieces of at most `size` bytes.
// The pattern may arrive split over any number of packets; the buffer is searched as a whole
// each time more arrives.

import type { ByteQueue } from './socket-buffer.js';

export type Data = string | Uint8Array;
/** [data, null, null] on success, [null, err, partial] on failure, [null, null, null] at the end of a sized read. */
export type ReadResult = [Data, null, null] | [null, string, Data | null] | [null, null, null];
export type UntilIterator = (size?: number) => Promise<ReadResult>;

export class ReceiveUntil {
  /** The sized form returned its last piece: the next call returns [null, null, null]. */
  passed = false;

  constructor(private readonly pat: Buffer, private readonly inclusive: boolean) {}

  /** What the next call can return from `q` now, or null to wait for more bytes. */
  step(q: ByteQueue, size?: number): Buffer | null {
    const pat = this.pat;
    const i = q.indexOf(pat);
    if (i >= 0) {
      if (size !== undefined && i > size) return q.take(size);
      const data = q.take(i);
      const tail = q.take(pat.length);
      if (size !== undefined) this.passed = true;
      return this.inclusive ? Buffer.concat([data, tail]) : data;
    }
    if (size === undefined) return null;
    // Bytes that cannot be the start of the pattern can go out already.
    const safe = q.length - (pat.length - 1);
    return safe >= size ? q.take(size) : null;
  }
}
