// One call's record while it is in flight, and how its answer is turned into a value.
import { TrestyError } from '../errors.js';
import type { Expiring } from './deadlines.js';

/**
 * Turns an answer into the call's value, or throws (rc != 0, undecodable). src[start, end) is
 * the ring's shared memory when shared is true: it is reused once this returns, so the reader
 * must copy what it keeps. Running it before the slot is released saves a copy per answer.
 */
export type Reader = (rc: number, src: Uint8Array, start: number, end: number, shared: boolean) => unknown;

export interface Call extends Expiring {
  payload: Uint8Array | null; // kept only while in the backlog
  read: Reader;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export function aborted(label: string): TrestyError {
  return new TrestyError('TRESTY_ERR_FFI_ABORTED', `ffi plugin ${label}: call aborted (its request went away)`);
}
