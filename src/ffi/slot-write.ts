// How a request's bytes get into a submit slot: inline when they fit, else through a buffer on
// the host's heap whose pointer rides in the slot. A string for a string or raw plugin is written
// as UTF-8 straight into the slot when it fits: no transient bytes (a Buffer per call) and one copy
// of shared memory less, which the ring's JS path spent ~0.1 µs a 512 B call on (bench/README.md,
// "The ring's JS path, piece by piece").
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import type { HostBindings } from './bindings.js';
import { utf8Into, utf8Transient } from './formats.js';

export interface SlotMemory {
  readonly mem: Uint8Array;
  readonly i32: Int32Array;
  readonly u64: BigUint64Array;
  /** Where tresty_buf_new puts a large request's pointer: a typed array, not koffi's _Out_ array (~0.5 µs less a call). */
  readonly bufOut: BigUint64Array;
  readonly host: HostBindings;
  readonly label: string;
}

/** Writes payload into the free submit slot at off (not yet published); returns its length. */
export function writeSlot(m: SlotMemory, off: number, payload: Uint8Array | string): number {
  const data = off + L.SLOT_DATA;
  if (typeof payload === 'string') {
    const n = utf8Into(m.mem, payload, data, L.INLINE_MAX);
    if (n >= 0) {
      clearPtr(m.i32, off);
      return n;
    }
    payload = utf8Transient(payload); // it may not fit: its bytes, inline or on the heap as any
  }
  const len = payload.length;
  if (len > L.INLINE_MAX) {
    // A large payload goes to the host's heap first, so a failure leaves no slot claimed.
    const out = m.bufOut;
    out[0] = 0n;
    if (m.host.bufNew(payload, len, out) !== 0 || out[0] === 0n) {
      throw new TrestyError('TRESTY_ERR_FFI_ENCODE', `ffi plugin ${m.label}: ${m.host.lastError()}`);
    }
    m.u64[(off + L.SLOT_PTR) >> 3] = out[0]!;
  } else {
    clearPtr(m.i32, off);
    if (len) m.mem.set(payload, data);
  }
  return len;
}

function clearPtr(i32: Int32Array, off: number): void {
  i32[(off + L.SLOT_PTR) >> 2] = 0; // two int stores: a BigInt 0n store costs more
  i32[(off + L.SLOT_PTR + 4) >> 2] = 0;
}
