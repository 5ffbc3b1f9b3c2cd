// proxy_cache on the request's side: the key, bypass and no_cache, the lookup (HIT), the lock
// that lets one request fill a missing entry, the fill itself (the answer teed into a new entry
// as it streams to the client), revalidation, and the stale entry served when the upstream fails
// (proxy_cache_use_stale). $upstream_cache_status tells which way the request went.

import type { Entry, EntryMeta } from '../cache/entry.js';
import { freshUntil, headerOf, varyNames } from '../cache/policy.js';
import type { CacheZone, EntryWriter } from '../cache/zone.js';
import type { ProxyCacheConf } from '../config/types-cache.js';
import type { ProxyConf } from '../config/types-gateway.js';
import { isTrestyError } from '../errors.js';
import { logReq } from '../request/report.js';
import type { Req } from '../request/req.js';
import { upstreamVarsOf } from '../request/upstream.js';
import type { ResponseHead } from './parser.js';
import type { Compile, Template } from './request.js';
import { serveEntry, storedHeaders } from './cache-serve.js';
import type { AnswerPlan, BodyTap } from './response.js';

export interface CachePlan {
  readonly conf: ProxyConf;
  readonly zone: CacheZone;
  readonly key: Template;
  readonly bypass: readonly Template[];
  readonly noCache: readonly Template[];
}

/** Sends the request upstream; `extra`: header lines added (a revalidation's conditions). */
export type Upstream = (extra: string) => Promise<number> | number;

/** What the fill of one request knows, for the proxy's tap and refusal hooks. */
interface Fill {
  readonly plan: CachePlan;
  readonly file: string;
  readonly key: string;
  readonly store: boolean;
  readonly stale: Entry | null;
  /** The request went upstream with If-None-Match / If-Modified-Since of `stale`. */
  readonly revalidating: boolean;
}

const fills = new WeakMap<Req, Fill>();

export function cachePlan(conf: ProxyConf, zone: CacheZone, compile: Compile): CachePlan {
  return { conf, zone, key: compile(conf.cacheKey), bypass: conf.cacheBypass.map(compile), noCache: conf.noCache.map(compile) };
}

const anySet = (r: Req, ts: readonly Template[]): boolean => ts.some((t) => { const v = t(r); return v !== '' && v !== '0'; });

function varyMatches(r: Req, m: EntryMeta): boolean {
  for (let i = 0; i < m.vary.length; i++) if (reqHeader(r, m.vary[i]!) !== m.varyValues[i]) return false;
  return true;
}

/**
 * Where the variant of an answer with Vary for this request lives: a file of its own, named by
 * the key and the request's values of the Vary headers (nginx's secondary key), so variants
 * stand side by side. The key's own file holds the variant stored last, which names the headers.
 */
function variantFile(c: CachePlan, key: string, names: readonly string[], r: Req): string {
  return c.zone.file(`${key}\n${names.map((n) => `${n}: ${reqHeader(r, n)}`).join('\n')}`);
}

function reqHeader(r: Req, name: string): string {
  const v = r.inHeaders[name];
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
}

export function cached(r: Req, c: CachePlan, a: AnswerPlan, upstream: Upstream): Promise<number> | number {
  const conf = c.conf;
  if (!conf.cacheMethods.includes(r.method)) return upstream('');
  const st = upstreamVarsOf(r);
  const key = c.key(r);
  const file = c.zone.file(key);
  const store = !anySet(r, c.noCache);
  if (anySet(r, c.bypass)) {
    st.cacheStatus = 'BYPASS';
    return fill(r, { plan: c, file, key, store, stale: null, revalidating: false }, upstream);
  }
  const found = c.zone.find(file);
  const seen = found.ino;
  let e = found.entry;
  if (e !== null && e.meta.key === key && !varyMatches(r, e.meta)) e = c.zone.lookup(variantFile(c, key, e.meta.vary, r));
  const usable = e !== null && e.meta.key === key && varyMatches(r, e.meta) ? e : null;
  if (usable !== null && Date.now() < usable.meta.valid) {
    st.cacheStatus = 'HIT';
    return serveEntry(r, a, usable);
  }
  return locked(r, c, a, upstream, file, key, store, usable, seen);
}

async function locked(r: Req, c: CachePlan, a: AnswerPlan, upstream: Upstream, file: string, key: string, store: boolean,
  stale: Entry | null, seen: number): Promise<number> {
  const conf = c.conf;
  const st = upstreamVarsOf(r);
  const updating = stale !== null && conf.cacheUseStale.includes('updating');
  let mine = false;
  // The lock guards a new entry only: an expired one is refreshed by whoever asks (nginx 1.22).
  if ((conf.cacheLock && stale === null) || updating) {
    // With `updating`, a request finding another one filling serves the stale entry at once.
    const got = await c.zone.lock(file, updating ? 0 : conf.cacheLockTimeout, conf.cacheLockAge, seen);
    if (got === 'mine') mine = true;
    else if (updating) {
      st.cacheStatus = 'UPDATING';
      return serveEntry(r, a, stale);
    } else if (got === 'ready') {
      let e = c.zone.lookup(file);
      if (e !== null && e.meta.key === key && !varyMatches(r, e.meta)) e = c.zone.lookup(variantFile(c, key, e.meta.vary, r));
      if (e !== null && e.meta.key === key && Date.now() < e.meta.valid && varyMatches(r, e.meta)) {
        st.cacheStatus = 'HIT';
        return serveEntry(r, a, e);
      }
    } else {
      // proxy_cache_lock_timeout passed: this request goes upstream, its answer is not stored.
      store = false;
    }
  }
  st.cacheStatus = stale !== null ? 'EXPIRED' : 'MISS';
  if (store && c.zone.use(file) < conf.cacheMinUses) store = false;
  const revalidating = stale !== null && conf.cacheRevalidate && (stale.meta.etag !== null || stale.meta.lastModified !== null);
  try {
    return await fill(r, { plan: c, file, key, store, stale, revalidating }, upstream, a);
  } finally {
    if (mine) c.zone.release(file);
  }
}

async function fill(r: Req, f: Fill, upstream: Upstream, a?: AnswerPlan): Promise<number> {
  fills.set(r, f);
  let extra = '';
  if (f.revalidating) {
    const m = f.stale!.meta;
    if (m.etag !== null) extra += `If-None-Match: ${m.etag}\r\n`;
    if (m.lastModified !== null) extra += `If-Modified-Since: ${m.lastModified}\r\n`;
  }
  let status: number;
  try {
    status = await upstream(extra);
  } finally {
    fills.delete(r);
  }
  if (r.headerSent || f.stale === null || a === undefined) return status;
  const st = upstreamVarsOf(r);
  const last = st.tries[st.tries.length - 1];
  if (f.revalidating && status === 304 && last !== undefined && last.header >= 0) {
    refresh(r, f, st.headers ?? []);
    st.cacheStatus = 'REVALIDATED';
    // The refreshed entry is a new file: a body past the first read is read from that one.
    const now = f.plan.zone.lookup(f.file);
    return serveEntry(r, a, now !== null && now.meta.key === f.key ? now : f.stale);
  }
  if (staleFor(f.plan.conf, status, last !== undefined && last.header >= 0)) {
    st.cacheStatus = 'STALE';
    return serveEntry(r, a, f.stale);
  }
  return status;
}

/** Whether proxy_cache_use_stale covers this outcome: an answer's status, or a failure (no head). */
function staleFor(conf: ProxyCacheConf, status: number, answered: boolean): boolean {
  const u = conf.cacheUseStale;
  if (answered) return u.includes(`http_${status}` as never);
  return status === 504 ? u.includes('timeout') : u.includes('error') || u.includes('invalid_header');
}

/** A 304 to a revalidation: the stored entry is fresh again, by the 304's headers or the entry's status. */
function refresh(r: Req, f: Fill, raw: readonly string[]): void {
  const e = f.stale!;
  const now = Date.now();
  const valid = freshUntil(f.plan.conf, e.meta.status, raw, now);
  if (valid === 0) return;
  try {
    f.plan.zone.refresh(e, { ...e.meta, valid });
  } catch (err) {
    if (isTrestyError(err)) logReq(r, 'error', err.message);
  }
}

/**
 * The proxy's refusal hook: an answer the cache replaces rather than passes on (a 304 to a
 * revalidation, a status proxy_cache_use_stale covers while a stale entry exists).
 */
export function cacheRefuses(r: Req, status: number): boolean {
  const f = fills.get(r);
  if (f === undefined || f.stale === null) return false;
  if (f.revalidating && status === 304) return true;
  return staleFor(f.plan.conf, status, true);
}

/** The proxy's tap: the answer's body also goes into a new entry, when it may be stored. */
export function cacheTap(r: Req, head: ResponseHead): BodyTap | null {
  const f = fills.get(r);
  if (f === undefined || !f.store) return null;
  const now = Date.now();
  const conf = f.plan.conf;
  // An answer not buffered (proxy_buffering off, X-Accel-Buffering: no) is not stored (nginx's rule).
  if (!conf.buffering || (!conf.ignoreHeaders.includes('x-accel-buffering') && headerOf(head.raw, 'x-accel-buffering')?.toLowerCase() === 'no')) return null;
  const valid = freshUntil(conf, head.status, head.raw, now);
  if (valid === 0) return null;
  const vary = varyNames(conf, head.raw);
  const meta: EntryMeta = {
    key: f.key, status: head.status, headers: storedHeaders(head.raw), valid, date: now,
    lastModified: headerOf(head.raw, 'last-modified'), etag: headerOf(head.raw, 'etag'),
    vary, varyValues: vary.map((n) => reqHeader(r, n)),
  };
  let w: EntryWriter | null;
  try {
    w = f.plan.zone.writer(f.file, meta, vary.length > 0 ? variantFile(f.plan, f.key, vary, r) : null);
  } catch (e) {
    // An unusable cache folder: logged, and the answer goes to the client uncached.
    logReq(r, 'crit', isTrestyError(e) ? e.message : String(e));
    return null;
  }
  f.plan.zone.forget(f.file);
  upstreamVarsOf(r).cacheable = true;
  return {
    chunk(c) {
      if (w === null) return;
      try {
        w.write(c);
      } catch (e) {
        logReq(r, 'crit', isTrestyError(e) ? e.message : String(e));
        w = null;
      }
    },
    end() {
      try {
        w?.commit();
      } catch (e) {
        logReq(r, 'crit', isTrestyError(e) ? e.message : String(e));
      }
    },
    fail() { w?.abort(); },
  };
}
