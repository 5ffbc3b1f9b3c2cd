// receiveuntil's reader: the data before a pattern, whole or in pieces of at most `size` bytes.
// The pattern may arrive split over any number of packets; the buffer is searched as a whole
// each time more arrives.

import { argErr, typeName } from './socket-args.js';
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

/** receiveuntil's arguments checked as OpenResty checks them (TCP and request sockets alike). */
export function untilFrom(pattern: unknown, opts: unknown): ReceiveUntil {
  if (typeof pattern !== 'string' && !(pattern instanceof Uint8Array)) throw argErr(`bad argument #1 to 'receiveuntil' (string expected, got ${typeName(pattern)})`);
  const pat = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8') : Buffer.from(pattern);
  if (pat.length === 0) throw argErr('pattern is empty');
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw argErr(`bad argument #2 to 'receiveuntil' (table expected, got ${typeName(opts)})`);
  const inclusive = (opts as { inclusive?: unknown } | undefined)?.inclusive;
  if (inclusive !== undefined && typeof inclusive !== 'boolean') throw argErr(`bad "inclusive" option value type: ${typeName(inclusive)}`);
  return new ReceiveUntil(pat, inclusive === true);
}

/** The iterator's size argument: undefined (up to the pattern) or a positive integer. */
export function untilSize(size: unknown): number | undefined {
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size <= 0)) throw argErr(`bad argument #1 to iterator (positive integer expected, got ${String(size)})`);
  return size;
}
