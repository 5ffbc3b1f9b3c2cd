// The zero-hop path: a function library whose function never blocks (`blocking off`) is called
// on the event loop itself, one koffi call per call: no ring, no thread hand-off, no wake-up.
// For work shorter than a hand-off (a hash, a parser, a lookup: a few µs) that is the cheapest
// way there is; a function that may block (I/O, a lock, long work) belongs on the pool instead,
// since here it stops every request of the worker while it runs.
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import type { HostBindings, Ptr } from './bindings.js';
import { type AbortLike, type Reader, refusal, takeLarge } from './call.js';
import { refused } from './channel.js';

const OUT_CAP = 64 * 1024; // answers up to this are copied into a reused buffer, larger ones taken

export class InlineChannel {
  private req = new Uint8Array(4096); // the request with its NUL (functions may read a C string)
  private readonly out = new Uint8Array(OUT_CAP);
  private readonly meta = new Int32Array(4);
  private readonly big: [Ptr | null] = [null];
  private closed = false;
  readonly counters = { doorbells: 0, wakes: 0, looks: 0, lookHits: 0, calls: 0 };
  readonly bellKind = 'none';

  constructor(
    private readonly host: HostBindings,
    private readonly fn: Ptr,
    private readonly maxResponse: number,
    private readonly label: string,
  ) {}

  /** Nothing waits: a call is over when call() returns. */
  get inFlight(): number {
    return 0;
  }

  call(payload: Uint8Array, _timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown> {
    const no = refusal(this.label, this.closed, signal, payload.length, 0, 1);
    if (no) return Promise.reject(no);
    try {
      return Promise.resolve(this.run(payload, read));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private run(payload: Uint8Array, read: Reader): unknown {
    const len = payload.length;
    if (len + 1 > this.req.length) this.req = new Uint8Array(Math.max(len + 1, this.req.length * 2));
    const req = this.req;
    req.set(payload, 0);
    req[len] = 0;
    const h = this.host;
    if (h.fnCall(this.fn, req, len, this.maxResponse, this.out, OUT_CAP, this.meta, this.big) !== 0) {
      throw new TrestyError('TRESTY_ERR_FFI_RUNTIME', `ffi plugin ${this.label}: ${h.lastError()}`);
    }
    this.counters.calls++;
    const [rc, n, flag] = this.meta as unknown as [number, number, number];
    let src: Uint8Array = this.out;
    let shared = true; // out is reused by the next call, so the reader copies what it keeps (as from a slot)
    if (this.big[0]) {
      ({ src, shared } = takeLarge(h.bufTake, this.big[0], n, read));
      this.big[0] = null;
    }
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
    return Promise.resolve();
  }
}
