// The event-loop end of one plugin's rings: admits calls, writes them into submit slots (or a
// JS backlog when all CAP slots are in flight), reads completions in batches when the doorbell
// rings, and settles promises. It never blocks: waiting is the doorbell pipe's 'data' event.
// The doorbell is a pipe read through a net.Socket rather than a koffi callback from the
// runtime's thread: in our trial (koffi 3.3.4, Node 20) such a callback hung or crashed, and
// koffi documents aborts at exit when a foreign thread still calls one (koffi issue #271).
import net from 'node:net';
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import { Ring } from '../ring/ring.js';
import type { HostBindings, Ptr } from './bindings.js';

export interface Reply {
  rc: number;
  data: Uint8Array;
}

interface Call {
  payload: Uint8Array | null; // kept only while in the backlog
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** false once settled by a timeout/abort: a later completion is then only freed. */
  live: boolean;
}

export class Channel {
  readonly sub: Ring;
  readonly cmp: Ring;
  private readonly i32: Int32Array;
  private readonly u64: BigUint64Array;
  private readonly calls: (Call | undefined)[];
  private readonly freeIds: number[];
  private backlog: Call[] = [];
  private backlogHead = 0;
  private queued = 0; // live calls in the backlog
  private live = 0; // calls whose promise is not settled
  private wakeScheduled = false;
  private toWake = 0; // requests published since the wake was scheduled
  private closing = false;
  private idle: (() => void) | undefined;
  private readonly bell: net.Socket;
  /** How often each side had to be woken (a system call each): for benchmarks and tests. */
  readonly counters = { doorbells: 0, wakes: 0 };

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly tq: Ptr,
    doorbellFd: number,
    private readonly host: HostBindings,
    private readonly wakePollers: (n: number) => void,
    private readonly maxQueue: number,
    private readonly label: string,
    private readonly onPublish: (() => void) | null = null,
  ) {
    const cap = new Int32Array(sab)[L.CAPACITY >> 2]!;
    this.sub = new Ring(sab, L.submitPlace(cap));
    this.cmp = new Ring(sab, L.completionPlace(cap));
    this.i32 = this.sub.i32;
    this.u64 = new BigUint64Array(sab);
    this.calls = new Array<Call | undefined>(cap).fill(undefined);
    this.freeIds = Array.from({ length: cap }, (_, i) => cap - 1 - i);
    this.bell = new net.Socket({ fd: doorbellFd, readable: true, writable: false });
    this.bell.on('data', () => {
      this.counters.doorbells++;
      this.drain();
    });
    this.bell.on('error', () => {}); // only at close; completions are still read by drain()
    this.bell.unref(); // ref'd only while calls are live, so an idle plugin never holds the process
  }

  /** Calls not yet answered, including ones that timed out but the runtime still holds. */
  get inFlight(): number {
    return this.calls.length - this.freeIds.length + this.queued;
  }

  get pending(): number {
    return this.live;
  }

  call(payload: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Reply> {
    if (this.closing) return Promise.reject(new TrestyError('TRESTY_ERR_FFI_UNLOADED', `ffi plugin ${this.label} is unloaded`));
    if (signal?.aborted) return Promise.reject(aborted(this.label));
    if (payload.length > 0x7fffffff) { // runtimes see the length as a C int
      return Promise.reject(new TrestyError('TRESTY_ERR_FFI_ENCODE', `ffi plugin ${this.label}: a request of ${payload.length} bytes is over 2 GiB`));
    }
    if (this.inFlight >= this.maxQueue) {
      return Promise.reject(new TrestyError('TRESTY_ERR_FFI_QUEUE_FULL',
        `ffi plugin ${this.label}: ${this.inFlight} calls in flight, max_queue is ${this.maxQueue}; raise max_queue or shed load`));
    }
    return new Promise<Reply>((resolve, reject) => {
      const c: Call = { payload: null, resolve, reject, timer: undefined, signal, onAbort: undefined, live: true };
      if (timeoutMs > 0) {
        c.timer = setTimeout(() => this.abandon(c, new TrestyError('TRESTY_ERR_FFI_TIMEOUT',
          `ffi plugin ${this.label}: no answer within ${timeoutMs} ms; raise timeout or check the runtime`)), timeoutMs);
      }
      if (signal) {
        c.onAbort = () => this.abandon(c, aborted(this.label));
        signal.addEventListener('abort', c.onAbort, { once: true });
      }
      if (this.live++ === 0) this.bell.ref();
      if (this.backlogHead === this.backlog.length && this.trySend(c, payload)) return;
      if (!c.live) return;
      c.payload = payload;
      this.backlog.push(c);
      this.queued++;
    });
  }

  /** send(), with a failure (out of memory) settling the call instead of escaping. */
  private trySend(c: Call, payload: Uint8Array): boolean {
    try {
      return this.send(c, payload);
    } catch (e) {
      this.abandon(c, e as TrestyError);
      return false;
    }
  }

  /** Write one call into a submit slot; false when all slots are in flight. */
  private send(c: Call, payload: Uint8Array): boolean {
    if (this.freeIds.length === 0) return false;
    const len = payload.length;
    // A large payload goes to the host's heap first, so a failure leaves no slot half-claimed.
    let buf = 0n;
    if (len > L.INLINE_MAX) {
      const out: [Ptr | null] = [null];
      if (this.host.bufNew(payload, len, out) !== 0 || !out[0]) {
        throw new TrestyError('TRESTY_ERR_FFI_ENCODE', `ffi plugin ${this.label}: ${this.host.lastError()}`);
      }
      buf = out[0];
    }
    const off = this.sub.claim();
    if (off < 0) { // cannot happen while in-flight ids <= CAP; kept as a guard
      if (buf) this.host.bufFree(buf);
      return false;
    }
    const id = this.freeIds.pop()!;
    this.calls[id] = c;
    const i32 = this.i32;
    i32[(off + L.SLOT_ID) >> 2] = id;
    i32[(off + L.SLOT_LEN) >> 2] = len;
    this.u64[(off + L.SLOT_PTR) >> 3] = buf;
    if (!buf && len) this.sub.u8.set(payload, off + L.SLOT_DATA);
    // The first call in flight arms the doorbell before it can be answered.
    if (this.freeIds.length === this.calls.length - 1) Atomics.store(i32, L.JS_WAITING >> 2, 1);
    this.sub.publish(off);
    if (this.onPublish) this.onPublish();
    if (this.wakeScheduled) {
      this.toWake++;
    } else if (Atomics.load(i32, L.SUB_SLEEPERS >> 2) !== 0) {
      // One wake per batch: calls made in the same tick share it, and it wakes no more pollers
      // than there are new requests.
      this.wakeScheduled = true;
      this.toWake = 1;
      queueMicrotask(() => {
        this.wakeScheduled = false;
        this.counters.wakes++;
        this.wakePollers(this.toWake);
      });
    }
    return true;
  }

  /** Read every completion there is, refill from the backlog, then re-arm the doorbell. */
  drain(): void {
    const i32 = this.i32;
    for (;;) {
      let off: number;
      while ((off = this.cmp.take()) >= 0) {
        const id = i32[(off + L.SLOT_ID) >> 2]!;
        const rc = i32[(off + L.SLOT_RC) >> 2]!;
        const len = i32[(off + L.SLOT_LEN) >> 2]! >>> 0;
        const ptr = len > L.INLINE_MAX ? this.u64[(off + L.SLOT_PTR) >> 3]! : 0n;
        const c = this.calls[id];
        let data: Uint8Array | undefined;
        if (c?.live) {
          if (ptr) {
            data = new Uint8Array(len);
            this.host.bufTake(ptr, data, len);
          } else {
            data = this.cmp.u8.slice(off + L.SLOT_DATA, off + L.SLOT_DATA + len);
          }
        } else if (ptr) {
          this.host.bufFree(ptr); // a late answer to a call that timed out or was aborted
        }
        this.cmp.release(off);
        this.calls[id] = undefined;
        this.freeIds.push(id);
        if (c && data) {
          this.settle(c);
          c.resolve({ rc, data });
        }
      }
      this.flush();
      if (this.freeIds.length === this.calls.length) break;
      Atomics.store(i32, L.JS_WAITING >> 2, 1);
      if (this.cmp.isEmpty()) break;
      Atomics.store(i32, L.JS_WAITING >> 2, 0);
    }
    this.checkIdle();
  }

  private flush(): void {
    while (this.backlogHead < this.backlog.length && this.freeIds.length > 0) {
      const c = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined as unknown as Call;
      if (!c.live) continue;
      this.queued--;
      const p = c.payload!;
      c.payload = null;
      if (!this.trySend(c, p) && c.live) this.abandon(c, new TrestyError('TRESTY_ERR_FFI_ENCODE', `ffi plugin ${this.label}: the ring refused a call`));
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    }
  }

  private settle(c: Call): void {
    c.live = false;
    if (c.timer) clearTimeout(c.timer);
    if (c.onAbort) c.signal!.removeEventListener('abort', c.onAbort);
    if (--this.live === 0) this.bell.unref();
  }

  private abandon(c: Call, err: TrestyError): void {
    if (!c.live) return;
    if (c.payload) {
      c.payload = null; // still in the backlog: never sent, flush() skips it
      this.queued--;
    }
    this.settle(c);
    c.reject(err);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idle && this.live === 0) this.idle();
  }

  /** Refuse new calls and resolve once every live call is settled (answered or timed out). */
  close(): Promise<void> {
    this.closing = true;
    if (this.live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle = resolve;
    });
  }

  /** Native counters (tests): tasks a runtime holds unanswered, late answers freed after unload. */
  nativeStats(): { live: number; dropped: number } {
    if (this.tqFreed) return { live: 0, dropped: 0 };
    const live: [number | bigint] = [0];
    const dropped: [number | bigint] = [0];
    this.host.tqStats(this.tq, live, dropped);
    return { live: Number(live[0]), dropped: Number(dropped[0]) };
  }

  /** Set once the host freed the tq (function plugins). */
  tqFreed = false;

  /** The other side is gone for good (a pool thread died): settle every call with err. */
  fail(err: TrestyError): void {
    this.closing = true;
    for (const c of this.calls) if (c?.live) this.abandon(c, err);
    for (let i = this.backlogHead; i < this.backlog.length; i++) {
      const c = this.backlog[i]!;
      if (c.live) this.abandon(c, err);
    }
  }

  /** After close(): stop reading the doorbell. */
  destroy(): void {
    this.bell.destroy();
  }
}

function aborted(label: string): TrestyError {
  return new TrestyError('TRESTY_ERR_FFI_ABORTED', `ffi plugin ${label}: call aborted (its request went away)`);
}
