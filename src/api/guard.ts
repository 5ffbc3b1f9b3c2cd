// One guard per phase-gated API (STYLE 5): the context of the call against the API's mask.
// The context is the handler run the `ngx` object belongs to, except when that run exited (the
// call leaves the code again), is over (it runs as a timer would), or a timer callback is
// running (any `ngx` used there runs in the timer's context, as OpenResty's global `ngx` does).

import { activeTimer, Call, ENDED, EXITED } from '../request/call.js';
import { CTX, apiDisabled } from '../request/context.js';
import { INTERRUPT } from '../request/interrupt.js';
import type { Req } from '../request/req.js';

/** The context a call through `c`'s ngx object runs in. */
export function effective(c: Call): Call {
  if (c.state === EXITED) throw INTERRUPT;
  const t = activeTimer;
  if (t !== null && t !== c) return t;
  if (c.state === ENDED && c.phase !== CTX.timer) return (c.detached ??= new Call(CTX.timer, c.w, null));
  return c;
}

/** Throws `API disabled in the context of ...` unless the context is in `mask`. */
export function guard(c: Call, mask: number): Call {
  const e = c.state === 0 && activeTimer === null ? c : effective(c);
  if ((e.phase & mask) === 0) throw apiDisabled(e.phase);
  return e;
}

/** For APIs whose contexts are all request phases: the request itself. */
export function guardReq(c: Call, mask: number): Req {
  const e = c.state === 0 && activeTimer === null ? c : effective(c);
  if ((e.phase & mask) === 0 || e.req === null) throw apiDisabled(e.phase);
  return e.req;
}
