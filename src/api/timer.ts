// ngx.timer: the API over the worker's timer set (src/request/timers.ts). at/every return
// [ok, err], Lua's two return values: [true, null], or [null, 'too many pending timers'] /
// [null, 'process exiting'].

import { TrestyError } from '../errors.js';
import type { Call } from '../request/call.js';
import { peerOf } from '../request/report.js';
import type { TimerCallback } from '../request/timers.js';
import { MASK } from './context.js';
import { guard } from './guard.js';

export type { TimerCallback };

export type TimerResult = [true, null] | [null, string];

export interface TimerApi {
  /** Runs `cb(premature, ...args)` after `delay` seconds, detached from the request. */
  at(delay: number, cb: TimerCallback, ...args: unknown[]): TimerResult;
  /** Runs `cb(premature, ...args)` every `delay` seconds until the worker exits. */
  every(delay: number, cb: TimerCallback, ...args: unknown[]): TimerResult;
  running_count(): number;
  pending_count(): number;
}

function check(fn: 'at' | 'every', delay: unknown, cb: unknown): void {
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to '${fn}' (number expected, got ${delay === null || delay === undefined ? 'nil' : typeof delay})`);
  }
  if (typeof cb !== 'function') throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #2 to '${fn}' (function expected)`);
  if (fn === 'every' && delay <= 0) throw new TrestyError('TRESTY_ERR_API_ARGS', delay === 0 ? 'delay cannot be zero' : 'delay cannot be negative');
}

export function timerApi(c: Call): TimerApi {
  const add = (fn: 'at' | 'every', delay: number, cb: TimerCallback, args: unknown[]): TimerResult => {
    const e = guard(c, MASK.timer);
    check(fn, delay, cb);
    const err = e.w.timers.add(delay, cb, args, fn === 'every', peerOf(e));
    return err === null ? [true, null] : [null, err];
  };
  return {
    at: (delay, cb, ...args) => add('at', delay, cb, args),
    every: (delay, cb, ...args) => add('every', delay, cb, args),
    running_count: () => guard(c, MASK.timer).w.timers.running,
    pending_count: () => guard(c, MASK.timer).w.timers.pendingCount,
  };
}
