// One guard per phase-gated API (STYLE 5): the current context bit against the API's mask.

import type { BaseCtx, Req } from '../request/req.js';
import { apiDisabled } from './context.js';

/** Throws `API disabled in the context of ...` unless the context is in `mask`. */
export function guard(c: BaseCtx, mask: number): BaseCtx {
  if ((c.phase & mask) === 0) throw apiDisabled(c.phase);
  return c;
}

/** For APIs whose contexts are all request phases: the request itself. */
export function guardReq(c: BaseCtx, mask: number): Req {
  if ((c.phase & mask) === 0 || c.req === null) throw apiDisabled(c.phase);
  return c.req;
}
