// Case-insensitive header objects for rack requests and responses, over the same store and
// proxy `ngx.header` uses, so `res.headers['Content-Type']` and `res.headers.content_type` agree.

import { HeaderStore, headerProxy, type HeaderValue } from '../api/headers.js';
import type { RackHeaders } from './types.js';

/** The proxies made here and their stores, so a plain object returned by a middleware can be told apart. */
const made = new WeakMap<object, HeaderStore>();

export function rackHeaders(init?: Record<string, unknown>): RackHeaders {
  const store = new HeaderStore();
  if (init) for (const [k, v] of Object.entries(init)) store.set(k, v);
  const h = headerProxy(() => store, () => true, () => store);
  made.set(h, store);
  return h;
}

/** `h` itself when it is rack's; a plain object (or nothing) becomes a rack header object. */
export function asRackHeaders(h: unknown): RackHeaders {
  if (typeof h === 'object' && h !== null && made.has(h)) return h as RackHeaders;
  return rackHeaders(typeof h === 'object' && h !== null ? h as Record<string, unknown> : undefined);
}

/** [name, value] pairs to send, each name as first given. */
export function headerEntries(h: RackHeaders): Array<[string, HeaderValue]> {
  const store = made.get(h);
  if (store === undefined) return Object.entries(h).filter((e): e is [string, HeaderValue] => e[1] !== undefined);
  const pairs: Array<readonly [string, string]> = [];
  store.appendTo(pairs);
  const grouped = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = grouped.get(k);
    if (list) list.push(v);
    else grouped.set(k, [v]);
  }
  return [...grouped].map(([k, vs]) => [k, vs.length === 1 ? vs[0]! : vs]);
}
