// The output side. Handlers' chunks go through the filter chain as OpenResty sends them: the
// header filter once (at the first output or when the response ends), the body filter once per
// ngx.print/ngx.say and once more with an empty chunk and eof. What passed the filters is
// buffered and written to the exchange on flush, on eof or past AUTO_FLUSH bytes, so a response
// produced in one go is one writeHead + end: with an exact Content-Length for `return`, static
// files and pages; chunked on HTTP/1.1 for a JS handler's output, as nginx frames
// lua-nginx-module's (Req.lengthless). A location without filters skips the chain entirely.

import { StringDecoder } from 'node:string_decoder';
import { errorPage } from '../http/native-pages.js';
import type { LocationConf } from '../config/types.js';
import { byteLength } from './bytes.js';
import { ERROR, OK } from './codes.js';
import { headersOf } from './headers.js';
import { headerList } from './head-list.js';
import { gzipHeader } from './gzip.js';
import { gunzipHeader } from './gunzip.js';
import type { Req } from './req.js';
import { logReq } from './report.js';
import { paced, pacedWrite } from './limit-rate.js';
import { answerPreconditions } from './not-modified.js';
import { failedPrecondition, special, specialAnswer } from './special.js';
import { OUTPUT_ERROR } from './out-result.js';

/** Above this many buffered bytes, output is pushed without waiting for the handler to end. */
const AUTO_FLUSH = 64 * 1024;

/** A header byte above 0x7f (a UTF-8 value). */
const HIGH = /[\x80-\xff]/;

type Chunk = string | Uint8Array;

function filtered(r: Req): boolean {
  const p = r.pipe;
  return p.headerFilter !== null || p.bodyFilter !== null;
}

/** Runs `step` after the output work already queued (in order), or now when nothing is queued. */
function chain(r: Req, step: () => Promise<void> | void): Promise<void> | void {
  const prev = r.pending;
  let q: Promise<void>;
  if (prev === null) {
    const p = step();
    if (p === undefined) return;
    q = p;
  } else {
    q = prev.then(step);
  }
  const tail: Promise<void> = q.then(() => { if (r.pending === tail) r.pending = null; }, (e: unknown) => {
    if (r.pending === tail) r.pending = null;
    fail(r, `output failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  });
  r.pending = tail;
  return tail;
}

function push(r: Req, chunk: Chunk): void {
  if (chunk.length === 0) return;
  if (r.out === null) r.out = [chunk];
  else r.out.push(chunk);
  r.outLen += chunk.length;
}

/** ngx.say / ngx.print / static chunks. Marks the headers as sent, as OpenResty does. */
export function emit(r: Req, chunk: Chunk): void {
  r.headerSent = true;
  if (chunk.length === 0 || r.eofSent && !r.filterBroke) {
    // lua's ngx.print(""): the head goes through the header filters now (no body chunk)
    if (chunk.length === 0 && !r.headerFiltered && !r.eofSent && r.pipe.headerFilter !== null) {
      void chain(r, () => (r.headerFiltered ? undefined : headerFilter(r)));
    }
    return;
  }
  r.seenBody = true;
  if (!filtered(r)) push(r, chunk);
  else void chain(r, () => filterChunk(r, chunk, false));
  if (r.outLen > AUTO_FLUSH) void queueFlush(r, false);
}

/**
 * ngx.flush's flush buffer: lua-nginx-module sends an empty buffer through the body filters, so
 * body_filter sees a call with "" and eof false (observed on nginx 1.22 + lua). Nothing goes on
 * the wire for it unless the filter puts bytes in it.
 */
export function emitFlush(r: Req): void {
  // (after a body_filter failure too, lua still runs the filter on it, until the filter set eof)
  if (r.pipe.bodyFilter === null || (r.filterBroke ? r.outEof : r.eofSent || r.cut)) return;
  void chain(r, () => filterChunk(r, '', false));
}

/**
 * The last of a body (`return CODE TEXT`'s text, a static file's last piece): through body_filter
 * as one chunk with eof, as nginx sends it (its buffer has last_buf), not a chunk and then an
 * empty eof. The page slot carries it to the end (flushFiltered: a HEAD's is counted, not
 * filtered), where header_filter reads its length; a body with output still held keeps emit's way.
 */
export function emitWhole(r: Req, text: Chunk): void {
  if (!filtered(r) || r.out !== null || r.pending !== null || r.eofSent || r.page !== null) {
    emit(r, text);
    return;
  }
  r.headerSent = true;
  r.page = text;
}

/**
 * Pushes the output through the filters and to the exchange, in order with earlier pushes;
 * with `eof` the response ends. Returns a promise only when something had to wait.
 */
export function queueFlush(r: Req, eof: boolean): Promise<void> | void {
  // ngx.req.socket(true) took the connection: nothing of ours goes out any more.
  if (r.raw !== null) return;
  return chain(r, () => flushNow(r, eof));
}

function flushNow(r: Req, eof: boolean): Promise<void> | void {
  if (r.cut && !r.filterBroke) return;
  if (filtered(r)) {
    if (!r.headerFiltered) {
      const p = headerFilter(r);
      if (p !== undefined) return p.then(() => flushFiltered(r, eof));
    }
    return flushFiltered(r, eof);
  }
  if (r.page !== null) { push(r, r.page); r.page = null; }
  return writeOut(r, eof);
}

function flushFiltered(r: Req, eof: boolean): Promise<void> | void {
  if (r.cut && !r.filterBroke) return;
  if (eof && !r.outEof) {
    // The end of the body through the body filter: the page of a special response as one chunk
    // with eof, else an empty chunk with eof (not for a response without a body, as nginx).
    const page = r.page;
    r.page = null;
    // A HEAD's page runs no body filter but its length is still sent (as unfiltered, below).
    if (page !== null && noBody(r)) push(r, page);
    const p = noBody(r) ? undefined : bodyFilter(r, page ?? '', true);
    r.eofSent = true;
    if (p !== undefined) return p.then(() => writeOut(r, true));
  }
  return writeOut(r, eof);
}

function filterChunk(r: Req, chunk: Chunk, eof: boolean): Promise<void> | void {
  // After a body_filter throw the chunks still go through it (nginx's), and nowhere else; not
  // once it set eof (lua drops what follows).
  if (r.filterBroke) return r.outEof ? undefined : bodyFilter(r, chunk, eof);
  if (r.cut || r.eofSent && !eof) return;
  if (!r.headerFiltered) {
    const p = headerFilter(r);
    // header_filter may have replaced the answer (ngx.exit there): the chunk is then dropped.
    if (p !== undefined) return p.then(() => (r.eofSent && !eof ? undefined : bodyFilter(r, chunk, eof)));
    if (r.eofSent && !eof) return;
  }
  return bodyFilter(r, chunk, eof);
}

/** header_filter_by_js, once; ngx.exit there replaces the answer (OpenResty's behaviour). */
function headerFilter(r: Req): Promise<void> | void {
  r.headerFiltered = true;
  r.headerSent = true;
  if (r.errStatus !== 0) r.status = r.errStatus;
  if (r.status === 0) r.status = 200;
  conditional(r);
  r.pipe.outHeaders?.before?.(r);
  const hf = r.pipe.headerFilter;
  if (hf === null) return;
  const rc = hf(r);
  if (typeof rc === 'number') return afterHeaderFilter(r, rc);
  return rc.then((v) => afterHeaderFilter(r, v));
}

function afterHeaderFilter(r: Req, rc: number): void {
  if (rc === OK) return;
  if (rc === ERROR || rc < 0 || rc === 444) { fail(r, null); return; }
  // The handler's output so far and to come is dropped; the filter's status answers, with
  // nginx's page for an error status, else an empty body (`Content-Length: 0`, as nginx sends it).
  special(r, rc);
  r.eofSent = true;
  if (rc < 300 || rc === 304) {
    const h = headersOf(r);
    r.headerOnly = true;
    h.delete('content-type');
    if (rc >= 200) h.set('Content-Length', '0');
  }
}

function bodyFilter(r: Req, chunk: Chunk, eof: boolean): Promise<void> | void {
  if (r.cut && !r.filterBroke) return;
  const bf = r.pipe.bodyFilter;
  if (bf === null || noBody(r)) {
    push(r, chunk);
    if (eof) r.outEof = true;
    return;
  }
  const arg: unknown[] = [undefined, typeof chunk === 'string' ? chunk : decode(r, chunk), eof];
  const rc = bf(r, arg);
  if (typeof rc === 'number') return afterBodyFilter(r, arg, eof, rc);
  return rc.then((v) => afterBodyFilter(r, arg, eof, v));
}

function afterBodyFilter(r: Req, arg: unknown[], eof: boolean, rc: number): void {
  if (eof) r.outEof = true; // once, even when it failed: the end of the handler sends no second eof
  // An eof the filter set holds even when it then failed, or after a failure: lua drops the
  // chunks that follow (no more calls, no eof call at the end).
  const ended = arg[2] === true && (rc !== OK || r.cut);
  if (ended) {
    r.outEof = true;
    r.eofSent = true;
  }
  if (rc !== OK) {
    // ngx.say and co. return the output filter error from now on (out-result.ts).
    r.filterBroke = true;
    r.outErr = OUTPUT_ERROR;
    fail(r, null);
    return;
  }
  if (r.cut) return;
  const c = arg[1];
  push(r, c === undefined || c === null ? '' : c instanceof Uint8Array ? c : String(c));
  if (eof || arg[2] === true) {
    // A filter that sets eof ends the body here: later output is dropped.
    r.outEof = true;
    r.eofSent = true;
  }
}

const decoders = new WeakMap<Req, StringDecoder>();
function decode(r: Req, chunk: Uint8Array): string {
  let d = decoders.get(r);
  if (d === undefined) { d = new StringDecoder('utf8'); decoders.set(r, d); }
  return d.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}

function noBody(r: Req): boolean {
  const s = r.status;
  // A 1xx has a body on nginx: only HEAD, 204 and 304 go without.
  return r.headerOnly || r.method === 'HEAD' || s === 204 || s === 304;
}

function take(r: Req): Chunk {
  const out = r.out;
  if (out === null) return '';
  r.out = null;
  r.outLen = 0;
  if (out.length === 1) return out[0];
  if (out.every((c) => typeof c === 'string')) return (out as string[]).join('');
  return Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

function writeOut(r: Req, eof: boolean): Promise<void> | void {
  if (r.cut) return;
  const ex = r.ex;
  // A JS handler's chunks go out one write each, as nginx frames each ngx.say / ngx.print as
  // its own chunk ($body_bytes_sent counts the framing); one write is one syscall still.
  let each = r.lengthless && r.out !== null && r.out.length > 1 && ex.httpVersion !== '1.0' ? r.out : null;
  if (each !== null) { r.out = null; r.outLen = 0; }
  let chunk = each === null ? take(r) : each.pop()!;
  let skipBody = noBody(r);
  if (!r.headerWritten) {
    let pageLen = -1;
    r.headerSent = true;
    if (r.errStatus !== 0) r.status = r.errStatus;
    if (r.status === 0) r.status = 200;
    const oh = r.pipe.outHeaders;
    if (!r.headerFiltered && conditional(r)) {
      skipBody = noBody(r);
      if (r.page !== null) {
        // The 412 page in place of what the handler wrote, with its length.
        chunk = r.page;
        r.page = null;
        each = null;
        pageLen = byteLength(chunk);
      }
    }
    if (oh !== null) {
      if (!r.headerFiltered) oh.before?.(r);
      oh.after?.(r);
    }
    let len = pageLen >= 0 ? pageLen : !eof ? -1 : each === null ? byteLength(chunk) : each.reduce((n, c) => n + byteLength(c), byteLength(chunk));
    // gunzip before gzip, as nginx's filters run (gzip then sees no Content-Encoding, and a client
    // gunzip inflates for is one gzip refuses too).
    const gun = r.loc.gzip.gunzip;
    if (gun !== undefined && r.headers !== null) {
      r.gunzip = gunzipHeader(r, gun, r.headers);
      if (r.gunzip !== null) {
        len = -1;
        if (skipBody) { r.gunzip.destroy(); r.gunzip = null; }
      }
    }
    const gz = r.loc.gzip.filter;
    // A HEAD whose head a handler's output sends is header-only before nginx's filters run
    // (lua-nginx-module's doing): no gzip, no Vary; after ngx.send_headers it is not (observed).
    if (gz !== undefined && r.parent === null && !(r.method === 'HEAD' && r.lengthless && !r.headAlone)) {
      const h = headersOf(r);
      const cl = h.get('content-length');
      // The length nginx would know: one set, or tresty's exact one (not for a JS handler's answer).
      r.gzip = gzipHeader(r, gz, h, cl !== undefined ? Number(cl) : r.lengthless ? -1 : len);
      if (r.gzip !== null) {
        len = -1;
        // A HEAD (or a bodiless answer) says gzip but has nothing to compress.
        if (skipBody) { r.gzip.destroy(); r.gzip = null; }
      }
    }
    try {
      const list = headerList(r, len);
      if ((r.loc as LocationConf | undefined)?.std.noChunked) ex.noChunking?.();
      if (r.gunzip !== null) r.gunzip.head = () => ex.writeHead(r.status, list);
      else ex.writeHead(r.status, list);
      // node:http sends headers and a first string chunk as one UTF-8 string: header bytes
      // above 0x7f (a UTF-8 value) would be encoded twice. Bytes go out as they are.
      if (ex.headAsBytes !== true && list.some(([n, v]) => HIGH.test(n) || HIGH.test(v))) {
        if (typeof chunk === 'string' && chunk.length > 0) chunk = Buffer.from(chunk);
        if (each !== null && typeof each[0] === 'string') each[0] = Buffer.from(each[0]);
      }
    } catch (e) {
      headersFailed(r, e);
      return;
    }
    r.headerWritten = true;
  }
  // limit_rate: the body queues behind a pacer (request/limit-rate.ts) instead of going at once.
  const pace = !skipBody && paced(r);
  if (r.gunzip !== null && !skipBody) return gunzipOut(r, each, chunk, eof, pace);
  if (r.gzip !== null && !skipBody) return gzipOut(r, each, chunk, eof, pace);
  if (each !== null && !skipBody) for (const c of each) void (pace ? pacedWrite(r, ex, c, false) : ex.write(c));
  if (eof) {
    if (pace) {
      r.eofSent = true;
      return pacedWrite(r, ex, chunk, true);
    }
    if (skipBody || chunk.length === 0) ex.end();
    else ex.end(chunk);
    r.eofSent = true;
    return;
  }
  if (skipBody || chunk.length === 0) return;
  return pace ? pacedWrite(r, ex, chunk, false) : ex.write(chunk);
}

/**
 * nginx's not-modified filter, first in its header filter chain (header_filter_by_lua,
 * more_set_headers and add_header all see the 304; validators they set do not count, as
 * observed on nginx 1.22). True when the answer became a 304 (no body, type, length, encoding)
 * or nginx's 412 page (r.page; what the handler writes later is dropped).
 */
function conditional(r: Req): boolean {
  const nm = answerPreconditions(r);
  if (nm === 0) return false;
  const h = headersOf(r);
  if (nm === 304) {
    r.status = 304;
    for (const k of ['content-type', 'content-length', 'accept-ranges', 'content-encoding']) h.delete(k);
    return true;
  }
  // the filter's 412 starts from a clean head: the headers set before it are dropped (nginx's
  // ngx_http_filter_finalize_request; add_header's `always` lines come after, observed on 1.22)
  h.clear();
  special(r, 412);
  failedPrecondition(r);
  r.eofSent = true;
  return true;
}

/** The body through the gzip stream: each flush's chunks in one push, what zlib gives out written. */
function gzipOut(r: Req, each: Chunk[] | null, chunk: Chunk, eof: boolean, pace: boolean): Promise<void> | void {
  const parts = each === null ? [chunk] : [...each, chunk];
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  if (!eof && data.length === 0) return;
  if (eof) r.eofSent = true;
  const ex = r.ex;
  const send = (out: Buffer): Promise<void> | void => {
    if (r.cut) return;
    // limit_rate counts the bytes sent, compressed ones (as nginx's write filter after gzip).
    if (pace) return out.length > 0 || eof ? pacedWrite(r, ex, out, eof) : undefined;
    if (!eof) return out.length > 0 ? ex.write(out) : undefined;
    if (out.length > 0) ex.end(out);
    else ex.end();
  };
  // A whole body comes back compressed at once: it goes out in this turn, head and all.
  const z = r.gzip!.push(data, eof);
  return Buffer.isBuffer(z) ? send(z) : z.then(send);
}

/**
 * The body through the gunzip stream (request/gunzip.ts). The head goes out with the first bytes
 * that inflated; a stream that breaks is logged as nginx's line and the answer cut (what inflated
 * before goes first; nothing at all, head included, when the first bytes did not inflate).
 */
function gunzipOut(r: Req, each: Chunk[] | null, chunk: Chunk, eof: boolean, pace: boolean): Promise<void> | void {
  const parts = each === null ? [chunk] : [...each, chunk];
  const data = parts.length === 1 && typeof parts[0] !== 'string' ? parts[0] : Buffer.concat(parts.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  if (!eof && data.length === 0) return;
  if (eof) r.eofSent = true;
  const ex = r.ex;
  const g = r.gunzip!;
  return g.push(data, eof).then(({ out, err }) => {
    if (r.cut) return;
    if (g.head !== null && (out.length > 0 || err === null)) {
      const head = g.head;
      g.head = null;
      try {
        head();
      } catch (e) {
        headersFailed(r, e);
        return;
      }
    }
    if (err !== null) {
      if (out.length > 0) void ex.write(out);
      g.destroy();
      fail(r, `${err} while sending to client`);
      return;
    }
    if (pace) return out.length > 0 || eof ? pacedWrite(r, ex, out, eof) : undefined;
    if (!eof) return out.length > 0 ? ex.write(out) : undefined;
    if (out.length > 0) ex.end(out);
    else ex.end();
  });
}

/** The engine refused the headers: a 500 instead (nothing went out yet), logged with the reason. */
function headersFailed(r: Req, e: unknown): void {
  const by = r.lastHandler ? ` set by ${r.lastHandler}*` : '';
  logReq(r, 'error', `failed to send the response headers${by}: ${e instanceof Error ? e.message : String(e)}`);
  r.cut = true;
  r.eofSent = true;
  r.out = null;
  const page = errorPage(500);
  specialAnswer(r, 500);
  try {
    r.ex.writeHead(500, [['Content-Type', 'text/html'], ['Content-Length', String(page.length)]]);
    r.headerWritten = true;
    r.ex.end(page);
  } catch {
    r.ex.destroy();
  }
}

/** Ends the response abruptly so the client can tell it is incomplete; `msg` is logged. */
export function fail(r: Req, msg: string | null): void {
  if (msg !== null) logReq(r, 'error', msg);
  if (r.cut) return;
  r.cut = true;
  r.eofSent = true;
  r.out = null;
  r.outLen = 0;
  r.ex.destroy();
}
