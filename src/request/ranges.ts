// nginx's range filter, for static files and proxy_force_ranges (the not-modified checks before it are
// request/not-modified.ts): Range with If-Range (206 for one or several ranges, 416), with the
// parsing rules of ngx_http_range_filter_module (nginx 1.22).

import { httpTime, one, type Validators } from './not-modified.js';
import type { Req } from './req.js';

/** null: the whole file (with Accept-Ranges); 416; or [start, end) pairs. */
export type Ranges = null | 416 | Array<readonly [number, number]>;

export function rangesOf(r: Req, size: number, v: Validators, max = Infinity): Ranges {
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
  return parseRanges(range.slice(6), size, max);
}

/** ngx_http_range_parse: a malformed list is 416; ranges past the end are dropped; more than
 *  `max` (max_ranges) ranges that can be served: the whole file instead. */
function parseRanges(s: string, size: number, max: number): Ranges {
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
      if (out.length > max) return null;
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
