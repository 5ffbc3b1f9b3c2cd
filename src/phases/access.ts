// The access phase, with nginx's preaccess before it: realip (location settings), limit_req and
// limit_conn (limits.ts); then the access handlers in nginx's order: allow/deny, auth_basic,
// auth_request, then access_by_js_* (lua's access handler runs last; first with
// access_by_js_no_postpone).
// `satisfy all` stops at the first that refuses; `satisfy any` lets the request on at the first
// that allows, and otherwise answers the refusal (401 before 403). ngx.exit(status >= 200) ends
// the request here; ngx.exit(ngx.OK) goes on to the next phase.

import type { LocationConf } from '../config/types.js';
import { DECLINED, OK } from '../request/codes.js';
import { CTX } from '../request/context.js';
import { isPromise } from '../request/interrupt.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { checkRules } from './access-rules.js';
import { authBasic } from './auth-basic.js';
import { authRequest } from './auth-request.js';
import { handlerStep } from './invoke.js';
import { limitsStep } from './limits.js';
import type { BuildCtx, PhaseModule, Step } from './phase.js';
import { applyRealIp } from './realip.js';

const FORBIDDEN = 'access forbidden by rule';

/** Runs `hs` from `i` as satisfy all / any says; `code` is satisfy any's refusal so far. */
function runAll(r: Req, hs: readonly Step[], any: boolean, i: number, code: number): number | Promise<number> {
  for (; i < hs.length; i++) {
    const rc = hs[i](r);
    if (isPromise(rc)) {
      const at = i;
      return rc.then((v) => next(r, hs, any, at, code, v));
    }
    const out = settle(r, any, code, rc);
    if (out.done) return out.rc;
    code = out.code;
  }
  return finish(r, code);
}

function next(r: Req, hs: readonly Step[], any: boolean, at: number, code: number, rc: number): number | Promise<number> {
  const out = settle(r, any, code, rc);
  return out.done ? out.rc : runAll(r, hs, any, at + 1, out.code);
}

function settle(r: Req, any: boolean, code: number, rc: number): { done: true; rc: number } | { done: false; code: number } {
  if (!any) return rc === OK || rc === DECLINED ? { done: false, code } : { done: true, rc };
  if (rc === OK) return { done: true, rc: OK };
  if (rc === DECLINED) return { done: false, code };
  if (rc === 403 || rc === 401) return { done: false, code: code === 401 ? 401 : rc };
  return { done: true, rc };
}

/** satisfy any's end (nginx's post-access): the refusal, a 403 logged as the rules' own. */
function finish(r: Req, code: number): number {
  if (code === 403) logReq(r, 'error', FORBIDDEN);
  return code === 0 ? OK : code;
}

type AccessPart = Pick<LocationConf, 'accessRules' | 'satisfyAny' | 'authBasic' | 'authRequest'>;

/** The access handlers of `a` in nginx's order, as one step (null: nothing to run). */
function accessStep(a: AccessPart, js: Step | null, jsFirst: boolean): Step | null {
  const hs: Step[] = [];
  const any = a.satisfyAny;
  const rules = a.accessRules;
  if (rules.length > 0) {
    hs.push((r) => {
      const rc = checkRules(r, rules);
      if (rc === 403 && !any) logReq(r, 'error', FORBIDDEN);
      return rc;
    });
  }
  const auth = a.authBasic;
  if (auth !== null) hs.push((r) => authBasic(r, auth));
  const sub = a.authRequest;
  if (sub !== null) hs.push((r) => authRequest(r, sub));
  // access_by_js_no_postpone: the JS handler runs first, before allow/deny (as lua's does).
  if (js !== null) {
    if (jsFirst) hs.unshift(js);
    else hs.push(js);
  }
  if (hs.length === 0) return null;
  if (hs.length === 1 && !any) return hs[0];
  return (r) => runAll(r, hs, any, 0, 0);
}

export const accessPhase: PhaseModule<Step> = {
  name: 'access',
  bit: CTX.access,
  async build(loc: LocationConf, b: BuildCtx): Promise<Step | null> {
    const spec = loc.handlers.access;
    const js = spec ? handlerStep(await b.loader.load(spec, loc.jsCodeCache), CTX.access) : null;
    const jsFirst = b.conf.http?.accessNoPostpone ?? false;
    const own = accessStep(loc, js, jsFirst);
    // limit_except: a method it does not name gets the block's settings (nginx's limit_except conf).
    const le = loc.limitExcept;
    const other = le === null ? null : accessStep(le.access, js, jsFirst);
    const methods = le === null ? null : new Set(le.methods);
    const real = loc.realIp;
    const limits = loc.limits !== null && b.conf.http ? limitsStep(loc.limits, b.conf.http) : null;
    if (own === null && other === null && real === null && limits === null) return null;
    if (methods === null && real === null && limits === null) return own;
    const access = (r: Req): number | Promise<number> => {
      const step = methods !== null && !methods.has(r.method) ? other : own;
      return step === null ? DECLINED : step(r);
    };
    return (r) => {
      if (real !== null) applyRealIp(r, real);
      if (limits === null) return access(r);
      const rc = limits(r);
      if (isPromise(rc)) return rc.then((v) => (v === DECLINED ? access(r) : v));
      return rc === DECLINED ? access(r) : rc;
    };
  },
};
