// The rewrite module's script, in conf order: `set $v "template"`, `set_by_js_* $v`, `return`,
// `rewrite`, `break` and `if (...) { ... }`. It runs at server level before the location is
// found and at location level in the rewrite phase (before rewrite_by_js, unless
// rewrite_by_js_no_postpone). A location `if` that matches makes its block's settings (handlers,
// root ...) the request's from there on, as nginx's "location if" does.

import fs from 'node:fs';
import type { IfCondition, LocationConf, RewriteOp } from '../config/types.js';
import { CTX } from '../request/context.js';
import { DONE, ERROR, OK } from '../request/codes.js';
import { INTERRUPT } from '../request/interrupt.js';
import { emitWhole } from '../request/output.js';
import { absoluteUrl } from '../request/absolute-url.js';
import { headersOf } from '../request/headers.js';
import { handlerFailure } from '../request/failure.js';
import { logReq } from '../request/report.js';
import { setLimitRate } from '../request/limit-rate.js';
import type { Req } from '../request/req.js';
import { isPromise } from '../request/interrupt.js';
import { setCall } from './invoke.js';
import type { LoadedHandler } from './loader.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { compileTemplate, type Template } from './template.js';

export const scriptPhase: PhaseModule<Step> = {
  name: 'set',
  bit: CTX.set,
  build: (loc: LocationConf, b: BuildCtx) => buildScript(loc.rewriteOps, b, loc.jsCodeCache, loc.std.rewriteLog === true),
};

/** An op's result besides OK and the codes that end the request: stop the script, go on. */
const STOP = -200;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One step running `ops` in order; it stops at `break`, `rewrite ... last|break` or an op that
 * ends the request. `log`: rewrite_log of the location (or the server, for the server's script).
 */
export async function buildScript(ops: readonly RewriteOp[], b: BuildCtx, codeCache: boolean, log = false): Promise<Step | null> {
  if (ops.length === 0) return null;
  const seq = await compileOps(ops, b, codeCache, log);
  return (r) => {
    const rc = seq(r);
    if (typeof rc === 'number') return rc === STOP ? OK : rc;
    return rc.then((v) => (v === STOP ? OK : v));
  };
}

async function compileOps(ops: readonly RewriteOp[], b: BuildCtx, codeCache: boolean, log: boolean): Promise<Step> {
  const steps: Step[] = [];
  for (const op of ops) steps.push(await compileOp(op, b, codeCache, log));
  return steps.length === 1 ? steps[0] : sequence(steps);
}

async function compileOp(op: RewriteOp, b: BuildCtx, codeCache: boolean, log: boolean): Promise<Step> {
  switch (op.op) {
    case 'set': {
      const name = op.variable;
      const value = compileTemplate(op.value);
      return (r) => { assign(r, name, value(r)); return OK; };
    }
    case 'return': {
      const code = op.code;
      const text = op.text === undefined ? null : compileTemplate(op.text);
      return (r) => returnOp(r, code, text === null ? undefined : text(r));
    }
    case 'break':
      return () => STOP;
    case 'rewrite':
      return rewriteOp(op, log);
    case 'if': {
      const test = condition(op.cond, log);
      const inner = op.ops.length === 0 ? null : await compileOps(op.ops, b, codeCache, log);
      const loc = op.loc;
      const then = (r: Req, yes: boolean): number | Promise<number> => {
        if (!yes) return OK;
        if (loc !== null) {
          r.loc = loc;
          r.pipe = r.w.pipes.get(loc)!;
        }
        return inner === null ? OK : inner(r);
      };
      return (r) => {
        const t = test(r);
        return typeof t === 'boolean' ? then(r, t) : t.then((yes) => then(r, yes));
      };
    }
    default: {
      const h = await b.loader.load(op.handler, codeCache);
      const args = (op.handler.args ?? []).map((a) => compileTemplate(a));
      const name = op.handler.variable ?? '';
      return (r) => setByJs(r, h, name, args);
    }
  }
}

function sequence(steps: Step[]): Step {
  const next = (r: Req, i: number): number | Promise<number> => {
    for (; i < steps.length; i++) {
      const rc = steps[i](r);
      if (typeof rc !== 'number') {
        const at = i;
        return rc.then((v) => (v === OK ? next(r, at + 1) : v));
      }
      if (rc !== OK) return rc;
    }
    return OK;
  };
  return (r) => next(r, 0);
}

/** `set` declares its variable: no check is needed. $args and $limit_rate are nginx's changeable
 *  built-ins (the conf refuses the others): set, they change the request's query and rate. */
function assign(r: Req, name: string, value: string): void {
  if (name === 'args') { r.args = value; return; }
  if (name === 'limit_rate') { setLimitRate(r, value); return; }
  (r.vars ??= Object.create(null) as Record<string, string>)[name] = value;
}

/** nginx's `return`: 30x + URL sets Location; other codes + text give that body. */
export function returnOp(r: Req, code: number, text: string | undefined): number {
  if (REDIRECTS.has(code) && text !== undefined) {
    const url = absoluteUrl(r, text);
    // as given (not made absolute): nginx's header list, after Connection
    if (url === text && r.parent === null) r.ex.lateLocation = true;
    headersOf(r).set('Location', url);
    return code;
  }
  // nginx: 304 sends the default type and the text's length (0 without one), never a body.
  if (code === 304) {
    const h = headersOf(r);
    h.set('Content-Type', r.loc.defaultType);
    h.set('Content-Length', String(text === undefined ? 0 : Buffer.byteLength(text)));
    r.status = code;
    r.headerOnly = true;
    r.headerSent = true;
    return DONE;
  }
  // Below 200 a length is sent only when set (output.ts headerList): `return` sets it, as nginx's does.
  if (code < 200) headersOf(r).set('Content-Length', String(text === undefined ? 0 : Buffer.byteLength(text)));
  if (text !== undefined) {
    r.status = code;
    emitWhole(r, text);
    return DONE;
  }
  // nginx: a 3xx that is no redirect (300, 305, 306...) is sent as a 2xx, an empty text/plain body.
  if (code >= 400 || REDIRECTS.has(code)) return code;
  r.status = code;
  r.headerSent = true;
  return DONE;
}

/** A matched regex's groups become $1.. and its named captures variables, as nginx's do. */
export function capture(r: Req, m: RegExpExecArray): void {
  r.captures = m;
  // by the lowercased name, as nginx declares them
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) (r.vars ??= Object.create(null) as Record<string, string>)[k.toLowerCase()] = v ?? '';
}

/**
 * `rewrite REGEX REPLACEMENT [flag]` against $uri. A replacement starting with http://, https://
 * or $scheme, or the redirect/permanent flags, answer a redirect; otherwise $uri changes (new
 * args in the replacement come first, the old ones follow unless it ends with `?`).
 */
function rewriteOp(op: Extract<RewriteOp, { op: 'rewrite' }>, log: boolean): Step {
  const { regex, replacement, flag } = op;
  const tpl = compileTemplate(replacement);
  const external = /^(https?:\/\/|\$scheme)/.test(replacement);
  return (r) => {
    const m = regex.exec(r.uri);
    if (log) logMatch(r, op.source, r.uri, m !== null);
    if (m === null) return OK;
    capture(r, m);
    let target = tpl(r);
    let keepArgs = true;
    if (target.endsWith('?')) { keepArgs = false; target = target.slice(0, -1); }
    const q = target.indexOf('?');
    let args = q < 0 ? null : target.slice(q + 1);
    const path = q < 0 ? target : target.slice(0, q);
    if (keepArgs && r.args) args = args === null ? r.args : `${args}&${r.args}`;
    if (external || flag === 'redirect' || flag === 'permanent') {
      const loc = args === null || args === '' ? path : `${path}?${args}`;
      const url = absoluteUrl(r, loc);
      // as given (a URL): nginx's header list, after Connection, as `return`'s
      if (url === loc && r.parent === null) r.ex.lateLocation = true;
      headersOf(r).set('Location', url);
      if (log) logReq(r, 'notice', `rewritten redirect: "${loc}"`);
      return flag === 'permanent' ? 301 : 302;
    }
    r.uri = path;
    r.args = args ?? (keepArgs ? r.args : '');
    if (log) logReq(r, 'notice', `rewritten data: "${r.uri}", args: "${r.args}"`);
    r.internal = true;
    if (flag === 'break') { r.uriChanged = false; return STOP; }
    r.uriChanged = true;
    return flag === 'last' ? STOP : OK;
  };
}

/** A condition; only a file test waits (a stat, off the event loop). */
type Test = (r: Req) => boolean | Promise<boolean>;

/** rewrite_log's line for a regex of `rewrite` or `if`, as nginx's script engine words it. */
function logMatch(r: Req, source: string, subject: string, matched: boolean): void {
  logReq(r, 'notice', `"${source}" ${matched ? 'matches' : 'does not match'} "${subject}"`);
}

function condition(c: IfCondition, log: boolean): Test {
  switch (c.kind) {
    case 'var': {
      const v = compileTemplate(c.value);
      return (r) => { const s = v(r); return s !== '' && s !== '0'; };
    }
    case 'eq': {
      const left = compileTemplate(c.left);
      const right = compileTemplate(c.right);
      return (r) => (left(r) === right(r)) !== c.negate;
    }
    case 'regex': {
      const left = compileTemplate(c.left);
      const re = c.regex;
      return (r) => {
        const subject = left(r);
        const m = re.exec(subject);
        if (log) logMatch(r, c.source, subject, m !== null);
        if (m !== null && !c.negate) capture(r, m);
        return (m !== null) !== c.negate;
      };
    }
    default: {
      const path = compileTemplate(c.path);
      const t = c.test;
      return (r) => fileTest(path(r), t).then((yes) => yes !== c.negate);
    }
  }
}

/** `-f`, `-d`, `-e`, `-x` (symbolic links followed, as nginx's stat). */
async function fileTest(p: string, t: 'f' | 'd' | 'e' | 'x'): Promise<boolean> {
  try {
    const st = await fs.promises.stat(p);
    if (t === 'f') return st.isFile();
    if (t === 'd') return st.isDirectory();
    if (t === 'e') return true;
    await fs.promises.access(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function setByJs(r: Req, h: LoadedHandler, name: string, args: Template[]): number | Promise<number> {
  const arg: unknown[] = [undefined];
  for (const a of args) arg.push(a(r));
  r.arg = arg;
  const done = (o: { value: unknown } | { error: unknown }): number => {
    r.arg = null;
    if ('error' in o) {
      if (o.error === INTERRUPT) return OK;
      logReq(r, 'error', handlerFailure(h, o.error));
      return ERROR;
    }
    const x = o.value;
    assign(r, name, x === undefined || x === null ? '' : String(x));
    return OK;
  };
  const o = setCall(r, h);
  return isPromise(o) ? o.then(done) : done(o);
}
