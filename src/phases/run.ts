// The per-request loop: server rewrite ops, location lookup, the location's steps, then the
// response through the filters and the log phase. Result codes steer it (codes.ts); it stays
// synchronous as long as no step returns a promise. Between the rewrite and access phases a URI
// changed by `rewrite` sends the request back to find its location (nginx's post-rewrite phase).

import { findNamedLocation, locateIn } from '../http/locations.js';
import { wireStatus } from '../http/native-pages.js';
import { runCleanups } from '../request/call.js';
import { DECLINED, DONE, ERROR, EXEC, OK } from '../request/codes.js';
import { CTX } from '../request/context.js';
import { fail, queueFlush } from '../request/output.js';
import { headersOf } from '../request/headers.js';
import { specialAnswer, dropValidators, special } from '../request/special.js';
import { ACCESS_SLOT, SLOTS } from '../request/pipe.js';
import { logReq } from '../request/report.js';
import { NO_EXIT, type Req } from '../request/req.js';
import { parseTarget } from '../request/uri.js';
import { errorPageFor } from './error_page.js';
import { Pending } from './pending.js';
import { capture } from './script.js';
import { applyRealIp } from './realip.js';

/** nginx's limit on internal redirects and location re-finds per request. */
const MAX_CYCLES = 10;

/** Runs a request from the top: server-level ops, then its location. */
export function start(r: Req): void {
  r.loc = r.server.defaults;
  const ops = r.w.serverOps.get(r.server);
  // Nothing at the server level: locate() sets the pipe (one lookup a request less).
  if (ops === undefined && r.loc.realIp === null) return locate(r);
  r.pipe = r.w.pipes.get(r.loc)!;
  // realip with the server's settings, before anything reads $remote_addr (nginx's post-read).
  if (r.loc.realIp !== null) applyRealIp(r, r.loc.realIp);
  if (ops === undefined) return locate(r);
  r.phase = CTX.set;
  const rc = ops(r);
  if (typeof rc === 'number') return afterServerOps(r, rc);
  rc.then((v) => afterServerOps(r, v), (e: unknown) => crash(r, e));
}

function afterServerOps(r: Req, rc: number): void {
  // A server-level rewrite only changes the URI the location is found with.
  r.uriChanged = false;
  if (rc === OK) locate(r);
  else conclude(r, rc);
}

function locate(r: Req): void {
  const found = locateIn(r.server, r.uri);
  const loc = found.loc ?? r.server.defaults;
  if (found.m !== null) capture(r, found.m);
  r.loc = loc;
  r.pipe = r.w.pipes.get(loc)!;
  if (loc.internal && !r.internal) return conclude(r, 404);
  if (r.ex.bodyTooLarge === true && r.parent === null) return bodyTooLarge(r);
  advance(r, 0);
}

/** A Content-Length over client_max_body_size: 413, the body dropped unread (nginx discards it),
 *  once; an error_page target for it runs without a body. */
function bodyTooLarge(r: Req): void {
  r.ex.bodyTooLarge = false;
  r.body = null;
  conclude(r, 413);
}

function advance(r: Req, i: number): void {
  for (; i < SLOTS; i++) {
    if (i === ACCESS_SLOT) {
      if (r.uriChanged) return postRewrite(r);
      if (r.parent !== null) continue; // subrequests skip the access phase, as in nginx
    }
    const pipe = r.pipe;
    const step = pipe.steps[i];
    if (step === null) continue;
    // rewrite_by_js after a `rewrite` that changed the URI: skipped, as OpenResty does.
    if (i === pipe.jsRewriteAt && r.uriChanged) continue;
    const rc = step(r);
    if (typeof rc !== 'number') {
      // A handler's run that waits calls stepDone itself: no promise, no closure.
      if (rc instanceof Pending) return rc.onto(stepDone, i);
      const at = i;
      rc.then((v) => (v === OK || v === DECLINED ? advance(r, at + 1) : conclude(r, v)), (e: unknown) => crash(r, e));
      return;
    }
    if (rc !== OK && rc !== DECLINED) return conclude(r, rc);
  }
  finish(r);
}

/** Step `at` ended with `rc` after waiting: on to the next one, or the request ends. */
function stepDone(rc: number, r: Req, at: number): void {
  if (rc === OK || rc === DECLINED) advance(r, at + 1);
  else conclude(r, rc);
}

/** nginx's post-rewrite: a URI changed by `rewrite` is looked up again (at most 10 times). */
function postRewrite(r: Req): void {
  r.uriChanged = false;
  if (++r.cycles > MAX_CYCLES) {
    logReq(r, 'error', `rewrite or internal redirection cycle while processing "${r.uri}"`);
    return conclude(r, 500);
  }
  locate(r);
}

/** A step failed in a way it did not handle itself (a bug here, not in a handler). */
function crash(r: Req, e: unknown): void {
  logReq(r, 'alert', `request failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  conclude(r, ERROR);
}

/** Acts on a step's result: finish, special response, internal redirect. */
export function conclude(r: Req, rc: number): void {
  // A raw request socket's request ends with its handler, whatever it returned or threw (nginx
  // closes the connection; a throw was logged by the step).
  if (r.raw !== null) return finish(r);
  if (rc === OK || rc === DONE || rc === DECLINED) return finish(r);
  if (rc === EXEC) return internalRedirect(r);
  if (rc === ERROR) {
    // A subrequest whose head counts as sent (its output began) keeps its status and what it
    // printed; lua marks the capture truncated (observed: `ngx.say("t")` then a throw gives 200,
    // "t\n", truncated).
    if (r.parent !== null && r.headerSent && !r.cut) {
      r.truncated = true;
      return finish(r);
    }
    if (r.headerWritten || r.cut) return cut(r);
    if (outputSent(r)) return terminate(r);
    return error(r, 500);
  }
  // nginx's 444, and 408 / 499 (ngx_http_finalize_request terminates the request for those):
  // close the connection without a response.
  // $status is that code (the access log says 444 / 408 / 499, as nginx's).
  if ((rc === 444 || rc === 408 || rc === 499) && r.parent === null) {
    if (outputSent(r) || r.headerWritten) return terminate(r);
    r.status = rc;
    return cut(r);
  }
  // ... in a subrequest they terminate the main request (nginx's ngx_http_terminate_request; lua
  // passes these codes on): its connection closes with nothing more sent, the capture ends.
  if ((rc === 444 || rc === 408 || rc === 499) && r.parent !== null) {
    fail(r.main, null);
    r.truncated = true;
    return cut(r);
  }
  if (rc > 0 && rc < 200 && r.parent === null) return abandon(r);
  // ngx.exit(204) after output: lua sends no end of the body for a 204 and nginx's special
  // response then finds the head sent, so the request is terminated.
  if (rc === 204 && outputSent(r)) return terminate(r);
  if (r.headerSent) {
    // OpenResty keeps the status already sent; the request just ends.
    const sent = r.status || 200;
    if (rc !== sent && rc >= 300) {
      logReq(r, 'error', `attempt to set status ${rc} via ngx.exit after sending out the response status ${sent}`);
    }
    return finish(r);
  }
  if (rc >= 200 && rc < 300) {
    // 204 is a special response to nginx: the handler's validators go (observed with lua).
    if (rc === 204 && r.parent === null) {
      dropValidators(r);
      r.noContent = true;
      // nor a type, not even the handler's (header_filter reads none): '' is "no type" (head-list.ts)
      headersOf(r).set('Content-Type', '');
    }
    // lua sends the head of another 2xx as it is: an ngx.status set before stays (observed:
    // `ngx.status = 404; ngx.exit(201)` answers 404); 204 is nginx's special response.
    if (rc === 204 || r.status === 0) r.status = rc;
    // a 204 sends no body, so no end of one: lua marks its capture truncated
    if (rc === 204 && r.parent !== null) r.truncated = true;
    r.headerSent = true;
    return finish(r);
  }
  error(r, rc >= 100 ? rc : 500);
}

/** An error status: the location's error_page for it if there is one, else nginx's page. */
function error(r: Req, status: number): void {
  // nginx turns keep-alive off before it looks for an error_page: the page closes too.
  specialAnswer(r, status);
  const target = r.errorPageUsed ? null : errorPageFor(r, status);
  if (target === null) {
    // The new error answers with its own status, not an earlier error page's (nginx sets
    // err_status to each error; seen with an error page that itself fails, on nginx 1.22).
    r.errStatus = 0;
    special(r, status);
    return finish(r);
  }
  // nginx's recursive_error_pages: the location where this error happened decides whether the
  // error page's own errors may use error_page again (the cycle limit still bounds them).
  r.errorPageUsed = r.loc.output.recursiveErrorPages !== true;
  if (target.redirect !== null) {
    if (r.parent === null) r.ex.lateLocation = true;
    special(r, target.status);
    return finish(r);
  }
  r.execUri = target.uri;
  r.execArgs = null;
  if (r.method !== 'HEAD') r.method = 'GET';
  // The target answers with the error's status unless error_page said otherwise (nginx's err_status).
  internalRedirect(r, target.status);
}

/**
 * ngx.exit(N) with 0 < N < 200: nginx finalizes the request with that code, which is neither a
 * success nor an error to it, so nothing more goes out: output not flushed yet is dropped (the
 * head too, if it had not gone), a chunked body gets no end, and the connection waits for the
 * next request (observed on nginx 1.22 + lua-nginx-module; no error-log line).
 */
function abandon(r: Req): void {
  r.out = null;
  r.outLen = 0;
  r.page = null;
  r.eofSent = true;
  if (!r.headerWritten) r.status = 0; // $status "000", as nginx logs it
  const p = r.pending ?? undefined;
  const end = (): void => {
    if (r.ex.abandon) r.ex.abandon();
    else r.ex.destroy();
    ended(r);
  };
  if (p === undefined) return end();
  p.then(end, end);
}

/**
 * The handler's output made the head count as sent (HTTP/1.1: lua buffers HTTP/1.0 answers whole
 * and sends their head at the end), so nginx can no longer answer with a page of its own.
 */
function outputSent(r: Req): boolean {
  return r.headerSent && r.parent === null && r.ex.httpVersion !== '1.0';
}

/**
 * nginx's ngx_http_terminate_request once the head counts as sent: the output still buffered is
 * lost and the connection closes (observed on nginx 1.22 + lua: `ngx.say("a")` then a throw, an
 * `ngx.redirect` or `ngx.exit(204)` sends nothing). The head of a HEAD, a 204 or a 304 went
 * out at the first output (nginx sends a head-only answer's head at once): it arrives first.
 */
function terminate(r: Req): void {
  // A body a filter ended (ngx.arg[2] = true) went out whole with nginx's last buffer: the
  // request closes after it.
  if (r.outEof && !r.cut) {
    r.ex.closeAfter?.();
    return finish(r, false);
  }
  const headOnly = r.method === 'HEAD' || r.status === 204 || r.status === 304;
  if (!headOnly || r.headerWritten) return cut(r);
  r.ex.closeAfter?.();
  finish(r, false);
}

/** Ends the response abruptly so the client can tell it is incomplete. */
function cut(r: Req): void {
  fail(r, null);
  ended(r);
}

/**
 * Sends what is left (eof), then runs the log phase. `complete`: nginx's normal finalization
 * (not a terminated request), so the request is complete once all went out to a client still there.
 */
function finish(r: Req, complete = true): void {
  if (r.raw !== null) {
    r.raw.close();
    return ended(r);
  }
  // Asked before the end and after: node:http's exchange stops counting a client gone once ended.
  const ok = complete && !r.ex.aborted;
  const p = queueFlush(r, true);
  if (p === undefined) return endedAfterFlush(r, ok);
  p.then(() => endedAfterFlush(r, ok), (e: unknown) => { logReq(r, 'alert', `output failed: ${String(e)}`); ended(r); });
}

/** `ok`: nothing cut the request before its last flush (finish). */
function endedAfterFlush(r: Req, ok: boolean): void {
  if (ok && !r.ex.aborted) r.completed = true;
  ended(r);
}

function ended(r: Req): void {
  if (r.finished) return;
  r.finished = true;
  // Cosockets the request left open are closed, not pooled (OpenResty's request cleanup).
  const fns = r.cleanups;
  r.cleanups = null;
  runCleanups(fns);
  // Subrequests have no log phase unless log_subrequest is on (nginx's ngx_http_log_request).
  const log = r.parent === null || r.loc.std.logSubrequest ? r.pipe.log : null;
  if (log === null) return removeBodyFiles(r);
  r.phase = CTX.log;
  const p = log(r);
  if (p === undefined) return removeBodyFiles(r);
  p.then(() => removeBodyFiles(r), (e: unknown) => {
    logReq(r, 'alert', `log phase failed: ${String(e)}`);
    removeBodyFiles(r);
  });
}

/** Body temp files go after the log phase: nginx's log_by_lua can still read get_body_file(). */
function removeBodyFiles(r: Req): void {
  const fns = r.bodyCleanups;
  r.bodyCleanups = null;
  runCleanups(fns);
}

/** ngx.exec, error_page, try_files, an index file, a `set_uri(..., true)` jump: find the location again. */
function internalRedirect(r: Req, errStatus = 0): void {
  const target = r.execUri!;
  r.execUri = null;
  r.exitCode = NO_EXIT;
  r.internal = true;
  if (++r.cycles > MAX_CYCLES) {
    logReq(r, 'error', `rewrite or internal redirection cycle while internally redirecting to "${target}"`);
    special(r, 500);
    return finish(r);
  }
  if (r.headerSent) {
    // Output was already produced: nginx cannot redirect any more either.
    logReq(r, 'error', `attempt to redirect internally to "${target}" after sending out the response headers`);
    return finish(r);
  }
  if (r.jump) {
    r.jump = false;
    r.execArgs = null;
    return locate(r);
  }
  // A redirect starts a new ctx, as nginx does. ngx.exec, try_files, an index and an error page
  // keep the status and headers set so far (nginx's internal redirect leaves headers_out alone:
  // seen on 1.22 + lua, error_page after ngx.exit(404) or a throw too).
  r.ctx = undefined;
  r.lengthless = false;
  // 494-497 go out (and are logged) as 400, as nginx's err_status for them
  r.errStatus = wireStatus(errStatus);
  const extra = r.execArgs;
  r.execArgs = null;
  if (target.startsWith('@')) {
    if (extra) logReq(r, 'warn', `query strings ${extra} ignored when exec'ing named location ${target}`);
    const loc = findNamedLocation(r.server, target);
    if (loc === null) {
      logReq(r, 'error', `named location "${target}" not found`);
      special(r, 500);
      return finish(r);
    }
    r.loc = loc;
    r.pipe = r.w.pipes.get(loc)!;
    return advance(r, 0);
  }
  const t = parseTarget(target);
  if (t === null) { special(r, 400); return finish(r); }
  r.uri = t.uri;
  // `ngx.exec("/a?x=1", "y=2")` gives x=1&y=2, as OpenResty does.
  r.args = extra === null || extra === '' ? t.args : t.args ? `${t.args}&${extra}` : extra;
  // $args of a target without them: "" when it ends in `?`, else none (nginx splits the URI so)
  if (!extra) r.argsMark = target.includes('?');
  start(r);
}
