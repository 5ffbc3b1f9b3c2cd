// The zero-hop path: a function library whose function never blocks (`blocking off`) is called
// on the event loop itself, one koffi call per call: no ring, no thread hand-off, no wake-up.
// For work shorter than a hand-off (a hash, a parser, a lookup: a few µs) that is the cheapest
// way there is; a function that may block (I/O, a lock, long work) belongs on the pool instead,
// since here it stops every request of the worker while it runs.
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import type { HostBindings, Ptr } from './bindings.js';
import { type AbortLike, type Reader, refusal, refused, takeLarge } from './call.js';
import { utf8Write } from './formats.js';

const OUT_CAP = 64 * 1024; // answers up to this are copied into a reused buffer, larger ones taken

/** Bytes whose memory never moves (an ArrayBuffer's backing store is off V8's heap): C keeps its address. */
const pinned = (n: number): ArrayBuffer => new ArrayBuffer(n);

export class InlineChannel {
  private req = new Uint8Array(pinned(4096)); // the request; the host puts the NUL after it
  private readonly out = new Uint8Array(pinned(OUT_CAP));
  private readonly metaBuf = pinned(32);
  private readonly meta = new Int32Array(this.metaBuf); // rc, length, flag, -, the large answer's pointer
  private readonly bigPtr = new BigUint64Array(this.metaBuf, 16, 1);
  private bound: Ptr | null;
  private closed = false;
  readonly counters = { doorbells: 0, wakes: 0, looks: 0, lookHits: 0, calls: 0 };
  readonly bellKind = 'none';

  constructor(
    private readonly host: HostBindings,
    fn: Ptr,
    maxResponse: number,
    private readonly label: string,
  ) {
    // Bound once: a call then passes koffi two numbers, not four buffers and an out-pointer.
    this.bound = host.fnBind(fn, this.req, this.req.length, this.out, OUT_CAP, maxResponse, this.meta);
    if (!this.bound) throw new TrestyError('TRESTY_ERR_FFI_UNAVAILABLE', `tresty host: ${host.lastError()}`);
  }

  /** Nothing waits: a call is over when call() returns. */
  get inFlight(): number {
    return 0;
  }

  call(payload: Uint8Array, _timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown> {
    const no = refusal(this.label, this.closed, signal, payload.length, 0, 1);
    if (no) return Promise.reject(no);
    try {
      this.room(payload.length);
      this.req.set(payload, 0);
      return Promise.resolve(this.run(payload.length, read));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * call() of a string as UTF-8, written straight where the function reads it (no encoded bytes to
   * copy): Plugin.call takes this way for a string to a string or raw plugin.
   */
  callString(v: string, signal: AbortLike | undefined, read: Reader): Promise<unknown> {
    const no = refusal(this.label, this.closed, signal, 0, 0, 1);
    if (no) return Promise.reject(no);
    try {
      this.room(v.length * 3); // UTF-8 bytes per UTF-16 unit, at most
      return Promise.resolve(this.run(utf8Write.call(this.req, v, 0), read));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A request buffer with room for n bytes and the NUL the host puts after them. */
  private room(n: number): void {
    if (n + 1 <= this.req.length) return;
    const req = new Uint8Array(pinned(Math.max(n + 1, this.req.length * 2)));
    if (this.host.fnRebindReq(this.bound!, req, req.length) !== 0) {
      throw new TrestyError('TRESTY_ERR_FFI_RUNTIME', `ffi plugin ${this.label}: ${this.host.lastError()}`);
    }
    this.req = req;
  }

  /** Runs the function on req[0, len) and reads its answer. */
  private run(len: number, read: Reader): unknown {
    const h = this.host;
    if (h.fnInvoke(this.bound!, len) !== 0) throw new TrestyError('TRESTY_ERR_FFI_RUNTIME', `ffi plugin ${this.label}: ${h.lastError()}`);
    this.counters.calls++;
    const meta = this.meta;
    const rc = meta[0]!;
    const n = meta[1]!;
    const flag = meta[2]!;
    let src: Uint8Array = this.out;
    let shared = true; // out is reused by the next call, so the reader copies what it keeps (as from a slot)
    if (meta[4] !== 0 || meta[5] !== 0) ({ src, shared } = takeLarge(h.bufTake, this.bigPtr[0]!, n, read));
    if (flag !== L.FLAG_OK) throw refused(this.label, flag, src, 0, n);
    return read(rc, src, 0, n, shared);
  }

  nativeStats(): { live: number; dropped: number } {
    return { live: 0, dropped: 0 };
  }

  get doubleAnswerCount(): number {
    return 0;
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.bound) this.host.fnUnbind(this.bound);
    this.bound = null;
    return Promise.resolve();
  }
}
