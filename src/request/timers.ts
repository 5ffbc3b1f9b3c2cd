// The worker's timers: callbacks run later, detached from the request that made them, in their
// own `ngx.timer` context. On worker shutdown pending timers run at once with premature = true.
// ngx.timer (src/api/timer.ts) is the API over this set.

import { TrestyError } from '../errors.js';
import { CTX } from './context.js';
import { INTERRUPT, isPromise } from './interrupt.js';
import { BareCtx, type BaseCtx } from './req.js';
import type { WorkerState } from './worker.js';

/** `this` in a callback is the timer's own ngx object. */
export type TimerCallback = (this: unknown, premature: boolean, ...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Timer {
  readonly cb: TimerCallback;
  readonly args: unknown[];
  readonly every: boolean;
  handle: NodeJS.Timeout | null;
}

export class TimerSet {
  running = 0;
  private readonly pending = new Set<Timer>();
  private readonly inflight = new Set<Promise<void>>();
  w!: WorkerState;
  /** The ngx object factory, given by the worker set-up (the API sits above this layer). */
  ngxOf!: (c: BaseCtx) => unknown;

  get pendingCount(): number { return this.pending.size; }

  add(delay: number, cb: TimerCallback, args: unknown[], every: boolean): boolean {
    if (typeof delay !== 'number' || !(delay >= 0)) throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.timer: delay must be a number >= 0');
    if (typeof cb !== 'function') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.timer: callback must be a function');
    if (every && delay <= 0) throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.timer.every: delay must be > 0');
    if (this.w.exiting) return false;
    const t: Timer = { cb, args, every, handle: null };
    const ms = delay * 1000;
    t.handle = every ? setInterval(() => this.fire(t, false), ms) : setTimeout(() => this.fire(t, false), ms);
    t.handle.unref();
    this.pending.add(t);
    return true;
  }

  private fire(t: Timer, premature: boolean): void {
    if (!t.every || premature) this.pending.delete(t);
    const ctx = new BareCtx(CTX.timer, this.w);
    this.running++;
    const done = (): void => { this.running--; };
    let v: unknown;
    try {
      v = t.cb.call(this.ngxOf(ctx), premature, ...t.args);
    } catch (e) {
      this.failed(e);
      done();
      return;
    }
    if (!isPromise(v)) { done(); return; }
    const p: Promise<void> = v.then(() => undefined, (e: unknown) => this.failed(e))
      .finally(() => { done(); this.inflight.delete(p); });
    this.inflight.add(p);
  }

  private failed(e: unknown): void {
    if (e === INTERRUPT) return;
    this.w.errorLog.log('error', `timer callback failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }

  /** Fires every pending timer with premature = true and waits (bounded) for running ones. */
  async shutdown(maxWaitMs = 5000): Promise<void> {
    for (const t of [...this.pending]) {
      if (t.handle) t.every ? clearInterval(t.handle) : clearTimeout(t.handle);
      this.fire(t, true);
    }
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise<void>((res) => { timer = setTimeout(res, maxWaitMs); }),
    ]);
    clearTimeout(timer);
  }
}
