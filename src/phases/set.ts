// The rewrite module's script, in conf order: `set $v "template"`, `set_by_js_* $v`, and
// `return code [text|URL]`. Runs at server level before the location is found and at location
// level after (nginx's server rewrite and rewrite phases).

import type { LocationConf, RewriteOp } from '../config/types.js';
import { CTX } from '../request/context.js';
import { DONE, ERROR, OK } from '../request/codes.js';
import { INTERRUPT, isPromise } from '../request/interrupt.js';
import { call } from './invoke.js';
import type { LoadedHandler } from './loader.js';
import { emit, headersOf } from '../request/output.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { handlerFailure, logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { compileTemplate, type Template } from './template.js';

export const setPhase: PhaseModule<Step> = {
  name: 'set',
  bit: CTX.set,
  build: (loc: LocationConf, b: BuildCtx) => buildOps(loc.rewriteOps, b, loc.jsCodeCache),
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One step running `ops` in order; it stops at the first op that ends the request. */
export async function buildOps(ops: readonly RewriteOp[], b: BuildCtx, codeCache: boolean): Promise<Step | null> {
  if (ops.length === 0) return null;
  const steps: Step[] = [];
  for (const op of ops) {
    if (op.op === 'set') {
      const name = op.variable;
      const value = compileTemplate(op.value);
      steps.push((r) => { assign(r, name, value(r)); return OK; });
    } else if (op.op === 'return') {
      const code = op.code;
      const text = op.text === undefined ? null : compileTemplate(op.text);
      steps.push((r) => returnOp(r, code, text === null ? undefined : text(r)));
    } else {
      const h = await b.loader.load(op.handler, codeCache);
      const args = (op.handler.args ?? []).map((a) => compileTemplate(a));
      const name = op.handler.variable ?? '';
      steps.push((r) => setByJs(r, h, name, args));
    }
  }
  return steps.length === 1 ? steps[0] : sequence(steps);
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

/** `set` declares its variable: no check is needed. */
function assign(r: Req, name: string, value: string): void {
  if (name === 'args' || name === 'query_string') { r.args = value; return; }
  (r.vars ??= Object.create(null) as Record<string, string>)[name] = value;
}

/** nginx's `return`: 30x + URL sets Location; other codes + text give that body. */
export function returnOp(r: Req, code: number, text: string | undefined): number {
  if (REDIRECTS.has(code) && text !== undefined) {
    headersOf(r).set('Location', text);
    return code;
  }
  if (text !== undefined) {
    r.status = code;
    emit(r, text);
    return DONE;
  }
  if (code >= 300) return code;
  r.status = code;
  r.headerSent = true;
  return DONE;
}

function setByJs(r: Req, h: LoadedHandler, name: string, args: Template[]): number | Promise<number> {
  const arg: unknown[] = [undefined];
  for (const a of args) arg.push(a(r));
  r.arg = arg;
  const fail = (e: unknown): number => {
    if (e === INTERRUPT) return OK;
    logReq(r, 'error', handlerFailure(h, e));
    return ERROR;
  };
  let v: unknown;
  try {
    v = call(r, h, CTX.set);
  } catch (e) {
    return fail(e);
  }
  const done = (x: unknown): number => {
    r.arg = null;
    assign(r, name, x === undefined || x === null ? '' : String(x));
    return OK;
  };
  return isPromise(v) ? v.then(done, fail) : done(v);
}
