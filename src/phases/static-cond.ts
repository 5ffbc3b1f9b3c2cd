// nginx's not-modified and range filters for static files: If-Unmodified-Since / If-Match (412),
// If-Modified-Since / If-None-Match (304, with if_modified_since exact|before|off), then Range
// with If-Range (206 for one or several ranges, 416), in the order and with the parsing rules of
// ngx_http_not_modified_filter_module and ngx_http_range_filter_module (nginx 1.22).

import type { Req } from '../request/req.js';

export interface Validators {
  /** Last-Modified in seconds. */
  readonly mtime: number;
  /** The ETag sent, or null (`etag off`). */
  readonly etag: string | null;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** An HTTP date in seconds, or -1 (as ngx_parse_http_time). */
function httpTime(s: string): number {
  const t = Date.parse(s);
  return Number.isNaN(t) ? -1 : Math.floor(t / 1000);
}

/** ngx_http_test_if_match: `*`, or a list of entity tags one of which is ours (`weak`: W/ ignored). */
function etagMatches(header: string, etag: string | null, weak: boolean): boolean {
  // `*` first: it matches even without an ETag (observed on nginx 1.22 with `etag off`).
  if (header.trim() === '*') return true;
  if (etag === null) return false;
  const ours = weak && etag.startsWith('W/') ? etag.slice(2) : etag;
  for (let tag of header.split(',')) {
    tag = tag.trim();
    if (weak && tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === ours) return true;
  }
  return false;
}

/** 412, 304, or 0 to serve the file. */
export function preconditions(r: Req, v: Validators, ims: 'off' | 'exact' | 'before'): 0 | 304 | 412 {
  const h = r.inHeaders;
  const ius = one(h['if-unmodified-since']);
  if (ius !== undefined && !(httpTime(ius) >= v.mtime)) return 412;
  const im = one(h['if-match']);
  if (im !== undefined && !etagMatches(im, v.etag, false)) return 412;
  const since = one(h['if-modified-since']);
  const inm = one(h['if-none-match']);
  if (since === undefined && inm === undefined) return 0;
  if (since !== undefined && modifiedSince(since, v.mtime, ims)) return 0;
  if (inm !== undefined && !etagMatches(inm, v.etag, true)) return 0;
  return 304;
}

function modifiedSince(since: string, mtime: number, mode: 'off' | 'exact' | 'before'): boolean {
  if (mode === 'off') return true;
  const t = httpTime(since);
  if (t === mtime) return false;
  return mode === 'exact' || t < mtime;
}

/** null: the whole file (with Accept-Ranges); 416; or [start, end) pairs. */
export type Ranges = null | 416 | Array<readonly [number, number]>;

export function rangesOf(r: Req, size: number, v: Validators): Ranges {
  const range = one(r.inHeaders.range);
  if (range === undefined || range.length < 7 || range.slice(0, 6).toLowerCase() !== 'bytes=') return null;
  const ifRange = one(r.inHeaders['if-range']);
  if (ifRange !== undefined) {
    if (ifRange.length >= 2 && ifRange.endsWith('"')) {
      if (v.etag === null || ifRange !== v.etag) return null;
    } else if (httpTime(ifRange) !== v.mtime) {
      return null;
    }
  }
  return parseRanges(range.slice(6), size);
}

/** ngx_http_range_parse: a malformed list is 416; ranges past the end are dropped. */
function parseRanges(s: string, size: number): Ranges {
  const out: Array<readonly [number, number]> = [];
  let total = 0;
  let i = 0;
  const spaces = (): void => { while (s[i] === ' ') i++; };
  const digit = (): boolean => s[i] >= '0' && s[i] <= '9';
  const number = (): number => {
    let n = 0;
    while (digit()) n = n * 10 + (s.charCodeAt(i++) - 48);
    return n;
  };
  for (;;) {
    let start = 0;
    let end: number;
    spaces();
    if (s[i] !== '-') {
      if (!digit()) return 416;
      start = number();
      spaces();
      if (s[i++] !== '-') return 416;
      spaces();
      if (s[i] === ',' || i >= s.length) {
        end = size;
      } else {
        if (!digit()) return 416;
        end = number();
        spaces();
        if (s[i] !== ',' && i < s.length) return 416;
        end = end >= size ? size : end + 1;
      }
    } else {
      i++;
      if (!digit()) return 416;
      const suffix = number();
      spaces();
      if (s[i] !== ',' && i < s.length) return 416;
      start = suffix < size ? size - suffix : 0;
      end = size;
    }
    if (start < end) {
      out.push([start, end]);
      total += end - start;
    } else if (start === 0) {
      return null;
    }
    if (s[i++] !== ',') break;
  }
  if (out.length === 0) return 416;
  // Ranges adding up to more than the file: the whole file instead, as nginx.
  if (total > size) return null;
  return out;
}

let boundary = 0;

/** The parts of a multipart/byteranges answer: each part's head, and the closing line. */
export function multipart(ranges: ReadonlyArray<readonly [number, number]>, size: number, type: string | undefined): {
  readonly type: string; readonly heads: string[]; readonly tail: string; readonly length: number;
} {
  const b = String(++boundary).padStart(20, '0');
  const ct = type ? `Content-Type: ${type}\r\n` : '';
  const heads = ranges.map(([s, e]) => `\r\n--${b}\r\n${ct}Content-Range: bytes ${s}-${e - 1}/${size}\r\n\r\n`);
  const tail = `\r\n--${b}--\r\n`;
  const length = heads.reduce((n, h, k) => n + Buffer.byteLength(h) + ranges[k][1] - ranges[k][0], Buffer.byteLength(tail));
  return { type: `multipart/byteranges; boundary=${b}`, heads, tail, length };
}
