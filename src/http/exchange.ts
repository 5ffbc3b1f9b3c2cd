// The one adapter between node:http and the HttpExchange seam. The pipeline sees only
// HttpExchange, so replacing node:http later means rewriting this file and server.ts.
// Kept lean: it runs for every request, so fields are read lazily from req/res.
import type { EngineSettings, ServerConf } from '../config/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TrestyError } from '../errors.js';
import { socketTls, type TlsInfo } from '../tls/info.js';
import { type CertRefusal, certRefusal, negotiatedName } from '../tls/verify.js';
import { misdirected } from './vhost.js';
import { closesConnection, reasonPhrase } from './native-pages.js';
import { connectionAfter, fixedRun, putHopLines, takeHopLines } from './head-order.js';
import { lastChunk } from './native-head.js';
import { withLead } from './node-head.js';
import { lingerAfterAnswer } from './node-linger.js';
import { takeNodeSocket } from './node-raw.js';
import type { HttpExchange, RawStream } from './types.js';

/** Body bytes of the page the front answered a request with itself (a bad chunk: front-refusals.ts),
 *  for the pipeline's $body_bytes_sent of that request. */
export const answeredByFront = new WeakMap<ServerResponse, number>();

/** Connections whose answer closes them (noKeepalive): a request pipelined behind it is not
 *  served (server.ts), as nginx does not read it. */
export const closing = new WeakSet<object>();

/** Connections the client reset (node's ECONNRESET, front-refusals.ts): NodeExchange.reset. */
export const peerReset = new WeakSet<object>();

/** Answers that are a static file's (NodeExchange.fileAnswer): nginx's line for a FIN while one
 *  waits for room says `while sending response to client` (front-refusals.ts). */
export const fileAnswers = new WeakSet<object>();

/** Bytes of an answer still in its socket's buffers when the front closed it on a FIN (they never
 *  went, and nginx's $body_bytes_sent does not count them): front-refusals.ts. */
export const unsentAtClose = new WeakMap<ServerResponse, number>();

/** On a connection: its bytes read when its last answer ended (where the next request starts,
 *  for a client that waits for each answer). */
const ANSWERED_AT = Symbol('tresty.answeredAt');
type Marked = { [ANSWERED_AT]?: number };

/** Nothing was read on the connection since its last answer ended: a request node hands over
 *  now was already read then, which is nginx's pipelined request ($pipe). */
export function readBeforeAnswerEnded(socket: object & { bytesRead: number }): boolean {
  return (socket as Marked)[ANSWERED_AT] === socket.bytesRead;
}

export class NodeExchange implements HttpExchange {
  /** Body bytes (and framing) handed to node. */
  private handed = 0;
  get bytesSent(): number {
    const u = unsentAtClose.get(this.res);
    return u === undefined ? this.handed : Math.max(0, this.handed - u);
  }
  /** A front's own answer's bytes (phases/index.ts logs it with them). */
  set bytesSent(n: number) { this.handed = n; }
  private consumed = false;
  /** Body bytes handed to the handler, for $request_length. */
  private bodyRead = 0;
  /** A chunked body read to its end: the request's bytes as received (-1: not known). */
  private rawLength = -1;
  /** Bytes a chunked body may carry (client_max_body_size); 0 = no limit. */
  bodyLimit = 0;
  bodyTimeout?: number;
  bodyTooLarge = false;
  /** An HTTP/0.9 request (given to node as HTTP/1.0, server.ts): the answer is its body only. */
  http09 = false;
  /** The connection's first packet, for its first request (server.ts): a raw request socket
   *  takes what node's parser read past the request in it (node-raw.ts). */
  firstPacket: Buffer | undefined = undefined;
  /** The Location is in nginx's header list, after Connection (head-order.ts). */
  lateLocation = false;
  /** Last-Modified too; undefined: as lateLocation (types.ts). */
  lateModified: boolean | undefined = undefined;
  /** A handler's Content-Length, Connection, Transfer-Encoding (types.ts). */
  lateLength = false;
  handlerHops = false;
  /** The connection's number in this worker (`*N`, server.ts). */
  connection: number | undefined = undefined;
  /** $connection_requests, $pipe, $connection_time (server.ts, tls-front.ts: node-turns.ts). */
  connectionRequests = 1;
  pipelined = false;
  connectionStart: number | undefined = undefined;
  /** The bind's name (server.ts, tls-front.ts). */
  listen: string | undefined = undefined;

  /** Read once at the start: node forgets a socket's peer once it is destroyed, and the access
   *  log of a request whose connection was cut (444, a client gone) still names the client. */
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(readonly req: IncomingMessage, readonly res: ServerResponse) {
    this.remoteAddress = unmapped(req.socket.remoteAddress);
    this.remotePort = req.socket.remotePort ?? 0;
  }

  get method(): string { return this.req.method ?? 'GET'; }
  get url(): string { return this.req.url ?? '/'; }
  get httpVersion(): string { return this.http09 ? '0.9' : this.req.httpVersion; }
  get headers(): IncomingMessage['headers'] { return this.kept()?.headers ?? this.req.headers; }
  get rawHeaders(): string[] { return this.kept()?.raw ?? this.req.rawHeaders; }

  /** undefined: not looked at yet; null: nothing dropped. */
  private dropped: { raw: string[]; headers: IncomingMessage['headers'] } | null | undefined = undefined;

  /**
   * The headers without those whose name holds `_`, dropped as nginx drops them (and the native
   * engine's parser) under `underscores_in_headers off` with `ignore_invalid_headers on`; null
   * when none was (the common case: one pass over the names, no copy).
   */
  private kept(): { raw: string[]; headers: IncomingMessage['headers'] } | null {
    if (this.dropped !== undefined) return this.dropped;
    const s = this.settings;
    if (s === null) return null; // not known yet (server.ts sets it): nothing dropped, not cached
    if (s.underscoresInHeaders || !s.ignoreInvalidHeaders) return (this.dropped = null);
    const raw = this.req.rawHeaders;
    let any = false;
    for (let i = 0; i < raw.length && !any; i += 2) any = raw[i]!.indexOf('_') >= 0;
    if (!any) return (this.dropped = null);
    const keep: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.indexOf('_') < 0) keep.push(raw[i]!, raw[i + 1]!);
    const headers = { ...this.req.headers };
    for (const k of Object.keys(headers)) if (k.indexOf('_') >= 0) delete headers[k];
    return (this.dropped = { raw: keep, headers });
  }
  get scheme(): 'http' | 'https' { return 'encrypted' in this.req.socket ? 'https' : 'http'; }
  tlsInfo(): TlsInfo | null { return socketTls(this.req.socket); }
  tlsRefusal(server: ServerConf): CertRefusal | null {
    return certRefusal(this.req.socket, server.ssl.verifyClient, misdirected(negotiatedName(this.req.socket), this.headers.host));
  }
  get localAddress(): string { return unmapped(this.req.socket.localAddress); }
  get localPort(): number { return this.req.socket.localPort ?? 0; }

  get body(): AsyncIterable<Uint8Array> {
    if (this.consumed) throw new TrestyError('TRESTY_ERR_API_ARGS', 'the request body was already read');
    this.consumed = true;
    this.continued();
    return counted(this.req, this.res, this.bodyLimit, this.bodyTimeout ?? this.settings?.clientBodyTimeout ?? 0, (n) => { this.bodyRead += n; }, () => this.bodyDone());
  }

  /**
   * A chunked body ended: node keeps none of its framing, which nginx's $request_length counts.
   * The connection's bytes read since its last answer ended are this request's, head and body as
   * received, for a client that waits for each answer (one that pipelined more requests behind
   * this one would have them counted too). Over TLS the socket counts other bytes: the data alone.
   */
  private bodyDone(): void {
    const socket = this.req.socket;
    if (this.req.headers['transfer-encoding'] === undefined || 'encrypted' in socket || this.http09) return;
    const n = socket.bytesRead - ((socket as Marked)[ANSWERED_AT] ?? 0);
    if (n > 0) this.rawLength = n;
  }

  /** Bytes of the head node made (`_header`, latin1: one byte a char), for $bytes_sent; 0 before
   *  it is made and for HTTP/0.9 (no head goes out). */
  get headBytes(): number {
    if (this.http09) return 0;
    const h = (this.res as unknown as { _header?: string | null })._header;
    return typeof h === 'string' ? h.length : 0;
  }

  /**
   * nginx's $request_length: the head and the body bytes read (an unread body is not counted,
   * as nginx's). node keeps no bytes of the head: it is rebuilt from the line and the raw headers
   * as `name: value` lines with CRLF, so a head sent with other spacing or bare LFs counts the
   * bytes it would have had in that form, and a chunked body counts its data, not its framing.
   */
  get requestLength(): number {
    if (this.rawLength >= 0) return this.rawLength;
    const raw = this.req.rawHeaders;
    let n = Buffer.byteLength(`${this.method} ${this.req.url ?? ''} HTTP/${this.req.httpVersion}\r\n\r\n`, 'latin1');
    if (this.http09) n -= 11; // `GET /x` and one line end: no version, no headers
    for (let i = 0; i < raw.length; i += 2) n += Buffer.byteLength(raw[i]!, 'latin1') + Buffer.byteLength(raw[i + 1]!, 'latin1') + 4;
    return n + this.bodyRead;
  }

  get aborted(): boolean {
    return !this.res.writableFinished && (this.req.socket?.destroyed ?? true);
  }

  get reset(): boolean { return peerReset.has(this.req.socket); }

  fileAnswer(): void { fileAnswers.add(this.res); }

  get clientEnded(): boolean { return this.req.socket?.readableEnded ?? true; }

  /** `cb` once, when the client goes or closes its side (FIN) before the answer ended. */
  onAbort(cb: () => void): void {
    let fired = false;
    const fire = (): void => {
      if (fired || this.res.writableFinished) return;
      fired = true;
      cb();
    };
    this.res.once('close', fire);
    const socket = this.req.socket;
    if (!socket) return;
    socket.once('end', fire);
    this.res.once('finish', () => socket.off('end', fire));
  }

  trailers: (() => ReadonlyArray<readonly [string, string]>) | null = null;

  get headersSent(): boolean { return this.res.headersSent; }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    // The front answered already (a body node's parser refused: front-refusals.ts); the
    // pipeline's answer for it goes nowhere.
    if (this.res.headersSent) {
      this.handed = answeredByFront.get(this.res) ?? this.handed;
      return;
    }
    // node takes a flat [name, value, ...] list and keeps repeated names and their case.
    let flat: string[] = new Array(headers.length * 2);
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      flat[2 * i] = h[0];
      flat[2 * i + 1] = h[1];
    }
    // nginx's discard of an unread body answers Expect: 100-continue first; a special response's does not.
    if (!this.specialAnswer) this.continued();
    // node closes after an answer that did not say `100 Continue`; nginx keeps the connection
    // (and reads the body if it comes, to drop it).
    else if (this.expectContinue) (this.res as unknown as { _expect_continue: boolean })._expect_continue = false;
    flat = withLead(this.res, flat);
    // nginx's order (head-order.ts): Transfer-Encoding and Connection after the fields it keeps apart
    let fixed = fixedRun((i) => flat[2 * i]!, flat.length >> 1, this.lateLocation, this.lateLength, this.lateModified);
    // A handler's own Connection and Transfer-Encoding go back after node's (which it then writes).
    const hops = this.handlerHops ? takeHopLines(flat) : null;
    const before = fixed;
    if (status >= 200 && this.chunks(status, flat)) flat.splice(2 * fixed++, 0, 'Transfer-Encoding', 'chunked');
    if (status >= 1 && status < 200) this.writeLow(status, flat);
    // nginx's reason, none for a status it has no text for (node would say `unknown` or its own).
    else this.res.writeHead(status, reasonPhrase(status), flat);
    const res = this.res as ServerResponse & { _header: string | null };
    if (typeof res._header === 'string' && !this.http09) {
      res._header = connectionAfter(res._header, fixed);
      if (hops !== null && hops.length > 0) res._header = putHopLines(res._header, hops, fixed - before + 1);
    }
    // Node sends its head with the first body bytes unless it counts it as sent already.
    if (this.http09) (this.res as unknown as { _headerSent: boolean })._headerSent = true;
  }

  /** The connection's settings (server.ts): lingering_close and its times, for special(). */
  settings: EngineSettings | null = null;
  /** The client waits for `100 Continue` before its body (node's checkContinue, server.ts). */
  expectContinue = false;
  private specialAnswer = false;

  /** `100 Continue` once, if the client waits for it (as nginx's test_expect). */
  private continued(): void {
    if (!this.expectContinue) return;
    this.expectContinue = false;
    if (!this.res.headersSent && !this.req.socket.destroyed) this.res.writeContinue();
  }

  special(status: number): void {
    this.specialAnswer = true;
    if (!closesConnection(status)) return;
    this.res.shouldKeepAlive = false;
    if (closing.has(this.req.socket)) return;
    closing.add(this.req.socket);
    if (this.settings !== null) lingerAfterAnswer(this.req.socket, this.settings);
  }

  closeAfter(): void {
    const socket = this.req.socket;
    // no request behind it runs (node-turns.ts); node's head still says keep-alive
    closing.add(socket);
    this.res.once('finish', () => { (socket as typeof socket & { destroySoon(): void }).destroySoon(); });
  }

  noChunking(): void {
    // node then sends `Connection: close` for a body without a length and closes after it.
    this.res.useChunkedEncodingByDefault = false;
  }

  /**
   * node would frame the body in chunks: then its Transfer-Encoding goes before Connection, where
   * nginx puts it (node's own comes last, after Connection).
   */
  private chunks(status: number, flat: readonly string[]): boolean {
    if (!this.res.useChunkedEncodingByDefault || this.http09 || status === 204 || status === 304 || this.req.method === 'HEAD') return false;
    for (let i = 0; i < flat.length; i += 2) {
      const n = flat[i]!.toLowerCase();
      if (n === 'content-length' || n === 'transfer-encoding') return false;
    }
    return true;
  }

  /**
   * A status below 200: node refuses one below 100 (ERR_HTTP_INVALID_STATUS_CODE) and drops the
   * body of a 1xx; nginx sends `HTTP/1.1 099 ` / `150 ` (no reason but 101's) with the body, framed
   * by nothing but a length that was set (no chunks; the connection is still kept; 101 says
   * `Connection: upgrade`). The head is made as a 200's, then its status line is replaced before
   * node sends it.
   */
  private writeLow(status: number, flat: string[]): void {
    const res = this.res as ServerResponse & { _header: string; _last: boolean; useChunkedEncodingByDefault: boolean };
    const keep = res.shouldKeepAlive;
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, flat);
    const line = status === 101 ? '101 Switching Protocols' : `${String(status).padStart(3, '0')} `;
    let head = res._header.replace(/^HTTP\/1\.1 200 OK\r\n/, `HTTP/1.1 ${line}\r\n`);
    const own = flat.some((v, i) => i % 2 === 0 && v.toLowerCase() === 'connection');
    if (keep && res._last && !own) {
      head = head.replace(/\r\nConnection: close\r\n/, '\r\nConnection: keep-alive\r\n');
      res._last = false;
    }
    if (status === 101 && !own) head = head.replace(/\r\nConnection: (?:close|keep-alive)\r\n/, '\r\nConnection: upgrade\r\n');
    res._header = head;
  }

  write(chunk: Uint8Array | string): Promise<void> | void {
    if (this.res.writableEnded) return; // answered by the front (see writeHead)
    // A client gone: its 'close' came already and would never end a wait for room.
    if (this.aborted) return;
    this.handed += framed(this.res, typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    if (this.res.write(chunk)) return;
    if (this.aborted) return;
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(chunk?: Uint8Array | string): void {
    if (this.res.writableEnded) return; // answered by the front (see writeHead)
    // A client gone: nothing goes out ($body_bytes_sent 0, as nginx's).
    if (!this.req.socket.destroyed) {
      if (chunk !== undefined) this.handed += framed(this.res, typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
      if (this.res.chunkedEncoding) {
        // the last chunk, `0\r\n\r\n`, with add_trailer's lines when there are some
        const lines = this.trailers?.() ?? [];
        this.handed += lastChunk(() => lines).length;
        if (lines.length > 0) this.res.addTrailers(lines as Array<[string, string]>);
      }
      (this.req.socket as Marked)[ANSWERED_AT] = this.req.socket.bytesRead;
    }
    this.res.end(chunk);
  }

  destroy(): void {
    const res = this.res as ServerResponse & { _headerSent: boolean };
    // A head node keeps for the first body bytes goes out before the cut, as on the native
    // engine (nginx has sent it when the upstream paused after it): the client sees the head,
    // then the close. The bytes are handed to the socket before it is destroyed.
    if (res.headersSent && !res._headerSent && !res.writableEnded && !this.req.socket.destroyed) res.flushHeaders();
    // Bytes already handed over (a flushed chunk) go out before the close, as nginx's written
    // bytes do: destroy() would drop the socket's write queue. No more is written after.
    const s = this.req.socket as Socket & { destroySoon?: () => void };
    if (s.writableLength > 0 && !s.destroyed && typeof s.destroySoon === 'function') {
      s.destroySoon();
      return;
    }
    res.destroy();
  }

  /** ngx.req.socket(true): node-raw.ts. A head made and not sent yet (send_headers + flush) goes first. */
  takeRaw(): RawStream {
    const res = this.res as ServerResponse & { _header?: string | null; _headerSent?: boolean };
    const head = !this.http09 && typeof res._header === 'string' && !res._headerSent ? res._header : null;
    if (head !== null) {
      this.req.socket.write(head, 'latin1');
      res._headerSent = true;
    }
    return takeNodeSocket(this.req, this.res, this.http09 ? undefined : this.firstPacket, (n) => { this.handed += n; });
  }

  abandon(): void {
    const res = this.res as ServerResponse & { _headerSent: boolean; chunkedEncoding: boolean };
    if (!res._headerSent) {
      // A head node counts as sent but never writes (204 when none was made: no body framing).
      if (!res.headersSent) res.writeHead(204);
      res._headerSent = true;
    }
    res.chunkedEncoding = false; // no `0\r\n\r\n`
    res.end();
  }
}

/** Bytes a body chunk of `n` bytes takes on the wire: with its framing when node sends chunks
 *  (nginx's $body_bytes_sent counts it). */
function framed(res: ServerResponse, n: number): number {
  return res.chunkedEncoding && n > 0 ? n + n.toString(16).length + 4 : n;
}

function unmapped(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/**
 * The body, its bytes counted as they are read ($request_length); with a `limit` (> 0), a chunked
 * body stops with TRESTY_ERR_BODY_TOO_LARGE past it (the pipeline answers 413). Pulled by hand: leaving a for-await over `req` would destroy the socket, and
 * the 413 could not be sent. The answer then closes the connection, as nginx does: the rest of
 * the body is unread, and keeping the connection would wait for it (or read it as a request).
 */
const isTimeout = (e: unknown): boolean => e instanceof TrestyError && /client_body_timeout/.test(e.message);

/** The next piece, or client_body_timeout's failure when none comes within `ms` (0: no limit). */
export function timed(next: Promise<IteratorResult<Buffer>>, ms: number): Promise<IteratorResult<Buffer>> {
  if (ms <= 0) return next;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TrestyError('TRESTY_ERR_CLIENT_GONE', 'client timed out (client_body_timeout)')), ms);
  });
  next.catch(() => undefined); // a close after the timeout: the request has ended already
  return Promise.race([next, late]).finally(() => clearTimeout(timer));
}

function counted(req: IncomingMessage, res: ServerResponse, limit: number, timeoutMs: number, read: (n: number) => void, done: () => void): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const it = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      let seen = 0;
      // Bytes node had buffered when the client closed, and the error that follows them.
      let left: Buffer[] | null = null;
      let gone: unknown = null;
      const pull = async (): Promise<IteratorResult<Buffer>> => {
        if (left === null) {
          try {
            return await timed(it.next(), timeoutMs);
          } catch (e) {
            if (isTimeout(e)) throw e;
            // node destroys a request whose client closed mid-body, with what came before the
            // close still buffered and not handed over: it goes first, as nginx reads it.
            // (readableBuffer: the Readable's own list, untyped in @types/node.)
            left = req.readableLength > 0 ? [...(req as unknown as { readableBuffer: Iterable<Buffer> }).readableBuffer] : [];
            gone = e;
          }
        }
        const c = left.shift();
        if (c === undefined) throw gone;
        return { value: c, done: false };
      };
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          const r = await pull();
          if (r.done) { done(); return r; }
          seen += r.value.byteLength;
          read(r.value.byteLength);
          if (limit > 0 && seen > limit) {
            res.shouldKeepAlive = false;
            throw new TrestyError('TRESTY_ERR_BODY_TOO_LARGE', `client intended to send too large chunked body: ${seen}+ bytes`);
          }
          return r;
        },
        return: it.return ? (v?: unknown) => it.return!(v) as Promise<IteratorResult<Uint8Array>> : undefined,
      };
    },
  };
}
