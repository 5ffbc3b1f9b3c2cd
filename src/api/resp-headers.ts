// ngx.resp.get_headers(max?, raw?) as lua-nginx-module builds it: first the fields nginx keeps
// apart from its header list (content-type, connection, transfer-encoding once the answer is
// chunked), which `max` does not count and whose names are always lower case; then the list's
// lines, at most `max` (0: all), an array for a name given more than once.
import { byteLength } from '../request/bytes.js';
import type { HeaderValue } from '../request/headers.js';
import type { Req } from '../request/req.js';
import { CTX } from './context.js';

export function respHeaders(r: Req, max = 100, raw = false): Record<string, HeaderValue> {
  const o: Record<string, HeaderValue> = {};
  const h = r.headers;
  const type = h?.get('content-type') ?? sentType(r);
  if (typeof type === 'string' && type !== '') o['content-type'] = type;
  o.connection = r.status === 101 ? 'upgrade' : keepAlive(r) ? 'keep-alive' : 'close';
  if (chunked(r)) o['transfer-encoding'] = 'chunked';
  if (h === null) return o;
  const lines: Array<readonly [string, string]> = [];
  h.appendTo(lines, 'content-type');
  // lua's count: past `max`, the list gives `max` less the fields above, but always one line
  const extra = Object.keys(o).length;
  const limit = max > 0 && lines.length + extra > max ? Math.min(Math.max(max - extra, 1), lines.length) : lines.length;
  for (let i = 0; i < limit; i++) {
    const [name, v] = lines[i]!;
    const k = raw ? name : name.toLowerCase();
    const prev = o[k];
    o[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return o;
}

/** nginx's r->keepalive before the answer: what the request asked for. */
function keepAlive(r: Req): boolean {
  const c = r.inHeaders.connection;
  const v = (Array.isArray(c) ? c.join(',') : c ?? '').toLowerCase();
  return r.ex.httpVersion === '1.0' ? /(^|,)\s*keep-alive\s*(,|$)/.test(v) : !/(^|,)\s*close\s*(,|$)/.test(v);
}

/** nginx's r->chunked: set by its chunked filter once the head went through the header filters,
 *  for an HTTP/1.1 answer with a body and no length (lua buffers HTTP/1.0 answers whole). */
function chunked(r: Req): boolean {
  if (!r.headerSent || r.phase === CTX.header_filter || r.ex.httpVersion === '1.0' || r.method === 'HEAD') return false;
  const status = r.status || 200; // set when the head goes through the filters, maybe later
  if (status === 204 || status === 304 || status < 200 || r.headerOnly) return false;
  return !(r.headers?.has('content-length') ?? false);
}

/**
 * The Content-Type nginx has once the head went out (header_filter_by_js and after) when the
 * handler set none: lua-nginx-module's send_header puts default_type there first (an upstream's
 * answer has its own).
 */
export function sentType(r: Req): string | undefined {
  if (!r.headerSent || r.proxied) return undefined;
  // nginx's header filter drops a 204's or 304's type after the lua one, which still sees it
  // (ngx.exit(204), nginx's special response, sets none: run.ts leaves '' there)
  if (r.status === 204 || r.status === 304) return r.phase === CTX.header_filter ? r.loc.defaultType : undefined;
  return r.loc.defaultType;
}

/**
 * The Content-Length nginx has once the head went out when none is set: that of its page or of
 * `return`'s text (nginx sets it with the body, before the header filters), 0 for ngx.exit(204);
 * none once cleared.
 */
export function sentLength(r: Req): string | undefined {
  if (!r.headerSent || r.proxied || r.headers?.lengthCleared === true) return undefined;
  if (r.page !== null) return String(byteLength(r.page));
  return r.noContent ? '0' : undefined;
}

/** What ngx.header.NAME and $sent_http_NAME read for a header nginx fills in itself (`key` in
 *  lower case) when it is not set. */
export function sentDefault(r: Req, key: string): string | undefined {
  return key === 'content-type' ? sentType(r) : key === 'content-length' ? sentLength(r) : undefined;
}
