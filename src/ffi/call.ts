// One call's record while it is in flight, how its answer is turned into a value (or an error,
// when the host refused it), and why a call may be refused before it is made.
import { TrestyError } from '../errors.js';
import type { Ptr } from './bindings.js';
import type { Expiring } from './deadlines.js';
import * as L from '../ring/layout.js';
import { allocBytes, scratchBytes, utf8Slice } from './formats.js';

/**
 * Turns an answer into the call's value, or throws (rc != 0, undecodable). src[start, end) is
 * the ring's shared memory when shared is true: it is reused once this returns, so the reader
 * must copy what it keeps. Running it before the slot is released saves a copy per answer.
 */
export type Reader = ((rc: number, src: Uint8Array, start: number, end: number, shared: boolean) => unknown) & {
  /** The value is the answer's bytes themselves (format raw): a large answer is copied straight into
      bytes of its own rather than into a reused scratch (takeLarge). */
  readonly keepsBytes: boolean;
};

/** A large answer out of the host's heap (freeing its block), and whether those bytes are reused. */
export function takeLarge(bufTake: (ptr: Ptr, out: Uint8Array, len: number) => number, ptr: Ptr, len: number,
  read: Reader): { src: Uint8Array; shared: boolean } {
  const src = read.keepsBytes ? allocBytes(len) : scratchBytes(len);
  bufTake(ptr, src, len);
  return { src, shared: !read.keepsBytes };
}

/**
 * What abandons a call: an AbortSignal, or a request's own hook (api/ffi.ts). Requests do not
 * use an AbortSignal because, on Node 20, the first listener added to a fresh AbortSignal costs
 * about 8 µs and leaves weak references every scavenge must process (bench/README.md, "where the
 * time goes"): with one per request, the FFI rows spent a fifth of the worker's time in GC.
 */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: 'abort', fn: () => void): void;
}

export interface Call extends Expiring {
  payload: Uint8Array | string | null; // kept only while in the backlog
  read: Reader;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal: AbortLike | undefined;
  onAbort: (() => void) | undefined;
}

export function aborted(label: string): TrestyError {
  return new TrestyError('TRESTY_ERR_FFI_ABORTED', `ffi plugin ${label}: call aborted (its request went away)`);
}

/** Why a call is refused at once (queue full, unloaded, ...), or null when it may go ahead. */
export function refusal(label: string, closing: boolean, signal: AbortLike | undefined, bytes: number,
  inFlight: number, maxQueue: number): TrestyError | null {
  if (closing) return new TrestyError('TRESTY_ERR_FFI_UNLOADED', `ffi plugin ${label} is unloaded`);
  if (signal?.aborted) return aborted(label);
  if (bytes > 0x7fffffff) { // runtimes see the length as a C int
    return new TrestyError('TRESTY_ERR_FFI_ENCODE', `ffi plugin ${label}: a request of ${bytes} bytes is over 2 GiB`);
  }
  if (inFlight >= maxQueue) {
    return new TrestyError('TRESTY_ERR_FFI_QUEUE_FULL',
      `ffi plugin ${label}: ${inFlight} calls in flight, max_queue is ${maxQueue}; raise max_queue or shed load`);
  }
  return null;
}

/** The host refused a runtime's answer (flag != FLAG_OK): its reason is the slot's text. */
export function refused(label: string, flag: number, src: Uint8Array, start: number, end: number): TrestyError {
  const why = utf8Slice(src, start, end);
  return flag === L.FLAG_TOO_LARGE
    ? new TrestyError('TRESTY_ERR_FFI_RESPONSE_TOO_LARGE', `ffi plugin ${label}: ${why}; raise max_response_size or send less`)
    : new TrestyError('TRESTY_ERR_FFI_BAD_RESPONSE', `ffi plugin ${label}: ${why} (a runtime bug: the answer was dropped, not read)`);
}
