// receiveuntil's reader, as lua-nginx-module's: the bytes are run one at a time through a matcher
// of the pattern (a KMP-style automaton), so the data before the pattern goes out as soon as it is
// known not to start the pattern. The matcher's state outlives a call: bytes that may start the
// pattern are held (not in a timeout's partial data) until the next call tells.
// A sized call (`it(size)`) returns once `size` bytes are out, or more when held bytes turn out
// not to be the pattern (they all go at once), and [null, null, null] on the call after the one
// that passed the pattern.

import { argErr, typeName } from './socket-args.js';
import type { ByteQueue } from './socket-buffer.js';

export type Data = string | Uint8Array;
/** [data, null, null] on success, [null, err, partial] on failure, [null, null, null] at the end of a sized read. */
export type ReadResult = [Data, null, null] | [null, string, Data | null] | [null, null, null];
export type UntilIterator = (size?: number) => Promise<ReadResult>;

export class ReceiveUntil {
  /** How many bytes of the pattern the held bytes match; -1: a sized call passed the pattern. */
  #state = 0;
  /** The running call's data so far, and how many more bytes a sized call takes (0: unsized). */
  #out: Buffer[] = [];
  #rest = 0;
  /** For a state >= 2 that meets a byte other than the pattern's next: byte -> the state to go on
   *  in (the longest prefix of the pattern ending there); absent: back to 0. */
  readonly #recover: Map<number, Map<number, number>> = new Map();

  constructor(private readonly pat: Buffer, private readonly inclusive: boolean) {
    // For each shift i at which the pattern starts again, the first byte where the two copies
    // part: in state i + k, that byte of the shifted copy continues the copy (state k + 1).
    const n = pat.length;
    for (let i = 1; i < n; i++) {
      if (pat[0] !== pat[i]) continue;
      let k = 1;
      while (k <= n - i - 1 && pat[k] === pat[i + k]) k++;
      if (k > n - i - 1) continue;
      const from = i + k;
      let edges = this.#recover.get(from);
      if (edges === undefined) this.#recover.set(from, (edges = new Map()));
      const to = edges.get(pat[k]!);
      if (to === undefined || to < k + 1) edges.set(pat[k]!, k + 1);
    }
  }

  /** The call after a sized one that passed the pattern: true once (it returns [null, null, null]). */
  takePassed(): boolean {
    if (this.#state !== -1) return false;
    this.#state = 0;
    return true;
  }

  /** A call starts: `size` bytes at most (undefined: up to the pattern). */
  begin(size: number | undefined): void {
    this.#out = [];
    this.#rest = size ?? 0;
  }

  /** The call's data so far, for a failed call's partial (held bytes stay held). */
  partial(): Buffer {
    const o = this.#out;
    return o.length === 1 ? o[0]! : Buffer.concat(o); // one piece: no copy
  }

  /** Pattern bytes are emitted as copies: a returned piece must not share the pattern's memory. */
  #emit(b: Buffer): void { if (b.length > 0) this.#out.push(b); }

  /** Bytes going out: true when that ends a sized call. */
  #counted(n: number): boolean {
    if (this.#rest === 0) return false;
    if (this.#rest <= n) { this.#rest = 0; return true; }
    this.#rest -= n;
    return false;
  }

  /** Runs the queued bytes through the matcher: the call's data when it is done, else null (all
   *  bytes taken) to wait for more. */
  step(q: ByteQueue): Buffer | null {
    const pat = this.pat;
    const buf = q.peek();
    const sized = this.#rest > 0;
    let state = this.#state;
    let i = 0;
    let run = 0; // start of the bytes in state 0 not emitted yet
    const done = (): Buffer => {
      this.#emit(buf.subarray(run, i));
      q.skip(i);
      this.#state = state;
      return this.partial();
    };
    while (i < buf.length) {
      if (state === 0) {
        // Bytes up to the next first byte of the pattern go out as a run (no per-byte step).
        let j = buf.indexOf(pat[0]!, i);
        if (j < 0) j = buf.length;
        if (sized && j - i >= this.#rest) { i += this.#rest; this.#rest = 0; return done(); }
        if (sized) this.#rest -= j - i;
        i = j;
        if (i === buf.length) break;
      }
      const c = buf[i]!; // in state 0: the pattern's first byte
      if (c === pat[state]) {
        if (state === 0) { this.#emit(buf.subarray(run, i)); run = i; }
        i++;
        state++;
        if (state === pat.length) {
          run = i;
          if (this.inclusive) this.#emit(Buffer.from(pat));
          state = sized ? -1 : 0;
          return done();
        }
        run = i;
        continue;
      }
      const to = state >= 2 ? this.#recover.get(state)?.get(c) : undefined;
      if (to === undefined) {
        // Not the pattern: the held bytes go out; this byte is looked at again in state 0.
        this.#emit(Buffer.from(pat.subarray(0, state)));
        const n = state;
        state = 0;
        run = i;
        if (sized && this.#counted(n)) return done();
        continue;
      }
      // The held bytes and this one end in a shorter prefix of the pattern: the rest goes out.
      const out = state + 1 - to;
      this.#emit(Buffer.from(pat.subarray(0, out)));
      state = to;
      i++;
      run = i;
      if (sized && this.#counted(out)) return done();
    }
    this.#emit(buf.subarray(run, i));
    q.skip(i);
    this.#state = state;
    return null;
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

/** The iterator's size argument: undefined (up to the pattern) or an integer; 0 and below read up
 *  to the pattern, as lua-nginx-module's. */
export function untilSize(size: unknown): number | undefined {
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size))) throw argErr(`bad argument #1 to iterator (number expected, got ${typeName(size)})`);
  return size === undefined || size <= 0 ? undefined : size;
}
