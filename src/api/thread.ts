// ngx.thread: light threads as OpenResty's user threads. spawn() runs the function at once up to
// its first wait; the handler (and so the phase and the request) waits for every thread it
// spawned before it ends, unless it exits. An error in a thread is logged ("js user thread
// aborted: runtime error: ...") and does not fail its parent. Results are [ok, ...] arrays,
// Lua's multiple returns. A thread shares its spawner's `ngx`: an ngx.exit in a thread ends the
// whole handler run.

import { TrestyError } from '../errors.js';
import { type Call, LIVE } from '../request/call.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { threadFailure } from '../request/failure.js';
import { logRun } from '../request/report.js';

/** [true, value] when the thread returned, [false, error] when it threw. */
export type ThreadResult = [true, unknown] | [false, unknown];

export class LightThread {
  #result: ThreadResult | null = null;
  #waited = false;
  #killed = false;
  #watchers: Array<() => void> = [];
  /** Lets the spawning handler run end without this thread (once). */
  #release: (() => void) | null;

  /** @internal */ constructor(release: () => void) { this.#release = release; }

  /** Lua's coroutine.status: `running` until it ends, then `zombie` until waited, then `dead`. */
  get status(): 'running' | 'zombie' | 'dead' {
    if (this.#killed || this.#waited) return 'dead';
    return this.#result === null ? 'running' : 'zombie';
  }

  /** @internal */ get result(): ThreadResult | null { return this.#result; }
  /** @internal */ get gone(): boolean { return this.#waited || this.#killed; }

  /** @internal */ settle(r: ThreadResult): void {
    this.#free();
    if (this.#result !== null || this.#killed) return;
    this.#result = r;
    for (const w of this.#watchers.splice(0)) w();
  }

  #free(): void {
    const f = this.#release;
    this.#release = null;
    f?.();
  }

  /** @internal */ watch(cb: () => void): void { this.#watchers.push(cb); }
  /** @internal */ unwatch(cb: () => void): void { this.#watchers = this.#watchers.filter((w) => w !== cb); }
  /** @internal */ take(): void { this.#waited = true; }
  /** @internal */ kill(): void { this.#killed = true; this.#watchers = []; this.#free(); }
}

/**
 * Runs `fn(...args)` as a light thread of call `c`: `c` stays busy until it ends. Used by
 * ngx.thread.spawn and for ngx.on_abort callbacks.
 */
export function startThread(c: Call, fn: (...a: unknown[]) => unknown, args: unknown[]): LightThread {
  c.hold();
  const t = new LightThread(() => c.release());
  const failed = (e: unknown): void => {
    if (!t.gone && e !== INTERRUPT && c.state === LIVE) {
      // A timer's thread: nginx's `context: ngx.timer` in place of a request's.
      logRun(c, 'error', threadFailure(c.handler, e));
    }
    t.settle([false, e]);
  };
  let v: unknown;
  try {
    v = fn(...args);
  } catch (e) {
    failed(e);
    return t;
  }
  if (!isPromise(v)) {
    t.settle([true, v]);
    return t;
  }
  v.then((x) => t.settle([true, x]), failed);
  return t;
}

function check(t: unknown, fn: string, i: number): LightThread {
  if (!(t instanceof LightThread)) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #${i} to '${fn}' (thread expected, got ${t === null || t === undefined ? 'nil' : typeof t})`);
  }
  return t;
}

/** ngx.thread.wait: the result of the first of `threads` to end (each thread can be waited once). */
export function waitThreads(threads: unknown[]): Promise<ThreadResult | [null, string]> {
  const list = threads.map((t, i) => check(t, 'wait', i + 1));
  if (list.length === 0) return Promise.reject(new TrestyError('TRESTY_ERR_API_ARGS', "bad argument #1 to 'wait' (thread expected, got nil)"));
  const live = list.filter((t) => !t.gone);
  if (live.length === 0) return Promise.resolve([null, 'already waited or killed']);
  const ready = live.find((t) => t.result !== null);
  if (ready) { ready.take(); return Promise.resolve(ready.result!); }
  return new Promise((resolve) => {
    const watchers: Array<[LightThread, () => void]> = [];
    for (const t of live) {
      const cb = (): void => {
        for (const [o, w] of watchers) o.unwatch(w);
        t.take();
        resolve(t.result!);
      };
      watchers.push([t, cb]);
      t.watch(cb);
    }
  });
}

/** ngx.thread.kill: a running thread stops counting for its handler; its outcome is dropped. */
export function killThread(t: unknown): [true, null] | [null, string] {
  const th = check(t, 'kill', 1);
  if (th.gone) return [null, 'already waited or killed'];
  if (th.result !== null) return [null, 'already terminated'];
  th.kill();
  return [true, null];
}
