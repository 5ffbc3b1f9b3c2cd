// Calling a handler: each run gets its own Call (the context its ngx object checks), and what
// happened (ngx.exit / ngx.exec / a throw) is read into a result code. A handler that returns no
// promise and starts no light thread stays on a synchronous path.

import { ngxOf } from '../api/ngx.js';
import { Call, setCurrentCall } from '../request/call.js';
import { DECLINED, DONE, EXEC, ERROR, OK } from '../request/codes.js';
import { CTX } from '../request/context.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { handlerFailure, missingFile } from '../request/failure.js';
import { LOGGING, logReq } from '../request/report.js';
import { NO_EXIT, type Req } from '../request/req.js';
import { entering, left } from '../request/watch.js';
import type { HandlerFn, LoadedHandler } from './loader.js';
import { endRun, Pending, RETURNED, type Done, type Outcome } from './pending.js';

/** Calls the handler in its call context; returns its value or promise, throws what it throws. */
export function call(c: Call, h: LoadedHandler): unknown {
  const fn = h.fn;
  if (fn !== null) return callNow(c, fn, h);
  return h.load().then((f: HandlerFn) => callNow(c, f, h));
}

function callNow(c: Call, fn: HandlerFn, h: LoadedHandler): unknown {
  const prev = setCurrentCall(c);
  const outer = entering(h, c.req?.loc ?? null);
  try {
    return fn(ngxOf(c), h.require);
  } finally {
    left(outer);
    setCurrentCall(prev);
  }
}

/** The result code after a rewrite/access/content handler returned or threw INTERRUPT. */
function settle(r: Req): number {
  if (r.execUri !== null) return EXEC;
  const c = r.exitCode;
  if (c === NO_EXIT) return OK;
  r.exitCode = NO_EXIT;
  return c;
}

/**
 * Runs `h` for `r` in context `bit` and calls `done` with how it ended: it returned, it threw
 * (INTERRUPT for an exit), or it exited from a light thread. The run is over once the handler
 * and every light thread it spawned are done, unless it exits or fails first (OpenResty's
 * entry thread). Returns done's value, or a Pending of it when something had to wait.
 */
function run<T>(r: Req, h: LoadedHandler, bit: number, done: Done<T>): T | Pending<T> {
  const c = new Call(bit, r.w, r, h);
  const prev = r.phase;
  const prevCall = r.call;
  r.phase = bit;
  r.call = c;
  r.lastHandler = h.label;
  // No closure for the synchronous end (most runs): one less allocation a handler run.
  let v: unknown;
  try {
    v = call(c, h);
  } catch (e) {
    return endRun(r, c, prev, prevCall, e, done);
  }
  if (!isPromise(v)) {
    const idle = c.whenIdle();
    if (idle === null) { c.returned = v; return endRun(r, c, prev, prevCall, RETURNED, done); }
    v = undefined;
  }
  return new Pending(r, c, prev, prevCall, done).watch(v as PromiseLike<unknown> | undefined);
}

/**
 * A step of the rewrite/access/content family: a handler whose exit status steers the flow.
 * In rewrite and access, a handler that produced output ends the request there, as in
 * OpenResty (later phases would answer a second time).
 */
export function handlerStep(h: LoadedHandler, bit: number): (r: Req) => number | Promise<number> {
  const ends = bit !== CTX.content;
  const done = (r: Req, o: Outcome): number => {
    if (o !== RETURNED && o !== INTERRUPT) {
      logReq(r, 'error', handlerFailure(h, o));
      // nginx + lua: a handler file it cannot open is a 404 (one that does not compile, a 500).
      return missingFile(o) ? 404 : ERROR;
    }
    const rc = settle(r);
    return ends && (rc === OK || rc === DECLINED) && r.headerSent ? DONE : rc;
  };
  if (ends) return (r) => run(r, h, bit, done);
  // content_by_js: whatever it answers (even nothing, or ngx.exit(2xx)) goes out as
  // lua-nginx-module's output does, with no length of its own (output.ts headerList).
  return (r) => {
    r.lengthless = true;
    return run(r, h, bit, done);
  };
}

/** The value a set_by_js handler returned, or the error it threw. */
export function setCall(r: Req, h: LoadedHandler): { value: unknown } | { error: unknown } | Promise<{ value: unknown } | { error: unknown }> {
  let value: unknown;
  const c = new Call(CTX.set, r.w, r, h);
  const prev = r.phase;
  r.phase = CTX.set;
  const end = (o: { value: unknown } | { error: unknown }): { value: unknown } | { error: unknown } => {
    c.end();
    r.phase = prev;
    return o;
  };
  try {
    value = call(c, h);
  } catch (e) {
    return end({ error: e });
  }
  if (!isPromise(value)) return end({ value });
  return value.then((v) => end({ value: v }), (e: unknown) => end({ error: e }));
}

/**
 * header_filter: OK, the status of an ngx.exit there, or ERROR after a failure (logged: the
 * response is then aborted, as OpenResty does).
 */
export function headerFilterCall(r: Req, h: LoadedHandler): number | Promise<number> {
  return run(r, h, CTX.header_filter, (_r, o) => {
    if (o === RETURNED) return OK;
    if (o === INTERRUPT) return settle(r);
    logReq(r, 'error', handlerFailure(h, o));
    return ERROR;
  });
}

/**
 * body_filter: OK, or ERROR after a failure (logged; the response is aborted) or when the filter
 * returned ngx.ERROR or a status >= 300 (not logged), as lua-nginx-module reads its return value.
 */
export function bodyFilterCall(r: Req, h: LoadedHandler): number | Promise<number> {
  return run(r, h, CTX.body_filter, (_r, o, c) => {
    if (o === RETURNED) return failing(c.returned) ? ERROR : OK;
    if (o === INTERRUPT) return OK;
    logReq(r, 'error', handlerFailure(h, o));
    return ERROR;
  });
}

/** lua's `rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE` on the filter's return value (a
 *  number; anything else reads 0). */
function failing(v: unknown): boolean {
  return typeof v === 'number' && (Math.trunc(v) === ERROR || v >= 300);
}

/** log_by_js: an error is logged only. */
export function logCall(r: Req, h: LoadedHandler): Promise<void> | undefined {
  const v = run(r, h, CTX.log, (_r, o) => {
    // The run has ended (r.phase is no longer log's): the failure says it was logging itself.
    if (o !== RETURNED && o !== INTERRUPT) logReq(r, 'error', handlerFailure(h, o) + LOGGING);
  });
  return isPromise(v) ? v : undefined;
}
