// Response headers as the request keeps them: case-insensitive names, multi-value arrays,
// null/undefined clears. ngx.header (src/api) and the output queue both use this store.

import { TrestyError } from '../errors.js';
import type { Req } from './req.js';

export type HeaderValue = string | string[];

/** HeaderStore.listed: a handler's Content-Length, Location, Last-Modified; LISTED_LATE: either of
 *  the two; LISTED_RANGE: a handler's Content-Range (nginx's range filter writes its own last; a
 *  handler's or an upstream's stays at its place). */
export const LISTED_LENGTH = 1;
export const LISTED_LOCATION = 2;
export const LISTED_LAST_MODIFIED = 4;
export const LISTED_LATE = LISTED_LOCATION | LISTED_LAST_MODIFIED;
export const LISTED_RANGE = 8;

/** The keys of an ETag and an Accept-Ranges a handler set before a static file (access_by): nginx
 *  sends them as lines of its list, as set, and its own after them (static.ts). */
export const EARLIER_ETAG = 'etag\0earlier';
export const EARLIER_RANGES = 'accept-ranges\0earlier';

/** lua-nginx-module's built-in headers that hold one value: of an array, the last is set. */
const SINGLE = new Set(['server', 'date', 'content-length', 'content-encoding', 'location', 'refresh', 'last-modified',
  'content-range', 'accept-ranges', 'www-authenticate', 'expires', 'etag', 'content-type']);

/**
 * A value given to ngx.header as lua-nginx-module stores it: an empty string clears (an empty line
 * of an array is skipped), a single-valued header takes an array's last value, one line is a
 * string. A cleared Content-Type is '' (no line, and no default_type either: lua's mime_set).
 */
function luaValue(name: string, key: string, value: unknown): unknown {
  if (value === undefined || value === null) return key === 'content-type' ? '' : null;
  const all = Array.isArray(value) ? value.map(String) : [String(value)];
  // nginx's length must be digits (ngx_atoof): lua raises its error, a 500 before output
  if (key === 'content-length' && all.some((v) => v !== '' && !/^[0-9]+$/.test(v))) {
    throw new TrestyError('TRESTY_ERR_API_ARGS', `failed to set header ${name} (error: -1)`);
  }
  if (SINGLE.has(key)) {
    if (key === 'location' && all.length > 1) return locationLines(all);
    const last = all.length > 0 ? all[all.length - 1]! : '';
    return last !== '' ? last : key === 'content-type' ? '' : null;
  }
  const lines = BUILTIN_MULTI.has(key) ? builtinLines(all) : all.filter((x) => x !== '');
  return lines.length === 0 ? null : lines.length === 1 ? lines[0] : lines;
}

/**
 * An array given to Location: each value overwrites the line nginx points at as its Location,
 * but lua points at none after a value starting with `/` (it keeps nginx from making it
 * absolute), so the next value is a new line (observed: `{"l1", "l2"}` sends `l2`, `{"/a", "b"}`
 * sends both).
 */
function locationLines(all: readonly string[]): string | string[] | null {
  const lines: string[] = [];
  let at = -1;
  for (const v of all) {
    if (at < 0) { lines.push(v); at = lines.length - 1; } else lines[at] = v;
    if (v.startsWith('/')) at = -1;
  }
  const shown = lines.filter((v) => v !== '');
  return shown.length === 0 ? null : shown.length === 1 ? shown[0]! : shown;
}

/** nginx's own multi-line headers, which lua sets through their array of lines. */
const BUILTIN_MULTI = new Set(['cache-control', 'link']);

/**
 * The lines lua leaves of an array given to Cache-Control or Link: an empty line is kept hidden,
 * and a later line takes the first hidden one's place, shown even when empty (observed on nginx
 * 1.22 + lua: `{"", ""}` sends one empty line, `{"c", ""}` only `c`).
 */
function builtinLines(all: readonly string[]): string[] {
  const slots: Array<{ v: string; shown: boolean }> = [];
  for (let i = 0; i < all.length; i++) {
    const v = all[i]!;
    const hidden = i > 0 ? slots.find((s) => !s.shown) : undefined;
    if (hidden !== undefined) { hidden.v = v; hidden.shown = true; } else slots.push({ v, shown: v !== '' });
  }
  return slots.filter((s) => s.shown).map((s) => s.v);
}

export class HeaderStore {
  /** lower-cased name -> [name as first given, value] */
  private readonly m = new Map<string, [string, HeaderValue]>();
  /** Content-Length was cleared by a handler or filter: the response goes without one. */
  lengthCleared = false;
  /**
   * Which of Content-Length, Location and Last-Modified a handler set last (ngx.header):
   * lua-nginx-module puts those in nginx's header list, after Connection, where nginx's own go
   * before it (http/head-order.ts).
   */
  listed = 0;

  get size(): number { return this.m.size; }

  get(name: string): HeaderValue | undefined {
    return this.m.get(name.toLowerCase())?.[1];
  }

  has(name: string): boolean {
    return this.m.has(name.toLowerCase());
  }

  /** Sets (replaces) a header; null, undefined or an empty array removes it. `handler`: set by
   *  ngx.header (lua's rules, luaValue). */
  set(name: string, value: unknown, handler = false): void {
    const key = name.toLowerCase();
    if (handler) value = luaValue(name, key, value);
    const bit = key === 'content-length' ? LISTED_LENGTH : key === 'location' ? LISTED_LOCATION : key === 'last-modified' ? LISTED_LAST_MODIFIED
      : key === 'content-range' ? LISTED_RANGE : 0;
    if (bit !== 0) this.listed = handler && value !== undefined && value !== null ? this.listed | bit : this.listed & ~bit;
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
      this.m.delete(key);
      if (key === 'content-length') this.lengthCleared = true;
      return;
    }
    const v: HeaderValue = Array.isArray(value) ? value.map(String) : String(value);
    if (key === 'content-length') this.lengthCleared = false;
    const known = this.m.get(key);
    this.m.set(key, [known ? known[0] : name, v]);
  }

  /** Adds a value after the existing ones. */
  add(name: string, value: string): void {
    const prev = this.get(name);
    this.set(name, prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]);
  }

  delete(name: string): void {
    this.m.delete(name.toLowerCase());
  }

  /**
   * Moves the fields of `keys` (lower-cased) that are set ahead of all others, in that order: the
   * fields nginx's static module sets itself are kept apart from its header list and go before
   * Connection (http/head-order.ts), even when an earlier phase (access_by) set headers first.
   */
  ahead(keys: readonly string[]): void {
    let lead = 0;
    for (const k of this.m.keys()) {
      if (!keys.includes(k)) break;
      lead++;
    }
    let set = 0;
    for (const k of keys) if (this.m.has(k)) set++;
    if (lead === set) return;
    const rest = [...this.m].filter(([k]) => !keys.includes(k));
    const first = keys.filter((k) => this.m.has(k)).map((k) => [k, this.m.get(k)!] as const);
    this.m.clear();
    for (const [k, v] of first) this.m.set(k, v);
    for (const [k, v] of rest) this.m.set(k, v);
  }

  /** Gives the field `from` the key `to` at its place, its name and value kept. */
  rekey(from: string, to: string): void {
    if (!this.m.has(from)) return;
    const all = [...this.m];
    this.m.clear();
    for (const [k, v] of all) this.m.set(k === from ? to : k, v);
  }

  /** Drops every field, as nginx's ngx_http_clean_header before a filter's own special answer. */
  clear(): void {
    this.m.clear();
    this.listed = 0;
    this.lengthCleared = false;
  }

  keys(): IterableIterator<string> {
    return this.m.keys();
  }

  /** Appends [name, value] pairs (repeated for arrays) for the exchange. */
  appendTo(list: Array<readonly [string, string]>, skip?: string, skip2?: string): void {
    for (const [key, [name, v]] of this.m) {
      if (key === skip || key === skip2) continue;
      if (typeof v === 'string') list.push([name, v]);
      else for (const x of v) list.push([name, x]);
    }
  }

  toObject(): Record<string, HeaderValue> {
    const o: Record<string, HeaderValue> = {};
    for (const [, [name, v]] of this.m) o[name.toLowerCase()] = v;
    return o;
  }
}

/** The request's response headers, made on first use. */
export function headersOf(r: Req): HeaderStore {
  return (r.headers ??= new HeaderStore());
}
