// ngx.timer: the API over the worker's timer set (src/request/timers.ts).

import type { BaseCtx } from '../request/req.js';
import type { TimerCallback } from '../request/timers.js';
import { MASK } from './context.js';
import { guard } from './guard.js';

export type { TimerCallback };

export interface TimerApi {
  /** Runs `cb(premature, ...args)` after `delay` seconds; false when the worker is exiting. */
  at(delay: number, cb: TimerCallback, ...args: unknown[]): boolean;
  /** Runs `cb(premature, ...args)` every `delay` seconds until the worker exits. */
  every(delay: number, cb: TimerCallback, ...args: unknown[]): boolean;
  running_count(): number;
  pending_count(): number;
}

export function timerApi(c: BaseCtx): TimerApi {
  const set = c.w.timers;
  return {
    at: (delay, cb, ...args) => { guard(c, MASK.timer); return set.add(delay, cb, args, false); },
    every: (delay, cb, ...args) => { guard(c, MASK.timer); return set.add(delay, cb, args, true); },
    running_count: () => { guard(c, MASK.timer); return set.running; },
    pending_count: () => { guard(c, MASK.timer); return set.pendingCount; },
  };
}
