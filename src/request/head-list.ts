// The head's fields as the exchange takes them, in nginx's order (http/head-order.ts): Server and
// Date, the fields nginx keeps apart (Content-Type, its own Content-Length), then the header list
// as it was set; and what the exchange must know of them (whose Location, Content-Length,
// Connection they are).
import { fixedRun } from '../http/head-order.js';
import { httpDate } from '../http/http-date.js';
import { softwareFor } from '../http/software.js';
import type { LocationConf } from '../config/types.js';
import { safeName, safeValue } from './header-bytes.js';
import { LISTED_LAST_MODIFIED, LISTED_LATE, LISTED_LENGTH, LISTED_LOCATION, LISTED_RANGE } from './headers.js';
import type { Req } from './req.js';

const GZIP_VARY = ['Vary', 'Accept-Encoding'] as const;

/** Response headers as the exchange takes them; `len` >= 0 when the whole body is known. */
export function headerList(r: Req, len: number): Array<readonly [string, string]> {
  const list: Array<readonly [string, string]> = [];
  const h = r.headers;
  // 204 and 304 carry no body: no default type, no length.
  const bodyless = r.status === 204 || r.status === 304 || r.headerOnly;
  // Below 200, nginx frames nothing itself (no length, no chunks: the body ends with the
  // connection) and sends only a length that was set; but to HTTP/1.0, whose answers
  // lua-nginx-module buffers whole, it sends the length as for any status.
  const low = r.status < 200;
  // A JS handler's answer has no length on HTTP/1.1 (chunked, as lua-nginx-module's, whether
  // it ended before any flush or not) unless the handler set one; HTTP/1.0 gets it (buffered),
  // but not to HEAD (lua sends a head-only answer's head as it is).
  const setLength = h?.has('content-length') ?? false;
  const lengthless = r.lengthless && (r.ex.httpVersion !== '1.0' || r.method === 'HEAD') && !setLength;
  // A subrequest's capture reports the headers the handler set, not a length tresty computed.
  const addLength = len >= 0 && !bodyless && r.parent === null && !lengthless && (!low || r.ex.httpVersion === '1.0') && !r.trailerChunks;
  const own = ownName(r);
  // Server and Date first, as the exchanges put theirs (which they then leave out).
  if (own !== undefined && !(h?.has('server') ?? false)) list.push(['Server', own], ['Date', httpDate()]);
  // A subrequest's head passes no header filter of nginx's: a 204's or a HEAD's type stays.
  const typed = !bodyless || r.parent !== null;
  if (h === null) {
    if (typed && !r.proxied) list.push(['Content-Type', r.loc.defaultType]);
    if (addLength) list.push(['Content-Length', String(len)]);
    return subLength(r, len, withVary(r, list));
  }
  // nginx's Content-Type and its own Content-Length come before the header list, wherever the
  // handler set the type (http/head-order.ts); a proxied answer's length is nginx's own too, its
  // Location and Last-Modified are in the list (lateLocation).
  // A Location or Last-Modified a handler set is in the list too (lua-nginx-module's).
  // Each apart: a handler's Location leaves a static file's own Last-Modified before Connection.
  if (r.parent === null && (r.proxied || (h.listed & LISTED_LATE) !== 0)) {
    if (r.proxied || (h.listed & LISTED_LOCATION) !== 0) r.ex.lateLocation = true;
    r.ex.lateModified = r.proxied || (h.listed & LISTED_LAST_MODIFIED) !== 0;
  }
  // So are a handler's Connection and Transfer-Encoding (the exchange writes its own first).
  if (r.parent === null && (h.has('connection') || h.has('transfer-encoding'))) r.ex.handlerHops = true;
  // nginx's header filter drops a 204's type, even one the handler set.
  const type = r.status === 204 && r.parent === null ? '' : h.get('content-type');
  if (typeof type === 'string') list.push(['Content-Type', type]);
  else if (typed && !r.proxied && type === undefined) list.push(['Content-Type', r.loc.defaultType]);
  // The real length wins when the whole body is known; a HEAD keeps the one the handler set, and
  // so does a 204 or 304 the handler answered itself (nginx clears only its own length then).
  const handlerNoBody = (r.status === 204 || r.status === 304) && (h.listed & LISTED_LENGTH) !== 0;
  const keepLength = setLength && (low || handlerNoBody || (len < 0 ? r.pipe.bodyFilter === null : r.method === 'HEAD' || r.headerOnly));
  // Content-Length cleared by a handler or header_filter is not sent (chunked instead). One the
  // handler set is in nginx's header list: the real length goes at its place.
  const ownLength = !keepLength && addLength && !h.lengthCleared;
  const placed = ownLength && !r.proxied && setLength;
  const upstream = keepLength && r.proxied ? h.get('content-length') : undefined;
  if (ownLength && !placed) list.push(['Content-Length', String(len)]);
  else if (typeof upstream === 'string') list.push(['Content-Length', upstream]);
  const listedLength = (keepLength && typeof upstream !== 'string') || placed;
  // The handler's own length is a line of the list, after Connection; nginx's own are before it.
  if (listedLength && r.parent === null && !r.proxied && (h.listed & LISTED_LENGTH) !== 0) r.ex.lateLength = true;
  const at = list.length;
  h.appendTo(list, listedLength ? undefined : 'content-length', typeof type === 'string' ? 'content-type' : undefined);
  if (placed) realLength(list, at, String(len));
  let ranges = -1;
  for (let i = 0; i < list.length; i++) {
    const [n, v] = list[i];
    // A Content-Type cleared by more_clear_headers is sent as none (no default type either).
    if (v === '' && n.length === 12 && n.toLowerCase() === 'content-type') { list.splice(i--, 1); continue; }
    if (n.length === 13) {
      const l = n.toLowerCase();
      if (l === 'accept-ranges' || (l === 'content-range' && !r.proxied && (h.listed & LISTED_RANGE) === 0)) ranges = i;
    }
    const sn = safeName(n);
    const sv = safeValue(v);
    if (sn !== n || sv !== v) list[i] = [sn, sv];
  }
  // nginx's range filter adds Accept-Ranges or Content-Range after add_header's and expires' headers
  if (ranges >= 0 && ranges < list.length - 1) list.push(list.splice(ranges, 1)[0]!);
  // the 416 page's second pass through nginx's header filters: add_header's `always` lines again
  if (r.againHeaders !== null) for (const [n, v] of r.againHeaders) list.push([safeName(n), safeValue(v)]);
  return subLength(r, len, withVary(r, list));
}

/**
 * A subrequest's length as lua-nginx-module's capture reports it: nginx's own (a `return` text's,
 * a static file's, not a JS handler's: it has none) as a number (Req.ownLength), one a handler set
 * as its line; none for a special response, a 204 or 304.
 */
function subLength(r: Req, len: number, list: Array<readonly [string, string]>): Array<readonly [string, string]> {
  if (r.parent === null || r.proxied || r.truncated || r.lengthless || r.status === 204 || r.status === 304) return list;
  const h = r.headers;
  const at = list.findIndex(([n]) => n.length === 14 && n.toLowerCase() === 'content-length');
  if (at >= 0) r.ownLength = h === null || (h.listed & LISTED_LENGTH) === 0;
  else if (len >= 0) {
    list.push(['Content-Length', String(len)]);
    r.ownLength = true;
  }
  return list;
}

/** gzip_vary's line where nginx's header filter writes it: right after Connection, before its list. */
function withVary(r: Req, list: Array<readonly [string, string]>): Array<readonly [string, string]> {
  if (r.gzipVary) list.splice(fixedRun((i) => list[i]![0], list.length, r.ex.lateLocation ?? false, r.ex.lateLength, r.ex.lateModified ?? r.ex.lateLocation ?? false), 0, GZIP_VARY);
  return list;
}

/** The handler's Content-Length lines in `list` from `at`: the first says `len`, others go. */
function realLength(list: Array<readonly [string, string]>, at: number, len: string): void {
  let seen = false;
  for (let i = at; i < list.length; i++) {
    const n = list[i]![0];
    if (n.length !== 14 || n.toLowerCase() !== 'content-length') continue;
    if (seen) list.splice(i--, 1);
    else list[i] = [n, len];
    seen = true;
  }
}

/** The name server_tokens gives this answer's location, when it is not the worker's (software.ts). */
export function ownName(r: Req): string | undefined {
  const std = ((r.loc as LocationConf | undefined) ?? r.server.defaults).std;
  const on = std.serverTokens === true;
  return on === r.w.conf.http!.serverTokens ? undefined : softwareFor(on);
}
