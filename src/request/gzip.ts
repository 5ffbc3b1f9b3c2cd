// The gzip filter (nginx's ngx_http_gzip_filter_module with ngx_http_gzip_ok): which answers are
// compressed, decided once when the head goes out (after add_header and charset, so
// header_filter_by_js does not see Content-Encoding and body_filter_by_js sees the plain body,
// as on nginx); the body then goes through request/gzip-stream.ts.

import type { GzipFilter } from '../config/types.js';
import { EARLIER_RANGES, type HeaderStore } from './headers.js';
import { GzipStream } from './gzip-stream.js';
import type { Req } from './req.js';
import { uaFlags, userAgent } from './user-agent.js';

const STATUSES = new Set([200, 403, 404]);

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The response's type without parameters, '' when it has none. */
function typeOf(h: HeaderStore): string {
  const t = one(h.get('content-type') as string | string[] | undefined) ?? '';
  const semi = t.indexOf(';');
  return (semi < 0 ? t : t.slice(0, semi)).trim().toLowerCase();
}

/** Accept-Encoding names gzip with a q other than 0 (ngx_http_gzip_accept_encoding). */
function acceptsGzip(ae: string): boolean {
  for (const item of ae.split(',')) {
    const [name, ...params] = item.split(';');
    if (name.trim().toLowerCase() !== 'gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
    return q === undefined || Number(q.slice(2)) !== 0;
  }
  return false;
}

/** ngx_http_gzip_ok: the client, its HTTP version and (through a proxy) gzip_proxied allow it. */
export function gzipAccepted(r: Req, g: GzipFilter, h: HeaderStore): boolean {
  return gzipOk(r, g, h);
}

function gzipOk(r: Req, g: GzipFilter, h: HeaderStore): boolean {
  if (r.parent !== null) return false;
  const inH = r.inHeaders;
  const ae = one(inH['accept-encoding']);
  if (ae === undefined || !acceptsGzip(ae)) return false;
  const ua = userAgent(r) ?? '';
  if (g.disableMsie6 && uaFlags(ua).msie6) return false;
  if (g.httpVersion === '1.1' && r.ex.httpVersion === '1.0') return false;
  if (inH.via !== undefined && !proxiedOk(r, g, h)) return false;
  return !g.disable.some((re) => re.test(ua));
}

function proxiedOk(r: Req, g: GzipFilter, h: HeaderStore): boolean {
  const p = g.proxied;
  if (p.includes('off')) return false;
  if (p.includes('any')) return true;
  if (r.inHeaders.authorization !== undefined && p.includes('auth')) return true;
  const expires = one(h.get('expires') as string | string[] | undefined);
  if (expires !== undefined) {
    if (!p.includes('expired')) return false;
    const t = Date.parse(expires);
    return !Number.isNaN(t) && t <= Date.now();
  }
  const cc = h.get('cache-control');
  if (cc !== undefined) {
    const v = (Array.isArray(cc) ? cc.join(',') : cc).toLowerCase();
    return (p.includes('no-cache') && v.includes('no-cache')) || (p.includes('no-store') && v.includes('no-store'))
      || (p.includes('private') && v.includes('private'));
  }
  // What is left only refuses (observed on nginx 1.22: `gzip_proxied expired` or `auth` alone
  // compresses an answer with neither Expires nor Cache-Control).
  if (p.includes('no_last_modified') && h.has('last-modified')) return false;
  return !(p.includes('no_etag') && h.has('etag'));
}

/** Whether gzip's first tests pass (status, encoding, length, type): it then says Vary. */
function considered(r: Req, g: GzipFilter, h: HeaderStore, length: number, status = r.status): boolean {
  if (!STATUSES.has(status) || r.headerOnly) return false;
  const ce = h.get('content-encoding');
  if (ce !== undefined && String(ce) !== '') return false;
  if (length >= 0 && length < g.minLength) return false;
  const type = typeOf(h) || (r.proxied ? '' : r.loc.defaultType.toLowerCase());
  return g.types.includes('*') ? type !== '' : g.types.includes(type);
}

/** For the static module: would this file go out compressed? (Then ranges do not apply, as nginx's.) */
export function gzipWould(r: Req, g: GzipFilter | undefined, h: HeaderStore, length: number): boolean {
  return g !== undefined && considered(r, g, h, length, 200) && gzipOk(r, g, h);
}

/**
 * The gzip header filter: on an answer it compresses, Content-Encoding: gzip, no Content-Length,
 * no Accept-Ranges and a weak ETag; `Vary: Accept-Encoding` with gzip_vary on any answer it
 * considered. Returns the stream for the body, or null.
 */
export function gzipHeader(r: Req, g: GzipFilter, h: HeaderStore, length: number): GzipStream | null {
  if (!considered(r, g, h, length)) return null;
  if (g.vary) r.gzipVary = true;
  if (!gzipOk(r, g, h)) return null;
  h.set('Content-Encoding', 'gzip');
  h.set('Content-Length', null);
  h.delete('accept-ranges');
  h.delete(EARLIER_RANGES); // one access_by set before a static file too (observed on nginx 1.22 + lua)
  const etag = one(h.get('etag') as string | string[] | undefined);
  if (etag !== undefined) h.set('ETag', etag.startsWith('"') ? `W/${etag}` : etag.startsWith('W/') ? etag : null);
  return new GzipStream(g.level, g.bufferSize);
}
