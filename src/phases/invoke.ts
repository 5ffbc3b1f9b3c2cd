// Calling a handler: set the request's context bit, call with its ngx object, and read what
// happened (ngx.exit / ngx.exec / a throw) into a result code. A handler that returns no
// promise stays on a synchronous path.

import { ngxOf } from '../api/ngx.js';
import { CTX } from '../request/context.js';
import { DECLINED, DONE, EXEC, ERROR, OK } from '../request/codes.js';
import type { HandlerFn, LoadedHandler } from './loader.js';
import { handlerFailure, logReq } from '../request/report.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { NO_EXIT, type BaseCtx, type Req } from '../request/req.js';

/** Calls the handler in context `bit`; returns its value or promise, throws what it throws. */
export function call(c: BaseCtx, h: LoadedHandler, bit: number): unknown {
  c.phase = bit;
  const fn = h.fn;
  if (fn !== null) return fn(ngxOf(c), h.require);
  return h.load().then((f: HandlerFn) => {
    c.phase = bit;
    return f(ngxOf(c), h.require);
  });
}

/** The result code after a rewrite/access/content handler returned or threw INTERRUPT. */
function settle(r: Req): number {
  if (r.execUri !== null) return EXEC;
  const c = r.exitCode;
  if (c === NO_EXIT) return OK;
  r.exitCode = NO_EXIT;
  return c;
}

function failed(r: Req, h: LoadedHandler, e: unknown): number {
  if (e === INTERRUPT) return settle(r);
  logReq(r, 'error', handlerFailure(h, e));
  return ERROR;
}

/**
 * A step of the rewrite/access/content family: a handler whose exit status steers the flow.
 * In rewrite and access, a handler that produced output ends the request there, as in
 * OpenResty (later phases would answer a second time).
 */
export function handlerStep(h: LoadedHandler, bit: number): (r: Req) => number | Promise<number> {
  const ends = bit !== CTX.content;
  const after = (r: Req): number => {
    const rc = settle(r);
    return ends && (rc === OK || rc === DECLINED) && r.headerSent ? DONE : rc;
  };
  return (r) => {
    let v: unknown;
    try {
      v = call(r, h, bit);
    } catch (e) {
      return e === INTERRUPT ? after(r) : failed(r, h, e);
    }
    if (isPromise(v)) return v.then(() => after(r), (e: unknown) => (e === INTERRUPT ? after(r) : failed(r, h, e)));
    return after(r);
  };
}

/**
 * Filters and log handlers: an error is logged and the response goes on unchanged.
 * Returns a promise only when the handler returned one.
 */
export function sideCall(r: Req, h: LoadedHandler, bit: number): Promise<void> | undefined {
  let v: unknown;
  try {
    v = call(r, h, bit);
  } catch (e) {
    if (e !== INTERRUPT) logReq(r, 'error', handlerFailure(h, e));
    return undefined;
  }
  if (!isPromise(v)) return undefined;
  return v.then(() => undefined, (e: unknown) => {
    if (e !== INTERRUPT) logReq(r, 'error', handlerFailure(h, e));
  });
}
