// The output side: handlers' chunks are buffered, then pushed through the filter chain
// (header_filter once, body_filter per chunk) to the exchange. A response produced in one go
// is written with one writeHead + end and an exact Content-Length.

import { STATUS_CODES } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { HeaderStore } from './headers.js';
import type { Req } from './req.js';

/** Above this many buffered bytes, output is pushed without waiting for the handler to end. */
const AUTO_FLUSH = 64 * 1024;

export function headersOf(r: Req): HeaderStore {
  return (r.headers ??= new HeaderStore());
}

/** ngx.say / ngx.print / static chunks. Marks the headers as sent, as OpenResty does. */
export function emit(r: Req, chunk: string | Uint8Array): void {
  r.headerSent = true;
  if (r.eofSent || chunk.length === 0) return;
  if (r.out === null) r.out = [chunk];
  else r.out.push(chunk);
  r.outLen += chunk.length;
  if (r.outLen > AUTO_FLUSH) void queueFlush(r, false);
}

/**
 * Pushes buffered output through the filters, in order with earlier pushes. Returns a promise
 * only when something had to wait (an async filter or back-pressure).
 */
export function queueFlush(r: Req, eof: boolean): Promise<void> | void {
  const prev = r.pending;
  let q: Promise<void>;
  if (prev === null) {
    const p = flushNow(r, eof);
    if (p === undefined) return;
    q = p;
  } else {
    q = prev.then(() => flushNow(r, eof));
  }
  const tail: Promise<void> = q.then(() => { if (r.pending === tail) r.pending = null; });
  r.pending = tail;
  return tail;
}

function take(r: Req): string | Uint8Array {
  const out = r.out;
  if (out === null) return '';
  r.out = null;
  r.outLen = 0;
  if (out.length === 1) return out[0];
  if (out.every((c) => typeof c === 'string')) return (out as string[]).join('');
  return Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

function flushNow(r: Req, eof: boolean): Promise<void> | void {
  const chunk = take(r);
  if (!r.headerWritten) {
    r.headerSent = true;
    const hf = r.pipe.headerFilter;
    if (hf !== null) {
      const p = hf(r);
      if (p !== undefined) return p.then(() => filterBody(r, chunk, eof, true));
    }
    return filterBody(r, chunk, eof, true);
  }
  return filterBody(r, chunk, eof, false);
}

function filterBody(r: Req, chunk: string | Uint8Array, eof: boolean, first: boolean): Promise<void> | void {
  if (r.eofSent) {
    if (first) return writeOut(r, '', true, true);
    return;
  }
  const bf = r.pipe.bodyFilter;
  if (bf === null || (chunk.length === 0 && !eof)) return writeOut(r, chunk, eof, first);
  const arg: unknown[] = [undefined, typeof chunk === 'string' ? chunk : decode(r, chunk), eof];
  const p = bf(r, arg);
  if (p !== undefined) return p.then(() => afterBodyFilter(r, arg, eof, first));
  return afterBodyFilter(r, arg, eof, first);
}

function afterBodyFilter(r: Req, arg: unknown[], eof: boolean, first: boolean): Promise<void> | void {
  const c = arg[1];
  const chunk = c === undefined || c === null ? '' : c instanceof Uint8Array ? c : String(c);
  const filterEof = arg[2] === true;
  if (filterEof && !eof) r.eofSent = true;
  return writeOut(r, chunk, eof || filterEof, first);
}

const decoders = new WeakMap<Req, StringDecoder>();
function decode(r: Req, chunk: Uint8Array): string {
  let d = decoders.get(r);
  if (d === undefined) { d = new StringDecoder('utf8'); decoders.set(r, d); }
  return d.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}

function noBody(r: Req): boolean {
  const s = r.status;
  return r.method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200);
}

function writeOut(r: Req, chunk: string | Uint8Array, eof: boolean, first: boolean): Promise<void> | void {
  const ex = r.ex;
  const skipBody = noBody(r);
  if (first) {
    r.headerWritten = true;
    if (r.status === 0) r.status = 200;
    ex.writeHead(r.status, headerList(r, eof ? byteLength(chunk) : -1));
  }
  if (eof) {
    if (skipBody || chunk.length === 0) ex.end();
    else ex.end(chunk);
    r.eofSent = true;
    return;
  }
  if (skipBody || chunk.length === 0) return;
  return ex.write(chunk);
}

function byteLength(c: string | Uint8Array): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
}

/** Response headers as the exchange takes them; `len` >= 0 when the whole body is known. */
function headerList(r: Req, len: number): Array<readonly [string, string]> {
  const list: Array<readonly [string, string]> = [];
  const h = r.headers;
  // 204 and 304 carry no body: no default type, no length.
  const bodyless = r.status === 204 || r.status === 304;
  if (h === null) {
    if (!bodyless) {
      list.push(['Content-Type', r.loc.defaultType]);
      if (len >= 0) list.push(['Content-Length', String(len)]);
    }
    return list;
  }
  if (!bodyless && !h.has('content-type')) list.push(['Content-Type', r.loc.defaultType]);
  const loc = h.get('location');
  if (typeof loc === 'string' && loc.startsWith('/')) h.set('location', absolute(r, loc));
  // The real length wins when the whole body is known; a HEAD keeps the one the handler set.
  const keepLength = h.has('content-length') && (len < 0 ? r.pipe.bodyFilter === null : r.method === 'HEAD');
  h.appendTo(list, keepLength ? undefined : 'content-length');
  if (!keepLength && len >= 0 && !bodyless) list.push(['Content-Length', String(len)]);
  return list;
}

/** nginx's absolute_redirect: a relative Location gets scheme://host[:port]. */
function absolute(r: Req, loc: string): string {
  const host = r.inHeaders.host;
  const ex = r.ex;
  let authority: string;
  if (typeof host === 'string' && host) {
    authority = host;
  } else {
    const dflt = ex.scheme === 'https' ? 443 : 80;
    authority = ex.localPort === dflt ? ex.localAddress : `${ex.localAddress}:${ex.localPort}`;
  }
  return `${ex.scheme}://${authority}${loc}`;
}

/** Where nginx's pages word a status differently from node's STATUS_CODES. */
const NGINX_TITLES: Record<number, string> = {
  405: 'Not Allowed', 408: 'Request Time-out', 413: 'Request Entity Too Large', 414: 'Request-URI Too Large',
  416: 'Requested Range Not Satisfiable', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out',
};

/** nginx's page for an error status, with `tresty` where nginx prints its name. */
export function errorPage(status: number): string {
  const title = `${status} ${NGINX_TITLES[status] ?? STATUS_CODES[status] ?? ''}`.trimEnd();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>tresty</center>\r\n</body>\r\n</html>\r\n`;
}

/** Replaces any buffered output by nginx's page for `status` (a "special response"). */
export function special(r: Req, status: number): void {
  r.out = null;
  r.outLen = 0;
  r.status = status;
  const h = headersOf(r);
  h.delete('content-length');
  if (status >= 300 && status !== 304) {
    h.set('Content-Type', 'text/html');
    emit(r, errorPage(status));
  }
  r.headerSent = true;
}
