// ngx.req: the request as handlers read and change it.

import { isTrestyError, TrestyError } from '../errors.js';
import { logReq } from '../request/report.js';
import { INTERRUPT } from '../request/interrupt.js';
import { type Call, EXITED } from '../request/call.js';
import { apiDisabled } from '../request/context.js';
import type { BodyFile, Req } from '../request/req.js';
import { luaNumberString } from '../shared/lua-args.js';
import { decodeArgs, encodeArgs, type Args } from './args.js';
import { CTX, MASK } from './context.js';
import { guard, guardReq } from './guard.js';
import { appendBody, bodyText, finishBody, initBody, setBodyData, setBodyFile } from './req-body.js';
import { appendBodyFile, closeBodyFile, openBodyFile } from './req-body-file.js';
import { openReqSocket, type ReqSocket, type ReqSocketResult } from './req-socket.js';
import type { RawSocketResult } from './req-socket-raw.js';
import { setInHeader } from '../request/in-headers.js';
import { bodyOf } from '../request/body-of.js';

type Headers = Record<string, string | string[]>;

/** The request headers nginx 1.22 keeps one pointer to (headers_in), as observed: set_header of
 *  an array leaves their last value only. */
const SINGLE_IN = new Set(['host', 'connection', 'if-modified-since', 'if-unmodified-since', 'if-match', 'if-none-match', 'user-agent',
  'referer', 'content-length', 'content-type', 'range', 'if-range', 'transfer-encoding', 'expect', 'upgrade', 'accept-encoding', 'via',
  'authorization', 'keep-alive', 'x-real-ip', 'depth', 'destination', 'overwrite', 'date']);

/** The methods ngx.req.set_method takes (lua-nginx-module's ngx.HTTP_* method constants). */
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'MKCOL', 'COPY', 'MOVE', 'PROPFIND',
  'PROPPATCH', 'LOCK', 'UNLOCK']);

/** A set_header value: a number as Lua's tostring, control bytes but the tab as %XX. */
function headerValue(v: unknown): string {
  const s = typeof v === 'number' ? luaNumberString(v) : String(v);
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The bytes ngx.req.set_uri refuses (lua-nginx-module: control bytes but the tab, and DEL). */
// eslint-disable-next-line no-control-regex
const UNSAFE_SET_URI = /[\x00-\x08\x0a-\x1f\x7f]/;

export class ReqApi {
  readonly #c: Call;
  constructor(c: Call) { this.#c = c; }

  #check(mask: number): Req { return guardReq(this.#c, mask); }

  get_method(): string { return this.#check(MASK.request).method; }
  set_method(method: string): void {
    const r = this.#check(MASK.requestWrite);
    const m = typeof method === 'string' ? method.toUpperCase() : '';
    // lua-nginx-module takes its ngx.HTTP_* method constants only (strings in tresty)
    if (!METHODS.has(m)) throw new TrestyError('TRESTY_ERR_API_ARGS', `unsupported HTTP method: ${String(method)}`);
    r.method = m;
  }
  http_version(): number { return Number(this.#check(MASK.request).ex.httpVersion); }
  start_time(): number { return this.#check(MASK.request).startMs / 1000; }
  is_internal(): boolean { return this.#check(MASK.request).internal; }

  /** Lower-cased names; repeated headers as arrays. `raw` keeps the names as received. */
  get_headers(max = 100, raw = false): Headers {
    const r = this.#check(MASK.request);
    const out: Headers = {};
    let n = 0;
    // The lines as received (or as changed, in nginx's order): a header sent twice is an array
    // of its values (the exchange's `headers` joins them with ", ", as node does), counted per
    // line toward `max`.
    const rh = r.reqLines ?? r.ex.rawHeaders;
    for (let i = 0; i + 1 < rh.length; i += 2) {
      if (max > 0 && ++n > max) break;
      const k = raw ? rh[i] : rh[i].toLowerCase();
      const prev = out[k];
      out[k] = prev === undefined ? rh[i + 1] : Array.isArray(prev) ? [...prev, rh[i + 1]] : [prev, rh[i + 1]];
    }
    return raw ? out : caseless(out);
  }

  raw_header(): string {
    const r = this.#check(MASK.request);
    const rh = r.ex.rawHeaders;
    let s = `${r.method} ${r.ex.url} HTTP/${r.ex.httpVersion}\r\n`; // the target as received
    for (let i = 0; i + 1 < rh.length; i += 2) s += `${rh[i]}: ${rh[i + 1]}\r\n`;
    return `${s}\r\n`;
  }

  set_header(name: string, value: unknown): void {
    const r = this.#check(MASK.requestWrite);
    if (typeof name !== 'string') throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to 'set_header' (string expected, got ${name === null || name === undefined ? 'nil' : typeof name})`);
    // "" clears, as nil does (lua-nginx-module); control bytes but the tab go as %XX, as lua
    // escapes them; a Content-Length not digits is refused
    const values = value === undefined || value === null || value === '' ? [] : (Array.isArray(value) ? value : [value]).map(headerValue);
    // A header nginx keeps one pointer to takes the array's last value (each replaced the one before)
    if (values.length > 1 && SINGLE_IN.has(String(name).toLowerCase())) values.splice(0, values.length - 1);
    if (values.length > 0 && String(name).toLowerCase() === 'content-length' && !/^[0-9]+$/.test(values[values.length - 1]!)) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', 'failed to set header');
    }
    setInHeader(r, String(name), values);
  }

  /** A name not a string is its tostring, as lua-resty-core's (nil is "nil": nothing cleared). */
  clear_header(name: string): void { this.set_header(name === null || name === undefined ? 'nil' : String(name), null); }

  get_uri_args(max = 100): Args { return decodeArgs(this.#check(MASK.request).args, max, false); }

  set_uri_args(args: string | number | Record<string, unknown>): void {
    if (typeof args === 'number') args = luaNumberString(args);
    if (typeof args !== 'string' && (args === null || typeof args !== 'object')) {
      throw new TrestyError('TRESTY_ERR_API_ARGS', `bad argument #1 to 'set_uri_args' (string, number, or table expected, but got ${args === null || args === undefined ? 'nil' : typeof args})`);
    }
    // A string goes as given but its spaces and control bytes, as %XX (lua-nginx-module's)
    // eslint-disable-next-line no-control-regex
    this.#check(MASK.requestWrite).args = typeof args === 'string' ? args.replace(/[\x00-\x20\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`) : encodeArgs(args);
  }

  /** Changes $uri; with `jump` (rewrite_by_js only) the location is looked up again. */
  set_uri(uri: string | number, jump = false): void {
    const c = guard(this.#c, MASK.requestWrite);
    const r = c.req;
    if (r === null) throw apiDisabled(c.phase);
    if (typeof uri === 'number') uri = luaNumberString(uri); // luaL_checklstring takes a number
    if (typeof uri !== 'string' || uri === '') throw new TrestyError('TRESTY_ERR_API_ARGS', 'ngx.req.set_uri: uri must be a non-empty string');
    // As OpenResty: a jump is a rewrite_by_js thing; anywhere else the API is disabled.
    if (jump && c.phase !== CTX.rewrite) throw apiDisabled(c.phase);
    // As lua-nginx-module: the URI as given (no %XX decoded, no dot segment merged; proxy_pass
    // escapes it), control bytes but the tab refused.
    const bad = UNSAFE_SET_URI.exec(uri);
    if (bad !== null) throw new TrestyError('TRESTY_ERR_API_ARGS', `unsafe byte "0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}" in uri "${uri}"`);
    r.uri = uri;
    if (!jump) return;
    r.execUri = uri;
    r.execArgs = r.args;
    r.jump = true;
    c.state = EXITED;
    throw INTERRUPT;
  }

  /**
   * Reads the whole body (bounded by client_max_body_size); a 413 ends the request if too large.
   * Not async: a body already read, or one that came with the head, answers with one shared
   * settled promise (no async frame or promise made per request); errors still reject.
   */
  read_body(): Promise<void> {
    try {
      const r = this.#check(MASK.output);
      if (r.body !== undefined) return READ;
      const headLen = r.ex.requestLength ?? 0; // nothing of the body is read yet
      // Came with the request (native engine, small bodies): no pulling, no awaiting.
      const whole = r.ex.takeWholeBody?.();
      if (!whole) return readStreamed(this.#c, r, headLen);
      const max = r.loc.clientMaxBodySize;
      if (max > 0 && whole.length > max) tooLarge(this.#c, r, `client intended to send too large body: ${whole.length}+ bytes`);
      if (keptInMemory(r, whole.length, inMemoryLimit(r), headLen)) r.body = whole;
      else inFile(r, openBodyFile(r, whole));
      return READ;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The body in pieces as they arrive, never held whole (for large uploads). Once streamed,
   * the body is gone: get_body_data() is null. Past client_max_body_size the request ends with 413.
   */
  body_stream(): AsyncIterable<Uint8Array> {
    const r = this.#check(MASK.output);
    const c = this.#c;
    const known = r.body;
    if (known !== undefined) return (async function* () { if (known) yield known; })();
    r.body = null;
    const max = r.loc.clientMaxBodySize;
    const body = bodyOf(r); // throws now if the body was already read
    return (async function* () {
      // Made on the first pull: a stream never iterated leaves the body to Node, which discards it.
      const src = body[Symbol.asyncIterator]();
      let size = 0;
      let open = true;
      try {
        for (;;) {
          let step: IteratorResult<Uint8Array>;
          try {
            step = await src.next();
          } catch (e) {
            open = false;
            if (isTrestyError(e) && e.code === 'TRESTY_ERR_BODY_TOO_LARGE') tooLarge(c, r, e.message);
            clientBroke(c, r, e);
            throw e;
          }
          if (step.done) { open = false; return; }
          size += step.value.byteLength;
          if (max > 0 && size > max) { open = false; tooLarge(c, r, `client intended to send too large body: ${size}+ bytes`); }
          yield step.value;
        }
      } finally {
        // Left early (`break`): discard the rest, as nginx does, so a keep-alive connection stays
        // usable. Returning Node's iterator instead would destroy the socket before the response.
        if (open) void drain(src);
      }
    })();
  }

  /**
   * A read-only cosocket over the request body as it arrives (req-socket.ts): [sock, null], or
   * [null, reason] (no body, already read, chunked). `opts.binary`: receive bytes, not strings.
   * socket(true): the connection itself, both ways (req-socket-raw.ts).
   */
  socket(raw: true, opts?: { binary?: boolean }): RawSocketResult;
  socket(raw?: false | null | { binary?: boolean }, opts?: { binary?: boolean }): [ReqSocket, null] | [null, string];
  socket(raw?: boolean | null | { binary?: boolean }, opts?: { binary?: boolean }): ReqSocketResult {
    return openReqSocket(guard(this.#c, MASK.output), raw, opts);
  }

  discard_body(): void { this.#check(MASK.output); }

  /** Replaces the request body (after read_body, as in OpenResty); Content-Length follows. */
  set_body_data(data: string | Uint8Array): void { setBodyData(this.#check(MASK.output), data); }

  /** The body becomes this file's content; with `autoClean` the file is removed at the request's end. */
  set_body_file(file: string, autoClean = false): void { setBodyFile(this.#check(MASK.output), file, autoClean); }

  /** Starts a new, empty body (after read_body); past `bufferSize` (client_body_buffer_size) it goes to a file. */
  init_body(bufferSize?: number): void { initBody(this.#check(MASK.output), bufferSize); }

  append_body(data: string | Uint8Array): void { appendBody(this.#check(MASK.output), data); }

  /** Ends the built body: Content-Length becomes its length. */
  finish_body(): void { finishBody(this.#check(MASK.output)); }

  /** The body read by read_body() (or set or built), or null: none, empty, or in a file. */
  get_body_data(): string | null { return bodyText(this.#check(MASK.bodyData)); }

  /** The file the body is in (past client_body_buffer_size, or set_body_file's), or null. */
  get_body_file(): string | null { return this.#check(MASK.bodyData).bodyFile?.path ?? null; }

  get_post_args(max = 100): Args {
    const r = this.#check(MASK.postArgs);
    if (r.body === undefined) throw new TrestyError('TRESTY_ERR_API_ARGS', 'no request body found; maybe you should call await ngx.req.read_body() first');
    if (r.bodyFile !== null) throw new TrestyError('TRESTY_ERR_API_ARGS', 'request body in temp file not supported');
    // The body's bytes (one char a byte), decoded as the query is: text where they are UTF-8.
    return decodeArgs(r.body && r.body.length > 0 ? r.body.toString('latin1') : '', max);
  }
}

/** As OpenResty's table: h["Content-Type"] and h.content_type find "content-type". */
function caseless(out: Headers): Headers {
  return new Proxy(out, {
    get: (t, k) => (typeof k !== 'string' || k in t ? t[k as string] : t[k.toLowerCase().replace(/_/g, '-')]),
  });
}

const READ: Promise<void> = Promise.resolve();

/** Past client_body_buffer_size (or with client_body_in_file_only: -1) the body goes to a file. */
function inMemoryLimit(r: Req): number {
  return r.loc.proxy.clientBodyInFileOnly === 'off' ? r.loc.proxy.clientBodyBufferSize : -1;
}

/** read_body for a body still to come from the client: pulled chunk by chunk. */
async function readStreamed(c: Call, r: Req, headLen: number): Promise<void> {
  const max = r.loc.clientMaxBodySize;
  const inMemory = inMemoryLimit(r);
  const chunks: Buffer[] = [];
  let file: BodyFile | null = null;
  let size = 0;
  // Pulled by hand: leaving a for-await early would destroy the request and its socket,
  // and the 413 could not be sent.
  const it = bodyOf(r)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { value: b, done } = await it.next();
      if (done) break;
      size += b.byteLength;
      if (max > 0 && size > max) tooLarge(c, r, `client intended to send too large body: ${size}+ bytes`);
      if (file !== null) appendBodyFile(file, b);
      else {
        chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
        if (size > inMemory && !keptInMemory(r, size, inMemory, headLen)) file = spooled(r, chunks.splice(0));
      }
    }
  } catch (e) {
    if (file !== null) closeBodyFile(file);
    // The HTTP layer stops a chunked body past the limit with this code and leaves the 413 to us.
    if (isTrestyError(e) && e.code === 'TRESTY_ERR_BODY_TOO_LARGE') tooLarge(c, r, e.message);
    clientBroke(c, r, e);
    throw e;
  }
  if (file !== null) return inFile(r, file);
  r.body = size === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** The body read so far goes to a temp file; the rest follows it there. */
function spooled(r: Req, chunks: Buffer[]): BodyFile {
  const f = openBodyFile(r, null);
  for (const b of chunks) appendBodyFile(f, b);
  return f;
}

/**
 * nginx's rule for a body that came with its head, observed on nginx 1.22 (client_body_buffer_size
 * 4k: a 6,000-byte Content-Length body in memory, 7,000 in a file; chunked 5,000 in memory, 5,119 in
 * a file): what the 1k header buffer pre-read stays in memory whatever its size, and the rest fits a
 * buffer of client_body_buffer_size, a quarter larger for a body whose length is known. Without
 * this a 10 KB POST went to a file under the default 8k, where nginx keeps it in memory.
 */
function keptInMemory(r: Req, len: number, buffer: number, headLen: number): boolean {
  if (buffer < 0) return false; // client_body_in_file_only
  const preread = Math.max(0, r.loc.engine.clientHeaderBufferSize - headLen);
  if (len - preread <= buffer) return true; // no header object built for the common case
  if (r.ex.headers['transfer-encoding'] !== undefined) return false;
  // A known length is judged whole, also while a streamed body has come only in part.
  const total = Number(r.ex.headers['content-length'] ?? len);
  return total - preread < buffer + (buffer >> 2);
}

/** The body is read, and it is in `f`. */
function inFile(r: Req, f: BodyFile): void {
  closeBodyFile(f);
  r.body = null;
  r.bodyFile = f;
}

async function drain(src: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    while (!(await src.next()).done) { /* discard */ }
  } catch { /* the client went away or passed the limit: nothing more to read */ }
}

/**
 * The client broke its body off (closed, timed out) or garbled it (a bad chunk): the front has
 * logged nginx's line (client prematurely closed connection, client sent invalid chunked body)
 * and answers or closes. The request ends as nginx's does, with 400 (408 on client_body_timeout:
 * closed), and no handler failure is logged.
 */
function clientBroke(c: Call, r: Req, e: unknown): void {
  const code = isTrestyError(e) ? e.code : (e as { code?: unknown } | null)?.code;
  if (code !== 'TRESTY_ERR_BODY_INVALID' && code !== 'TRESTY_ERR_CLIENT_GONE' && code !== 'ECONNRESET') return;
  c.state = EXITED;
  r.body = null;
  const timedOut = /client_body_timeout/.test((e as Error).message);
  // nginx's HTTP/2 body reader logs the timeout (its HTTP/1 reader does not), and a stream's end
  const broke = r.ex.bodyBreak;
  if (timedOut && r.ex.httpVersion === '2.0') logReq(r, 'info', 'client timed out (110: Connection timed out)');
  else if (broke) logReq(r, 'info', broke.line);
  r.exitCode = timedOut ? 408 : broke ? broke.status : 400;
  throw INTERRUPT;
}

/** A body past client_max_body_size: logged, and the request ends with 413. */
function tooLarge(c: Call, r: Req, msg: string): never {
  c.state = EXITED;
  r.body = null;
  logReq(r, 'error', msg);
  r.exitCode = 413;
  throw INTERRUPT;
}
