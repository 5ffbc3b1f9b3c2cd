// nginx's not-modified filter: If-Unmodified-Since / If-Match (412), If-Modified-Since /
// If-None-Match (304, with if_modified_since exact|before|off), with the rules of
// ngx_http_not_modified_filter_module (nginx 1.22). Static files run it with the file's own
// validators; every other 200 answer of a main request (a handler's, `return`'s) with the
// Last-Modified / ETag it carries when the filter chain reaches it (answerPreconditions).

import type { Req } from './req.js';
import { cacheableAnswer } from './upstream.js';

export interface Validators {
  /** Last-Modified in seconds, or -1 when the answer has none. */
  readonly mtime: number;
  /** The ETag sent, or null (none, `etag off`). */
  readonly etag: string | null;
}

export function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** An HTTP date in seconds, or -1 (as ngx_parse_http_time). */
export function httpTime(s: string): number {
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

/** 412, 304, or 0 to send the answer as it is. */
export function preconditions(r: Req, v: Validators, ims: 'off' | 'exact' | 'before'): 0 | 304 | 412 {
  const h = r.inHeaders;
  const ius = one(h['if-unmodified-since']);
  // Without a Last-Modified nothing is "unmodified since": nginx's 412.
  if (ius !== undefined && (v.mtime < 0 || !(httpTime(ius) >= v.mtime))) return 412;
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
  if (mode === 'off' || mtime < 0) return true;
  const t = httpTime(since);
  if (t === mtime) return false;
  return mode === 'exact' || t < mtime;
}

/**
 * The filter on an answer about to be written: 304 or 412 for a main request's 200 whose request
 * carries a condition, else 0. Called before header_filter_by_js, more_set_headers and add_header
 * (nginx's order): only the handler's own Last-Modified / ETag count.
 */
export function answerPreconditions(r: Req): 0 | 304 | 412 {
  if (r.status !== 200 || r.parent !== null) return 0;
  if (r.reqHeaders === null && r.ex.conditional === false) return 0; // no If-* header came
  const h = r.inHeaders;
  if (h['if-modified-since'] === undefined && h['if-none-match'] === undefined
    && h['if-match'] === undefined && h['if-unmodified-since'] === undefined) return 0;
  // A proxied answer's Last-Modified and ETag do not count (nginx takes them only for
  // proxy_cache): If-Match / If-Unmodified-Since then fail, as observed on nginx 1.22.
  const out = r.proxied && !cacheableAnswer(r) ? null : r.headers;
  const lm = one(out?.get('last-modified'));
  const etag = one(out?.get('etag'));
  const v: Validators = { mtime: lm === undefined ? -1 : httpTime(lm), etag: etag ?? null };
  return preconditions(r, v, r.loc.files.ims ?? 'exact');
}
