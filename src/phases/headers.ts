// The response-header directives at run time (config/directives-headers.ts): more_set_headers /
// more_clear_headers run before header_filter_by_js, add_header and expires after it, the order
// nginx 1.22 runs them with the lua and headers-more modules loaded (observed: header_filter_by_lua
// sees more_set_headers' headers, not add_header's). more_*_input_headers run at the end of the
// rewrite phase (a step before access), as headers-more's.

import type { AddHeaderSpec, ExpiresSpec, LocationConf, MoreHeader, MoreInputOp, MoreOutputOp } from '../config/types.js';
import { getVar } from '../api/vars.js';
import { useridFilter } from '../api/userid.js';
import { DECLINED } from '../request/codes.js';
import type { HeaderStore } from '../request/headers.js';
import { clearInHeaderPrefix, setInHeader } from '../request/in-headers.js';
import { headersOf } from '../request/headers.js';
import type { OutHeaders } from '../request/pipe.js';
import type { Req } from '../request/req.js';
import type { Step } from './phase.js';
import { compileTemplate, type Template } from './template.js';

/** The statuses add_header (without `always`) and expires apply to (nginx's headers filter). */
const ADD_STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

type Compiled = { readonly h: MoreHeader; readonly value: Template };
const compile = (hs: readonly MoreHeader[]): Compiled[] => hs.map((h) => ({ h, value: compileTemplate(h.value) }));

export function buildOutHeaders(loc: LocationConf): OutHeaders | null {
  const { add, trailer, expires, moreOutput, charset } = loc.headers;
  const before = moreOutput ? moreStep(moreOutput) : null;
  const adds = add || expires ? addStep(add ?? [], expires ?? null) : null;
  const trails = trailer ? trailerStep(trailer) : null;
  const cs = charset ? charsetStep(charset.name, charset.types) : null;
  const uid = loc.output.userid;
  // the userid filter runs after add_header's (its Set-Cookie comes after their lines)
  const userid = uid === undefined ? null : (r: Req): void => useridFilter(r, uid, getVar);
  const steps = [adds, trails, cs, userid].filter((f): f is (r: Req) => void => f !== null);
  const after = steps.length === 0 ? null : steps.length === 1 ? steps[0]! : (r: Req) => { for (const f of steps) f(r); };
  return before || after ? { before, after } : null;
}

/**
 * add_trailer, as nginx's headers filter and its trailers body filter: when a line applies to the
 * status (or is `always`) and its value as written is not empty, the answer expects trailers, so an
 * HTTP/1.1 answer with a body is chunked (its length cleared); the values are computed at the end of
 * the body, for the status then, and an empty one sends no line. HEAD, HTTP/1.0 and bodiless
 * answers have no chunks to carry them; HTTP/2 keeps its length and sends them (observed on 1.22).
 */
function trailerStep(specs: readonly AddHeaderSpec[]): (r: Req) => void {
  const list = specs.map((a) => ({ a, value: compileTemplate(a.value) }));
  return (r) => {
    if (r.parent !== null) return;
    const listed = ADD_STATUSES.has(r.headersStatus || r.status);
    if (!list.some(({ a }) => (listed || a.always) && a.value !== '')) return;
    r.ex.trailers = () => {
      const now = ADD_STATUSES.has(r.status);
      const out: Array<readonly [string, string]> = [];
      for (const { a, value } of list) {
        if (!now && !a.always) continue;
        const v = value(r);
        if (v !== '') out.push([a.name, v]);
      }
      return out;
    };
    const v = r.ex.httpVersion;
    const s = r.status;
    if (v === '1.0' || v === '0.9' || v.startsWith('2') || r.method === 'HEAD' || r.headerOnly || s < 200 || s === 204 || s === 304
      || r.loc.std.noChunked) return;
    r.trailerChunks = true;
    headersOf(r).delete('content-length');
  };
}

/** The response's type without parameters, as -t compares it ('' when it has none). */
function typeOf(r: Req, h: HeaderStore, given?: string): string {
  const v = given ?? h.get('content-type');
  const t = v === undefined ? (r.status === 204 || r.status === 304 ? '' : r.loc.defaultType) : Array.isArray(v) ? v[0] : v;
  const semi = t.indexOf(';');
  return (semi < 0 ? t : t.slice(0, semi)).trim().toLowerCase();
}

function moreStep(ops: readonly MoreOutputOp[]): (r: Req) => void {
  const compiled = ops.map((op) => ({ op, headers: compile(op.headers) }));
  return (r) => {
    const h = headersOf(r);
    for (const { op, headers } of compiled) {
      if (op.statuses.length > 0 && !op.statuses.includes(r.status)) continue;
      if (op.types.length > 0 && !op.types.includes(typeOf(r, h))) continue;
      for (const c of headers) setOut(r, h, c);
    }
  };
}

/** Sets or clears one header; a cleared Server or Content-Type is an empty value, which the
 *  exchange and headerList leave out instead of putting their defaults. */
function setOut(r: Req, h: HeaderStore, c: Compiled): void {
  if (c.h.prefix) {
    const p = c.h.name.toLowerCase();
    for (const k of [...h.keys()]) if (k.startsWith(p)) h.delete(k);
    if ('server'.startsWith(p)) h.set('Server', '');
    return;
  }
  const v = c.value(r);
  const key = c.h.name.toLowerCase();
  if (v !== '') h.set(c.h.name, v);
  else if (key === 'server' || key === 'content-type') h.set(c.h.name, '');
  else h.set(c.h.name, null);
}

function addStep(adds: readonly AddHeaderSpec[], expires: ExpiresSpec | null): (r: Req) => void {
  const list = adds.map((a) => ({ a, key: a.name.toLowerCase(), value: compileTemplate(a.value) }));
  return (r) => {
    // nginx's headers filter leaves subrequests alone.
    if (r.parent !== null) return;
    const listed = ADD_STATUSES.has(r.headersStatus || r.status);
    const h = headersOf(r);
    if (expires !== null && listed) setExpires(h, expires);
    for (const { a, key, value } of list) {
      if (!listed && !a.always) continue;
      const v = value(r);
      if (key === 'last-modified' || key === 'etag') {
        // These replace the response's own (and an empty value removes it), as nginx's.
        h.set(a.name, v === '' ? null : v);
        continue;
      }
      if (v === '') continue;
      // nginx adds a second Content-Type next to the one it would send.
      if (key === 'content-type' && !h.has('content-type') && r.status !== 204 && r.status !== 304) {
        h.set('Content-Type', r.loc.defaultType);
      }
      h.add(a.name, v);
    }
    // nginx's range filter turned the 200 into a 416 after this filter ran: its page goes through
    // the header filters again, so the `always` lines are sent twice (observed on nginx 1.22).
    if (r.headersStatus !== 0 && !ADD_STATUSES.has(r.status)) {
      const again: Array<readonly [string, string]> = [];
      for (const { a, key, value } of list) {
        if (!a.always || key === 'last-modified' || key === 'etag' || key === 'content-type') continue;
        const v = value(r);
        if (v !== '') again.push([a.name, v]);
      }
      r.againHeaders = again.length > 0 ? again : null;
    }
  };
}

/** nginx's charset filter (after the headers filter): `; charset=NAME` on a Content-Type of the
 *  listed types that has no charset yet; no recoding. */
function charsetStep(name: string, types: readonly string[]): (r: Req) => void {
  const any = types.includes('*');
  return (r) => {
    // nginx leaves a 301's and a 302's type alone (observed on 1.22; 303, 307, 308 get it).
    const status = r.headersStatus || r.status;
    if (status === 301 || status === 302) return;
    const h = headersOf(r);
    const v = h.get('content-type');
    let t = Array.isArray(v) ? v[0] : v;
    if (t === undefined) {
      // The default type headerList would add, so it gets the charset too.
      if (r.proxied || r.status === 204 || r.status === 304 || r.headerOnly) return;
      t = r.loc.defaultType;
    }
    if (t === '' || /;\s*charset\s*=/i.test(t)) return;
    if (!any && !types.includes(typeOf(r, h, t))) return;
    h.set('Content-Type', `${t}; charset=${name}`);
  };
}

const EPOCH = 'Thu, 01 Jan 1970 00:00:01 GMT';
const MAX = 'Thu, 31 Dec 2037 23:55:55 GMT';

/** Expires and Cache-Control as nginx computes them; they replace the response's own. */
function setExpires(h: HeaderStore, e: ExpiresSpec): void {
  if (e.kind === 'epoch') return setBoth(h, EPOCH, 'no-cache');
  if (e.kind === 'max') return setBoth(h, MAX, 'max-age=315360000');
  const now = Math.floor(Date.now() / 1000);
  let at: number;
  if (e.kind === 'daily') {
    // The next time this time of day comes (local time, as nginx's ngx_next_time).
    const d = new Date(now * 1000);
    d.setHours(0, 0, 0, 0);
    at = Math.floor(d.getTime() / 1000) + e.seconds;
    if (at <= now) {
      d.setDate(d.getDate() + 1);
      at = Math.floor(d.getTime() / 1000) + e.seconds;
    }
  } else {
    const lm = e.modified ? Date.parse(String(h.get('last-modified') ?? '')) : NaN;
    at = (Number.isNaN(lm) ? now : Math.floor(lm / 1000)) + e.seconds;
  }
  const expiresAt = new Date(at * 1000).toUTCString();
  if ((e.kind === 'after' && e.seconds < 0) || at < now) return setBoth(h, expiresAt, 'no-cache');
  setBoth(h, expiresAt, `max-age=${at - now}`);
}

function setBoth(h: HeaderStore, expires: string, cc: string): void {
  h.set('Expires', expires);
  h.set('Cache-Control', cc);
}

/** more_set_input_headers / more_clear_input_headers, as one step before access. */
export function inputHeadersStep(loc: LocationConf): Step | null {
  const ops = loc.headers.moreInput;
  if (!ops) return null;
  const compiled = ops.map((op: MoreInputOp) => ({ op, headers: compile(op.headers) }));
  return (r) => {
    for (const { op, headers } of compiled) {
      if (op.types.length > 0) {
        const ct = r.inHeaders['content-type'];
        const t = (Array.isArray(ct) ? ct[0] : ct ?? '').split(';')[0].trim().toLowerCase();
        if (!op.types.includes(t)) continue;
      }
      for (const c of headers) {
        const key = c.h.name.toLowerCase();
        if (c.h.prefix) {
          clearInHeaderPrefix(r, key);
          continue;
        }
        if (op.replace && r.inHeaders[key] === undefined) continue;
        const v = c.value(r);
        setInHeader(r, c.h.name, v === '' ? [] : [v]);
      }
    }
    return DECLINED;
  };
}
