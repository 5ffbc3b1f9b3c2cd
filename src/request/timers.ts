// The worker's timers: callbacks run later, detached from the request that made them, in their
// own `ngx.timer` context. At most js_max_pending_timers wait and js_max_running_timers run at
// once (OpenResty's defaults 1024 and 256). On worker shutdown pending timers run at once with
// premature = true. ngx.timer (src/api/timer.ts) is the API over this set.

import { Call, ENDED, setActiveTimer } from './call.js';
import { CTX } from './context.js';
import { timerFailure } from './failure.js';
import { INTERRUPT, isPromise } from './interrupt.js';
import { nextConnection } from '../log/index.js';
import { logRun } from './report.js';
import type { WorkerState } from './worker.js';

/** `this` in a callback is the timer's own ngx object. */
export type TimerCallback = (this: unknown, premature: boolean, ...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Timer {
  readonly cb: TimerCallback;
  readonly args: unknown[];
  readonly every: boolean;
  handle: NodeJS.Timeout | null;
  /** `, client: ..., server: ...` of the run that made it ('' in init_worker_by_js). */
  readonly peer: string;
}

export class TimerSet {
  running = 0;
  private readonly pending = new Set<Timer>();
  private readonly inflight = new Set<Promise<void>>();
  w!: WorkerState;
  /** The ngx object factory, given by the worker set-up (the API sits above this layer). */
  ngxOf!: (c: Call) => unknown;
  maxPending = 1024;
  maxRunning = 256;

  get pendingCount(): number { return this.pending.size; }

  /**
   * Schedules `cb`; the arguments are checked by the API. `peer`: its maker's client and
   * listen address, for its lines. Returns null, or why it was refused.
   */
  add(delay: number, cb: TimerCallback, args: unknown[], every: boolean, peer = ''): string | null {
    if (this.w.exiting) return 'process exiting';
    if (this.pending.size >= this.maxPending) return 'too many pending timers';
    const t: Timer = { cb, args, every, handle: null, peer };
    const ms = Math.max(0, delay * 1000);
    t.handle = every ? setInterval(() => this.fire(t, false), ms) : setTimeout(() => this.fire(t, false), ms);
    t.handle.unref();
    this.pending.add(t);
    return null;
  }

  private fire(t: Timer, premature: boolean): void {
    if (!t.every || premature) this.pending.delete(t);
    if (this.running >= this.maxRunning) {
      this.w.errorLog.log('alert', `${this.maxRunning} js_max_running_timers are not enough`);
      return;
    }
    const c = new Call(CTX.timer, this.w, null);
    // Each run is a fake connection of its own in nginx, numbered with the real ones.
    c.origin = { connection: nextConnection(), tail: `, context: ngx.timer${t.peer}`, peer: t.peer };
    this.running++;
    const done = (): void => { c.end(); this.running--; };
    let v: unknown;
    const prev = setActiveTimer(c);
    try {
      v = t.cb.call(this.ngxOf(c), premature, ...t.args);
    } catch (e) {
      this.failed(c, e);
      v = undefined;
    } finally {
      setActiveTimer(prev);
    }
    // The callback's light threads keep it running (and counted) until they end or it exits.
    const threads = (): Promise<void> | void => {
      if (c.state === ENDED) return;
      const idle = c.whenIdle();
      if (idle === null) return;
      return new Promise<void>((resolve) => { c.wake = resolve; idle.then(resolve); });
    };
    if (!isPromise(v)) {
      const w = threads();
      if (w === undefined) { done(); return; }
      this.track(w.then(done));
      return;
    }
    this.track(v.then(() => threads(), (e: unknown) => this.failed(c, e)).finally(done));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private failed(c: Call, e: unknown): void {
    if (e === INTERRUPT || c.state !== 0) return;
    // OpenResty's `context: ngx.timer` in place of a request's client and request line.
    logRun(c, 'error', timerFailure(e));
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
