// proxy_cache_* directives (nginx's proxy cache): the zones at http level and, per level, which
// zone, which key, how long answers stay valid, and when the cache is skipped or served stale.
// The runtime is src/cache (the entries) and src/proxy/cache-*.ts (the request's side).

import type { Directive } from './ast.js';
import type { BlockState, HttpBuilder } from './builders.js';
import type { ProxySettings } from './builders-gateway.js';
import { confError, type DirectiveRow, flagError, invalidValue } from './table.js';
import type { CacheValid, CacheZoneConf, StaleCondition } from './types-cache.js';
import { parseFlag, parseSize, parseTime } from './values.js';

const HSL = ['http', 'server', 'location'] as const;
const STALE = new Set<string>(['error', 'timeout', 'invalid_header', 'updating', 'http_500', 'http_502', 'http_503',
  'http_504', 'http_403', 'http_404', 'http_429']);
const IGNORABLE = new Set(['x-accel-redirect', 'x-accel-expires', 'x-accel-limit-rate', 'x-accel-buffering',
  'x-accel-charset', 'expires', 'cache-control', 'set-cookie', 'vary']);

function proxy(s: BlockState): ProxySettings {
  return (s.settings!.proxy ??= {});
}

function bad(d: Directive, what: string): never {
  throw confError('TRESTY_ERR_CONF_CACHE', what, d);
}

function time(d: Directive, v: string): number {
  const t = parseTime(v);
  if (t === null) throw invalidValue(d, v);
  return t;
}

/** `levels=1:2`: one to three levels of 1 or 2 hex digits each (nginx's rule). */
function levels(d: Directive, v: string): number[] {
  const parts = v.split(':');
  if (parts.length > 3 || parts.some((p) => p !== '1' && p !== '2')) bad(d, `invalid "levels" "levels=${v}"`);
  return parts.map(Number);
}

function cachePath(d: Directive, s: BlockState, abs: (p: string) => string): void {
  const path = abs(d.args[0]);
  let name = '';
  let keysSize = 0;
  let lv: number[] = [];
  let inactive = 600_000;
  let maxSize = 0;
  for (const a of d.args.slice(1)) {
    const eq = a.indexOf('=');
    const k = eq < 0 ? a : a.slice(0, eq);
    const v = eq < 0 ? '' : a.slice(eq + 1);
    if (k === 'levels') lv = levels(d, v);
    else if (k === 'keys_zone') {
      const i = v.lastIndexOf(':');
      const n = i > 0 ? parseSize(v.slice(i + 1)) : null;
      if (i <= 0 || n === null || n === 0) bad(d, `invalid keys zone size "${a}"`);
      name = v.slice(0, i);
      keysSize = n;
    } else if (k === 'inactive') inactive = time(d, v);
    else if (k === 'max_size') {
      const n = parseSize(v);
      if (n === null) bad(d, `invalid max_size value "${a}"`);
      maxSize = n;
    } else if (k === 'use_temp_path') {
      // Temp files always go beside the entries (nginx's `off`): a rename never crosses a filesystem.
      if (parseFlag(v) === null) bad(d, `invalid use_temp_path value "${v}", it must be "on" or "off"`);
    } else if (k === 'min_free' || k === 'manager_files' || k === 'manager_sleep' || k === 'manager_threshold'
      || k === 'loader_files' || k === 'loader_sleep' || k === 'loader_threshold') {
      // The sweeper's and loader's tuning: accepted; tresty's sweeper paces itself.
    } else bad(d, `invalid parameter "${a}"`);
  }
  if (name === '') bad(d, `"${d.name}" must have "keys_zone" parameter`);
  const http = s.http as HttpBuilder;
  const zones = (http.cacheZones ??= new Map());
  if (zones.has(name)) bad(d, `duplicate zone "${name}"`);
  for (const z of zones.values()) if (z.path === path) bad(d, `the same path name "${path}" used in ${z.ref.file}:${z.ref.line} and`);
  const z: CacheZoneConf = { name, path, levels: lv, keysSize, inactive, maxSize, ref: { file: d.file, line: d.line } };
  zones.set(name, z);
}

function valid(d: Directive): CacheValid {
  const t = time(d, d.args[d.args.length - 1]);
  const codes = d.args.slice(0, -1);
  if (codes.length === 0) return { codes: [200, 301, 302], time: t };
  if (codes.length === 1 && codes[0] === 'any') return { codes: 'any', time: t };
  return {
    codes: codes.map((c) => {
      const n = Number(c);
      if (!/^\d{3}$/.test(c) || n < 100 || n > 599) bad(d, `invalid status "${c}"`);
      return n;
    }),
    time: t,
  };
}

function flag(d: Directive): boolean {
  const f = parseFlag(d.args[0]);
  if (f === null) throw flagError(d);
  return f;
}

export const cacheDirectives: readonly DirectiveRow[] = [
  { name: 'proxy_cache_path', contexts: ['http'], args: [2, 12], multiple: true, apply: (d, s, ctx) => cachePath(d, s, ctx.abs) },
  {
    name: 'proxy_cache', contexts: HSL, args: [1, 1],
    apply(d, s) {
      const v = d.args[0];
      if (v === 'off') { proxy(s).cache = null; return; }
      if (v.includes('$')) throw confError('TRESTY_ERR_CONF_UNSUPPORTED', `"proxy_cache" with variables is not supported by tresty`, d);
      proxy(s).cache = v;
      ((s.http as HttpBuilder).cacheUses ??= []).push({ zone: v, ref: { file: d.file, line: d.line } });
    },
  },
  { name: 'proxy_cache_key', contexts: HSL, args: [1, 1], apply(d, s) { proxy(s).cacheKey = d.args[0]; } },
  {
    name: 'proxy_cache_valid', contexts: HSL, args: [1, 16], multiple: true,
    // All of one level's lines go together; an inner level with any replaces them (nginx's merge).
    apply(d, s) { proxy(s).cacheValid = [...proxy(s).cacheValid ?? [], valid(d)]; },
  },
  {
    name: 'proxy_cache_methods', contexts: HSL, args: [1, 8],
    apply(d, s) {
      const m = new Set(['GET', 'HEAD']);
      for (const a of d.args) {
        if (!/^(GET|HEAD|POST)$/i.test(a)) throw invalidValue(d, a);
        m.add(a.toUpperCase());
      }
      proxy(s).cacheMethods = [...m];
    },
  },
  { name: 'proxy_cache_bypass', contexts: HSL, args: [1, 16], multiple: true, apply(d, s) { proxy(s).cacheBypass = [...proxy(s).cacheBypass ?? [], ...d.args]; } },
  { name: 'proxy_no_cache', contexts: HSL, args: [1, 16], multiple: true, apply(d, s) { proxy(s).noCache = [...proxy(s).noCache ?? [], ...d.args]; } },
  {
    name: 'proxy_cache_min_uses', contexts: HSL, args: [1, 1],
    apply(d, s) {
      if (!/^[1-9]\d*$/.test(d.args[0])) throw invalidValue(d, d.args[0]);
      proxy(s).cacheMinUses = Number(d.args[0]);
    },
  },
  {
    name: 'proxy_cache_use_stale', contexts: HSL, args: [1, 12],
    apply(d, s) {
      if (d.args.length === 1 && d.args[0] === 'off') { proxy(s).cacheUseStale = []; return; }
      for (const a of d.args) if (!STALE.has(a)) throw invalidValue(d, a);
      proxy(s).cacheUseStale = [...d.args] as StaleCondition[];
    },
  },
  { name: 'proxy_cache_lock', contexts: HSL, args: [1, 1], apply(d, s) { proxy(s).cacheLock = flag(d); } },
  { name: 'proxy_cache_lock_timeout', contexts: HSL, args: [1, 1], apply(d, s) { proxy(s).cacheLockTimeout = time(d, d.args[0]); } },
  { name: 'proxy_cache_lock_age', contexts: HSL, args: [1, 1], apply(d, s) { proxy(s).cacheLockAge = time(d, d.args[0]); } },
  {
    // Always on in tresty (nginx's default); `off` is not built.
    name: 'proxy_cache_convert_head', contexts: HSL, args: [1, 1],
    apply(d) {
      if (flag(d)) return;
      throw confError('TRESTY_ERR_CONF_UNSUPPORTED', '"proxy_cache_convert_head off" is not supported by tresty: a HEAD goes upstream as GET', d);
    },
  },
  { name: 'proxy_cache_revalidate', contexts: HSL, args: [1, 1], apply(d, s) { proxy(s).cacheRevalidate = flag(d); } },
  {
    name: 'proxy_ignore_headers', contexts: HSL, args: [1, 8],
    apply(d, s) {
      for (const a of d.args) if (!IGNORABLE.has(a.toLowerCase())) throw invalidValue(d, a);
      proxy(s).ignoreHeaders = d.args.map((a) => a.toLowerCase());
    },
  },
];

/** Every proxy_cache names a proxy_cache_path zone (nginx checks this at the end too). */
export function checkCacheZones(http: HttpBuilder): void {
  for (const u of http.cacheUses ?? []) {
    if (!http.cacheZones?.has(u.zone)) throw confError('TRESTY_ERR_CONF_CACHE', `"proxy_cache" zone "${u.zone}" is unknown`, u.ref);
  }
}
