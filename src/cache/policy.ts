// Whether an upstream's answer may be stored, and until when: as nginx 1.22 decides it.
// X-Accel-Expires first, then Cache-Control (no-cache, no-store, private: never; s-maxage or
// max-age), then Expires, then proxy_cache_valid by status. A Set-Cookie or `Vary: *` answer is
// never stored. proxy_ignore_headers takes a header out of the decision.

import type { CacheValid } from '../config/types-cache.js';

export interface CachePolicy {
  readonly cacheValid: readonly CacheValid[];
  readonly ignoreHeaders: readonly string[];
}

/** The first value of `name` (lower-case) in raw header pairs, or null. */
export function headerOf(raw: readonly string[], name: string): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) return raw[i + 1]!;
  return null;
}

/** proxy_cache_valid for a status: the first line naming it (or `any`), 0 when none does. */
export function validFor(rules: readonly CacheValid[], status: number): number {
  for (const v of rules) if (v.codes === 'any' || v.codes.includes(status)) return v.time;
  return 0;
}

/** Epoch ms until which the answer is fresh, or 0 when it must not be stored. */
export function freshUntil(p: CachePolicy, status: number, raw: readonly string[], now: number): number {
  const use = (name: string): string | null => (p.ignoreHeaders.includes(name) ? null : headerOf(raw, name));
  if (use('set-cookie') !== null) return 0;
  const vary = use('vary');
  if (vary !== null && vary.trim() === '*') return 0;
  const xae = use('x-accel-expires');
  if (xae !== null) {
    const m = /^\s*(@?)(\d+)\s*$/.exec(xae);
    if (m) {
      const n = Number(m[2]) * 1000;
      if (m[1] === '@') return n > now ? n : 0;
      return n === 0 ? 0 : now + n;
    }
  }
  const cc = use('cache-control');
  if (cc !== null) {
    const v = cc.toLowerCase();
    if (/(^|[\s,])(no-cache|no-store|private)\b/.test(v)) return 0;
    const m = /(?:^|[\s,])s-maxage=(\d+)/.exec(v) ?? /(?:^|[\s,])max-age=(\d+)/.exec(v);
    if (m) {
      const n = Number(m[1]) * 1000;
      return n === 0 ? 0 : now + n;
    }
  }
  const exp = use('expires');
  if (exp !== null) {
    const t = Date.parse(exp);
    // An Expires nginx cannot read, or one in the past: not stored.
    return Number.isNaN(t) || t <= now ? 0 : t;
  }
  const t = validFor(p.cacheValid, status);
  return t > 0 ? now + t : 0;
}

/** Vary's header names, lower-cased (proxy_ignore_headers Vary: none). */
export function varyNames(p: CachePolicy, raw: readonly string[]): string[] {
  if (p.ignoreHeaders.includes('vary')) return [];
  const v = headerOf(raw, 'vary');
  return v === null ? [] : v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}
