// The event-loop end of one plugin's rings: admits calls, writes them into submit slots (or a
// JS backlog when all CAP slots are in flight), reads completions in batches when the doorbell
// rings, and settles promises. It never blocks: waiting is the doorbell pipe (bell.ts: read by
// the native HTTP engine's epoll when the worker has one, else by a net.Socket), opened at the
// first call. A pipe rather than a koffi callback from the runtime's thread: in our trial (koffi
// 3.3.4, Node 20) such a callback hung or crashed, and koffi documents aborts at exit when a
// foreign thread still calls one (koffi issue #271).
//
// The event loop is the only producer of the submit ring and the only consumer of the
// completion ring, so it keeps their tail and head in fields and needs no compare-and-swap:
// one atomic load and one atomic store per slot, each way.
import { performance } from 'node:perf_hooks';
import { TrestyError } from '../errors.js';
import * as L from '../ring/layout.js';
import { type Bell, closeBellFd, openBell, socketBell } from './bell.js';
import type { HostBindings, Ptr } from './bindings.js';
import { type AbortLike, aborted, type Call, type Reader, refusal, refused, takeLarge } from './call.js';
import { Deadlines } from './deadlines.js';
import { LOOK_BACKOFF, LookBackoff, QUICK_PER_TURN, quickMs } from './look-backoff.js';
import { writeSlot } from './slot-write.js';

export class Channel {
  readonly i32: Int32Array;
  readonly u64: BigUint64Array;
  // i32, u64, mem, bufOut, host and label are what writeSlot reads (SlotMemory)
  readonly bufOut = new BigUint64Array(new ArrayBuffer(8));
  /** The whole ring memory, for copies and decoding in place: a plain Uint8Array, whose set() took
      half the time of a Buffer's for a 512 B request (TypedArray#set on the subclass). */
  readonly mem: Uint8Array;
  private readonly mask: number;
  private subTail = 0; // next submit position (this thread alone produces)
  private cmpHead = 0; // next completion position (this thread alone consumes)
  private readonly calls: (Call | undefined)[];
  private readonly freeIds: number[];
  private readonly deadlines: Deadlines<Call>;
  private backlog: Call[] = [];
  private backlogHead = 0;
  private queued = 0; // live calls in the backlog
  private live = 0; // calls whose promise is not settled
  private wakeScheduled = false;
  private lookScheduled = false;
  private lookSkip = 0; // doorbell rounds left before looking again
  private readonly quickBackoff = new LookBackoff(LOOK_BACKOFF);
  private toWake = 0; // requests published since the wake was scheduled
  private closing = false;
  private idle: (() => void) | undefined;
  private bell: Bell | null = null; // opened at the first call
  private retry: NodeJS.Timeout | null = null; // flush again: the tail slot was still held
  /**
   * How often each side had to be woken (a system call each), how many looks after a submit ran
   * and found answers (the rest fell back to doorbells), and short waits begun (the gate open,
   * nothing answered yet) and ended by an answer, quick looks run, and wakes that found answers
   * when they returned: for benchmarks and tests.
   */
  readonly counters = { doorbells: 0, wakes: 0, looks: 0, lookHits: 0, quick: 0, waits: 0, waited: 0, wakeHits: 0 };
  private doubleAnswers = 0; // the host's count of second answers, as last seen
  private readonly quickMs = quickMs(); // read per plugin, so tests can set it
  private quickLeft = QUICK_PER_TURN;
  private quickReset = false;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly tq: Ptr,
    private readonly doorbellFd: number,
    readonly host: HostBindings,
    private readonly wakePollers: (n: number) => void,
    private readonly maxQueue: number,
    readonly label: string,
    private readonly onPublish: (() => void) | null = null,
    private readonly warn: (msg: string) => void = () => {},
  ) {
    const cap = new Int32Array(sab)[L.CAPACITY >> 2]!;
    this.i32 = new Int32Array(sab);
    this.u64 = new BigUint64Array(sab);
    this.mem = new Uint8Array(sab);
    this.mask = cap - 1;
    this.subTail = Atomics.load(this.i32, L.SUB_TAIL >> 2);
    this.cmpHead = Atomics.load(this.i32, L.CMP_HEAD >> 2);
    this.calls = new Array<Call | undefined>(cap).fill(undefined);
    this.freeIds = Array.from({ length: cap }, (_, i) => cap - 1 - i);
    this.deadlines = new Deadlines<Call>((c, ms) => this.abandon(c, new TrestyError('TRESTY_ERR_FFI_TIMEOUT',
      `ffi plugin ${this.label}: no answer within ${ms} ms; raise timeout or check the runtime`)));
  }

  private readonly ring = (): void => {
    this.counters.doorbells++;
    if (this.lookSkip > 0) this.lookSkip--;
    this.drain();
  };

  /** The engine that read the doorbell stopped: a socket reads it from now on. */
  private readonly detached = (): void => {
    this.bell = socketBell(this.doorbellFd, this.ring);
    if (this.live > 0) this.bell.ref();
    this.drain();
  };

  /** Who reads the doorbell: the engine's epoll, a socket, or nobody yet (no call made). */
  get bellKind(): 'engine' | 'socket' | 'none' {
    return this.bell?.kind ?? 'none';
  }

  /** Calls not yet answered, including ones that timed out but the runtime still holds. */
  get inFlight(): number {
    return this.calls.length - this.freeIds.length + this.queued;
  }

  get pending(): number {
    return this.live;
  }

  /** call() of a string for a string or raw plugin, written as UTF-8 straight into its slot (slot-write.ts). */
  callText(v: string, timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown> {
    return this.call(v, timeoutMs, signal, read);
  }

  /** Submit payload; the promise settles with read()'s value (or its throw) or a TrestyError. */
  call(payload: Uint8Array | string, timeoutMs: number, signal: AbortLike | undefined, read: Reader): Promise<unknown> {
    const no = refusal(this.label, this.closing, signal, payload.length, this.inFlight, this.maxQueue);
    if (no) return Promise.reject(no);
    return new Promise<unknown>((resolve, reject) => {
      const c: Call = {
        payload: null, read, resolve, reject, signal, onAbort: undefined, live: true, deadline: 0, queue: null,
      };
      if (timeoutMs > 0) this.deadlines.add(c, timeoutMs);
      if (signal) {
        c.onAbort = () => this.abandon(c, aborted(this.label));
        signal.addEventListener('abort', c.onAbort, { once: true });
      }
      if (this.live++ === 0) (this.bell ??= openBell(this.doorbellFd, this.ring, this.detached)).ref();
      if (this.backlogHead === this.backlog.length && this.trySend(c, payload)) return;
      if (!c.live) return;
      if (this.freeIds.length > 0) this.retryFlush(); // ids free, the tail slot not yet
      // A copy (Buffer#slice would be a view): the encoder may reuse its bytes for the next call.
      c.payload = typeof payload === 'string' ? payload : Uint8Array.prototype.slice.call(payload);
      this.backlog.push(c);
      this.queued++;
    });
  }

  /** send(), with a failure (out of memory) settling the call instead of escaping. */
  private trySend(c: Call, payload: Uint8Array | string): boolean {
    try {
      return this.send(c, payload);
    } catch (e) {
      this.abandon(c, e as TrestyError);
      return false;
    }
  }

  /** Write one call into a submit slot; false when all slots are in flight. */
  private send(c: Call, payload: Uint8Array | string): boolean {
    if (this.freeIds.length === 0) return false;
    const i32 = this.i32;
    const pos = this.subTail;
    const off = L.SUBMIT_OFFSET + (pos & this.mask) * L.SLOT_SIZE;
    // Free when seq == pos; a poller may still be copying out of the slot one lap behind.
    if (Atomics.load(i32, (off + L.SLOT_SEQ) >> 2) !== pos) return false;
    const len = writeSlot(this, off, payload);
    this.subTail = (pos + 1) | 0;
    i32[L.SUB_TAIL >> 2] = this.subTail; // informational: nobody else claims here
    const id = this.freeIds.pop()!;
    this.calls[id] = c;
    i32[(off + L.SLOT_ID) >> 2] = id;
    i32[(off + L.SLOT_LEN) >> 2] = len;
    // Without a look coming, the first call in flight arms the doorbell before it can be answered.
    const look = this.lookSkip === 0;
    if (!look && this.freeIds.length === this.calls.length - 1) Atomics.store(i32, L.JS_WAITING >> 2, 1);
    Atomics.store(i32, (off + L.SLOT_SEQ) >> 2, (pos + 1) | 0); // publish
    if (look) {
      // One look at the completions after this tick, before the loop may sleep: a quick
      // runtime has answered by then, so no doorbell (a pipe write, an epoll wake-up and a
      // read) is needed. drain() then arms the doorbell for whatever is still in flight.
      if (!this.lookScheduled) {
        this.lookScheduled = true;
        if (this.quickMs > 0 && this.quickLeft > 0 && Atomics.load(i32, L.GATE_OPEN >> 2) === 1) this.scheduleQuick();
        else setImmediate(this.look);
      }
    }
    if (this.onPublish) this.onPublish();
    if (this.wakeScheduled) {
      this.toWake++;
    } else if (Atomics.load(i32, L.SUB_SLEEPERS >> 2) !== 0) {
      // One wake per batch: calls made in the same tick share it, and it wakes no more pollers
      // than there are new requests. (Looking for sleepers once per batch instead, in a microtask,
      // cost a request through HTTP more than the atomic load per call it saved.)
      this.wakeScheduled = true;
      this.toWake = 1;
      queueMicrotask(this.wake);
    }
    return true;
  }

  private readonly look = (): void => {
    this.lookScheduled = false;
    if (!this.lookNow()) this.lookSkip = LOOK_BACKOFF;
  };

  /**
   * Drain what is answered, counted. True when it found every answer (1 in flight: no doorbell
   * per call). When answers trickle in (large payloads, slow runtimes) looks cost a loop turn per
   * answer where one doorbell takes a batch: the caller backs off to doorbells for a while.
   */
  private lookNow(): boolean {
    this.counters.looks++;
    const free = this.freeIds.length;
    this.drain();
    if (this.freeIds.length > free) this.counters.lookHits++;
    return this.freeIds.length === this.calls.length;
  }

  /**
   * A look in this tick's microtasks rather than after the loop's next poll: with the host's gate
   * open (a core free, the poller spinning) the answer comes within a few µs, and waiting for it
   * here (up to quickMs) saves the loop turn a look in setImmediate costs. With the gate shut (a
   * busy machine) looks stay in setImmediate and nothing waits. At most QUICK_PER_TURN per loop turn,
   * so a chain of quick answers cannot starve timers and I/O.
   */
  private scheduleQuick(): void {
    this.quickLeft--;
    queueMicrotask(this.quickLook);
    if (!this.quickReset) {
      this.quickReset = true;
      setImmediate(this.resetQuick);
    }
  }

  private readonly resetQuick = (): void => {
    this.quickReset = false;
    this.quickLeft = QUICK_PER_TURN;
  };

  private readonly quickLook = (): void => {
    this.lookScheduled = false;
    this.counters.quick++;
    if (this.wakeScheduled) this.wake(); // before waiting: the answer may need a sleeping poller
    if (this.cmpEmpty()) {
      // The doorbell is not armed meanwhile: an answer that comes costs the poller no pipe write.
      this.counters.waits++;
      const end = performance.now() + this.quickMs;
      while (this.cmpEmpty() && performance.now() < end);
      if (!this.cmpEmpty()) this.counters.waited++;
    }
    const skip = this.quickBackoff.after(this.lookNow());
    if (skip > 0) this.lookSkip = skip;
  };

  private readonly wake = (): void => {
    if (!this.wakeScheduled) return; // done early by a quick look
    this.wakeScheduled = false;
    this.counters.wakes++;
    this.wakePollers(this.toWake);
    // A poller on this core that the wake switched to (always so with ffi_poller_sched fifo) has
    // answered by the time the wake returns: settle now, not a loop turn later. That is a round
    // without the doorbell, as a look's hit is. Elsewhere this mostly finds the ring empty, or
    // answers a look or the doorbell would have taken a little later.
    if (this.cmpEmpty()) return;
    this.counters.wakeHits++;
    if (this.lookSkip > 0) this.lookSkip--;
    this.drain();
  };

  /** Read every completion there is, refill from the backlog, then re-arm the doorbell. */
  drain(): void {
    const i32 = this.i32;
    const base = L.completionOffset(this.calls.length);
    for (;;) {
      for (;;) {
        const pos = this.cmpHead;
        const off = base + (pos & this.mask) * L.SLOT_SIZE;
        if (Atomics.load(i32, (off + L.SLOT_SEQ) >> 2) !== ((pos + 1) | 0)) break; // empty
        const id = i32[(off + L.SLOT_ID) >> 2]!;
        const rc = i32[(off + L.SLOT_RC) >> 2]!;
        const len = i32[(off + L.SLOT_LEN) >> 2]! >>> 0;
        const c = this.calls[id];
        const flag = i32[(off + L.SLOT_FLAG) >> 2]!;
        let src: Uint8Array = this.mem;
        let start = off + L.SLOT_DATA;
        let shared = true;
        if (len > L.INLINE_MAX) {
          const ptr = this.u64[(off + L.SLOT_PTR) >> 3]!;
          if (c?.live) {
            ({ src, shared } = takeLarge(this.host.bufTake, ptr, len, c.read));
            start = 0;
          } else {
            this.host.bufFree(ptr); // a late answer to a call that timed out or was aborted
          }
        }
        let value: unknown;
        let failed = false;
        if (c?.live && flag !== L.FLAG_OK) {
          value = refused(this.label, flag, src, start, start + len);
          failed = true;
        } else if (c?.live) {
          try { // decoded straight from the slot, before it is released for reuse
            value = c.read(rc, src, start, start + len, shared);
          } catch (e) {
            value = e;
            failed = true;
          }
        }
        Atomics.store(i32, (off + L.SLOT_SEQ) >> 2, (pos + this.calls.length) | 0); // release
        this.cmpHead = (pos + 1) | 0;
        this.calls[id] = undefined;
        this.freeIds.push(id);
        if (c?.live) {
          this.settle(c);
          if (failed) c.reject(value);
          else c.resolve(value);
        }
      }
      i32[L.CMP_HEAD >> 2] = this.cmpHead; // informational: nobody else takes here
      if (i32[L.DOUBLE_ANSWERS >> 2] !== this.doubleAnswers) this.noteDoubleAnswers();
      this.flush();
      if (this.freeIds.length === this.calls.length) break;
      Atomics.store(i32, L.JS_WAITING >> 2, 1);
      if (this.cmpEmpty()) break;
      Atomics.store(i32, L.JS_WAITING >> 2, 0);
    }
    this.checkIdle();
  }

  /** The runtime answered some task twice: the host dropped the second answers; say so once. */
  private noteDoubleAnswers(): void {
    const n = Atomics.load(this.i32, L.DOUBLE_ANSWERS >> 2);
    if (this.doubleAnswers === 0) {
      this.warn(`ffi plugin ${this.label}: the runtime answered a task twice; the second answer was dropped ` +
        '(a runtime bug: each task must be answered exactly once; later ones are counted, not logged)');
    }
    this.doubleAnswers = n;
  }

  /** Spins the host's gate allowed on this ring so far (tests, benchmarks). */
  get spinCount(): number {
    return Atomics.load(this.i32, L.SPINS >> 2) >>> 0;
  }

  /** Second answers the host dropped so far (tests). */
  get doubleAnswerCount(): number {
    return Atomics.load(this.i32, L.DOUBLE_ANSWERS >> 2);
  }

  private cmpEmpty(): boolean {
    const pos = this.cmpHead;
    const off = L.completionOffset(this.calls.length) + (pos & this.mask) * L.SLOT_SIZE;
    return Atomics.load(this.i32, (off + L.SLOT_SEQ) >> 2) !== ((pos + 1) | 0);
  }

  private flush(): void {
    while (this.backlogHead < this.backlog.length && this.freeIds.length > 0) {
      const c = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined as unknown as Call;
      if (!c.live) continue;
      this.queued--;
      const p = c.payload!;
      c.payload = null;
      if (this.trySend(c, p) || !c.live) continue;
      // The slot at the tail is still being copied out by a poller one lap behind (ids are free,
      // the slot is not yet). That slot's call is in flight and its answer drains again: the
      // call waits first in line until then, as it would for a free id.
      c.payload = p;
      this.backlog[--this.backlogHead] = c;
      this.queued++;
      this.retryFlush();
      break;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    }
  }

  /**
   * Try the backlog again soon even if no answer comes: the taker holding the tail slot may be
   * answering a call that never completes (a runtime that drops a task), and then no drain would
   * ever send what waits behind it.
   */
  private retryFlush(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.flush(); // closing too: close() waits for the calls in the backlog
    }, 1);
  }

  private settle(c: Call): void {
    c.live = false;
    if (c.queue) c.queue.settled(c);
    if (c.onAbort) c.signal!.removeEventListener('abort', c.onAbort);
    if (--this.live === 0) this.bell?.unref();
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
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.bellClosed) return; // the fd number may belong to someone else by now
    this.bellClosed = true;
    if (this.bell) this.bell.destroy();
    else closeBellFd(this.doorbellFd);
  }

  private bellClosed = false;
}
