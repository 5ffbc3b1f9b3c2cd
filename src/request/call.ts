// One run of a handler: the context its `ngx` object checks. A handler's light threads share it
// (they use the same `ngx`). Its state decides what a later call through that `ngx` does:
//   LIVE    the API works as the phase allows;
//   EXITED  ngx.exit/exec/redirect was called: every further call leaves the code again, so a
//           `catch` around an exit cannot let the handler go on as if nothing happened;
//   ENDED   the run is over (the request may be gone): request-free APIs still work, in the
//           context of ngx.timer, as OpenResty's global `ngx` does in a timer.

import type { LogOrigin } from '../log/index.js';
import type { HandlerInfo } from './failure.js';
import type { Req } from './req.js';
import type { WorkerState } from './worker.js';

export const LIVE = 0;
export const EXITED = 1;
export const ENDED = 2;

export class Call {
  state = LIVE;
  /** The call's ngx object, made by the API layer on first use. */
  api: object | null = null;
  /** Light threads (and other work the request must wait for) still running. */
  private held = 0;
  private idle: (() => void) | null = null;
  /** Called by ngx.exit from a thread or an abort callback: the phase ends at once. */
  wake: (() => void) | null = null;
  /** A failure of held work that nobody awaited (a non-awaited rack respond()). */
  heldError: unknown = undefined;
  /** The timer context a detached call runs in, made on first use. */
  detached: Call | null = null;
  #ctx: Record<string, unknown> | undefined = undefined;
  /** Work to undo when the run ends (cosockets a timer left open); null until something registers. */
  cleanups: Array<() => void> | null = null;
  /** What the handler returned (its promise's value): body_filter's `return ngx.ERROR`. */
  returned: unknown = undefined;
  /** A run outside a request (a timer, ssl_certificate_by_js): its lines' `*N` and context. */
  origin: LogOrigin | null = null;

  /** `handler`: the handler run (null for a timer), which names its light threads' error lines. */
  constructor(readonly phase: number, readonly w: WorkerState, readonly req: Req | null, readonly handler: HandlerInfo | null = null) {}

  /** ngx.ctx: the request's, or this context's own outside a request. */
  get ctx(): Record<string, unknown> | undefined { return this.req !== null ? this.req.ctx : this.#ctx; }
  set ctx(v: Record<string, unknown> | undefined) {
    if (this.req !== null) this.req.ctx = v;
    else this.#ctx = v;
  }

  hold(): void { this.held++; }

  release(): void {
    if (--this.held === 0 && this.idle !== null) {
      const f = this.idle;
      this.idle = null;
      f();
    }
  }

  /** Resolves when no held work is left; null when there is none now. */
  whenIdle(): Promise<void> | null {
    if (this.held === 0) return null;
    return new Promise((resolve) => {
      const prev = this.idle;
      this.idle = prev === null ? resolve : () => { prev(); resolve(); };
    });
  }

  /** The run is over; an exited call stays exited. */
  end(): void {
    if (this.state === LIVE) this.state = ENDED;
    this.wake = null;
    runCleanups(this.cleanups);
    this.cleanups = null;
  }
}

/**
 * The handler run whose synchronous part is running now (null between events): what lets
 * tresty/rack's execute() find its request without being passed `ngx`, as the seed's does.
 */
export let currentCall: Call | null = null;

export function setCurrentCall(c: Call | null): Call | null {
  const prev = currentCall;
  currentCall = c;
  return prev;
}

/**
 * The timer callback running now, during its synchronous part: a call through any `ngx`
 * (also one captured from a request) made from there runs in the timer's context.
 */
export let activeTimer: Call | null = null;

export function setActiveTimer(c: Call | null): Call | null {
  const prev = activeTimer;
  activeTimer = c;
  return prev;
}

/** Runs end-of-life hooks; one that throws does not stop the others (they only close things). */
export function runCleanups(fns: Array<() => void> | null): void {
  if (fns === null) return;
  for (const f of fns) {
    try { f(); } catch { /* closing a socket that is already gone */ }
  }
}
