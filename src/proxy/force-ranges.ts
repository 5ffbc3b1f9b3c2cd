// proxy_force_ranges: nginx's range filter on a proxied answer (nginx 1.22, observed): a 200 with
// a length gets `Accept-Ranges: bytes` (the upstream's own is not copied) and one range of a
// Range (If-Range against the answer's ETag / Last-Modified) is served as a 206 with its
// Content-Range; several ranges, a failed If-Range: the whole answer; a range past the end: 416
// with `Content-Range: bytes */LENGTH`. Other statuses and answers without a length pass as they are.
import { rangesOf } from '../request/ranges.js';
import { headersOf } from '../request/headers.js';
import { httpTime, one } from '../request/not-modified.js';
import type { Req } from '../request/req.js';
import type { ResponseHead } from './parser.js';

/** What to send of the body: [start, end), or 416 (the answer is nginx's 416 page instead). */
export type Slice = readonly [number, number] | 416 | null;

/** Applies the range filter to the answer's head (headers already copied); null: the whole body. */
export function forceRanges(r: Req, head: ResponseHead): Slice {
  if (r.parent !== null || head.status !== 200 || head.contentLength < 0) return null;
  const h = headersOf(r);
  h.delete('accept-ranges');
  const size = head.contentLength;
  const etag = one(h.get('etag') as string | string[] | undefined) ?? null;
  const lm = one(h.get('last-modified') as string | string[] | undefined);
  // single_range: one range only, more is the whole answer
  const ranges = rangesOf(r, size, { etag, mtime: lm === undefined ? -1 : httpTime(lm) }, 1);
  if (ranges === 416) {
    h.delete('last-modified');
    h.delete('etag');
    h.set('Content-Range', `bytes */${size}`);
    r.headersStatus = 200;
    return 416;
  }
  if (ranges === null) {
    h.set('Accept-Ranges', 'bytes');
    return null;
  }
  const [start, end] = ranges[0]!;
  r.status = 206;
  h.set('Content-Range', `bytes ${start}-${end - 1}/${size}`);
  h.set('Content-Length', String(end - start));
  return [start, end];
}

/** Cuts the body's chunks to [start, end) as they come: each call gives the part of `c` to send. */
export function slicer(start: number, end: number): (c: Buffer) => Buffer {
  let pos = 0;
  return (c) => {
    const from = pos;
    pos += c.length;
    if (pos <= start || from >= end) return c.subarray(0, 0);
    return c.subarray(Math.max(0, start - from), Math.min(c.length, end - from));
  };
}
