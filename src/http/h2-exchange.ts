// One HTTP/2 stream as an HttpExchange, so the phases serve HTTP/2 exactly as HTTP/1: the
// pseudo-headers become the method and target, `:authority` the Host, and headers HTTP/2 forbids
// (Connection, Keep-Alive, Transfer-Encoding ...) are left out of the answer.
import type { ServerConf } from '../config/types.js';
import http2 from 'node:http2';
import { TrestyError } from '../errors.js';
import { timed } from './exchange.js';
import { socketTls, type TlsInfo } from '../tls/info.js';
import { type CertRefusal, certRefusal, negotiatedName } from '../tls/verify.js';
import { misdirected } from './vhost.js';
import type { HttpExchange } from './types.js';
import { software } from './software.js';

/** A session's state as its streams' resets need it: a GOAWAY came (node's client sends one
 *  before it drops the connection), and the connection-level line for a lost connection. */
const sessions = new WeakMap<http2.Http2Session, { goaway: boolean; lost: (() => void) | null; number: number; start: number; streams: number }>();

/** Watches a new session numbered `number` (`*N`, $connection): `lost` logs nginx's line once if
 *  the connection goes with streams open. */
export function watchSession(s: http2.Http2Session, number: number, lost: () => void): void {
  const st = { goaway: false, lost: lost as (() => void) | null, number, start: Date.now(), streams: 0 };
  sessions.set(s, st);
  s.once('goaway', () => { st.goaway = true; });
}

/** Connection-specific headers, forbidden in HTTP/2 answers (RFC 9113, 8.2.2). */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

export class H2Exchange implements HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '2.0';
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  readonly scheme = 'https' as const;
  tlsInfo(): TlsInfo | null { return socketTls(this.stream.session?.socket); }
  tlsRefusal(server: ServerConf): CertRefusal | null {
    const socket = this.stream.session?.socket;
    return certRefusal(socket, server.ssl.verifyClient, misdirected(negotiatedName(socket), this.headers.host));
  }
  bytesSent = 0;
  headersSent = false;
  /** Bytes a chunked body may carry (client_max_body_size); 0 = no limit. */
  bodyLimit = 0;
  bodyTooLarge = false;
  /** client_body_timeout (ms): the location's (request/body-of.ts), else the server's (tls-front.ts). */
  bodyTimeout?: number;
  serverBodyTimeout = 0;
  /** The body stalled past client_body_timeout: the stream is reset with PROTOCOL_ERROR (nginx's
   *  code for a timed-out stream), not INTERNAL_ERROR. */
  private timedOut = false;
  bodyBreak: { status: 400 | 499; line: string } | null = null;
  connection: number | undefined = undefined;
  connectionRequests = 1;
  connectionStart: number | undefined = undefined;
  private resetLog: ((line: string) => void) | null = null;
  /** A write waits for room: a reset then cuts an answer (nginx's line says so). */
  private waiting = false;
  /** Kept: the stream forgets its session once closed, and a late log line still names the
   *  client. */
  private readonly session: http2.Http2Session;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  private consumed = false;
  private ended = false;

  constructor(readonly stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders, raw: readonly string[]) {
    this.method = String(h[':method'] ?? 'GET');
    this.url = String(h[':path'] ?? '/');
    const headers: Record<string, string | string[] | undefined> = {};
    const rawOut: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = raw[i]!;
      if (n.startsWith(':')) continue;
      rawOut.push(n, raw[i + 1]!);
    }
    for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = v as string | string[];
    const authority = h[':authority'];
    if (headers.host === undefined && typeof authority === 'string') {
      headers.host = authority;
      rawOut.unshift('host', authority);
    }
    this.headers = headers;
    this.rawHeaders = rawOut;
    this.session = stream.session!;
    // a stream counts as a request of its connection, as nginx's
    const st = sessions.get(this.session);
    if (st !== undefined) {
      this.connection = st.number;
      this.connectionRequests = ++st.streams;
      this.connectionStart = st.start;
    }
    const socket: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number } = this.session?.socket ?? {};
    this.remoteAddress = unmapped(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = unmapped(socket.localAddress);
    this.localPort = socket.localPort ?? 0;
    stream.once('aborted', () => this.onReset());
  }


  get body(): AsyncIterable<Uint8Array> {
    if (this.consumed) throw new TrestyError('TRESTY_ERR_API_ARGS', 'the request body was already read');
    this.consumed = true;
    const stream = this.stream;
    const limit = this.bodyLimit;
    const ms = this.bodyTimeout ?? this.serverBodyTimeout;
    const self = this;
    return (async function* () {
      let seen = 0;
      const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await timed(it.next(), ms);
        } catch (e) {
          if (e instanceof TrestyError && e.code === 'TRESTY_ERR_CLIENT_GONE') self.timedOut = true;
          else if (stream.aborted || stream.destroyed) throw self.brokenOff(seen);
          throw e;
        }
        if (next.done) {
          // a stream destroyed on its reset (onReset) ends its reading with no error: without
          // the client's END_STREAM ('end' not emitted) the body was broken off, length or not
          if (!stream.readableEnded && (stream.aborted || stream.destroyed)) throw self.brokenOff(seen);
          return;
        }
        const c = next.value;
        seen += c.byteLength;
        if (limit > 0 && seen > limit) {
          throw new TrestyError('TRESTY_ERR_BODY_TOO_LARGE', `client intended to send too large body: ${seen}+ bytes`);
        }
        yield c;
      }
    })();
  }

  /**
   * The stream closed mid-body, as nginx's HTTP/2 body reader tells it: a body that ended short
   * of its Content-Length (nghttp2 resets such a stream itself, PROTOCOL_ERROR) is 400 with the
   * byte counts; a reset from the client or a lost connection is 499 (the reset's own line came
   * first, from onReset).
   */
  private brokenOff(seen: number): TrestyError {
    const length = this.declaredLength();
    this.bodyBreak = this.stream.rstCode === http2.constants.NGHTTP2_PROTOCOL_ERROR && length > seen
      ? { status: 400, line: `client prematurely closed stream: only ${seen} out of ${length} bytes of request body received` }
      : { status: 499, line: 'client prematurely closed stream' };
    return new TrestyError('TRESTY_ERR_CLIENT_GONE', 'client prematurely closed stream');
  }

  /** The body's Content-Length; -1 when it has none. */
  private declaredLength(): number {
    const v = this.headers['content-length'];
    return v === undefined ? -1 : Number(v);
  }

  /** Where nginx's lines about a reset go (the request's log); set when the request starts. */
  watchReset(log: (line: string) => void): void { this.resetLog = log; }

  /**
   * RST_STREAM came (or the connection went). node only marks the stream aborted and keeps what
   * it had still to send, never closing it: it is destroyed here, which frees that and ends
   * the writes that wait for room. nginx logs the reset at once, and a write cut by it.
   */
  private onReset(): void {
    if (this.ended) return; // our own close (destroy(): a timeout's PROTOCOL_ERROR)
    const code = this.stream.rstCode;
    // nghttp2's own reset of a body short of its Content-Length (brokenOff) and a lost
    // connection (node closes its streams with CANCEL) are no reset of the client's.
    const st = sessions.get(this.session);
    const lost = this.session.destroyed || this.session.closed || (st?.goaway === true && code === http2.constants.NGHTTP2_CANCEL);
    if (lost && st?.lost) { st.lost(); st.lost = null; }
    const short = code === http2.constants.NGHTTP2_PROTOCOL_ERROR && this.declaredLength() >= 0;
    if (!lost && !short) this.resetLog?.(code === http2.constants.NGHTTP2_CANCEL ? `client canceled stream ${this.stream.id}` : `client terminated stream ${this.stream.id} with status ${code ?? 0}`);
    if (this.waiting) this.resetLog?.('client prematurely closed connection');
    if (!this.stream.destroyed) this.stream.destroy();
  }

  get aborted(): boolean { return !this.ended && (this.stream.aborted || this.stream.destroyed); }

  onAbort(cb: () => void): void {
    let once = false;
    const call = (): void => { if (!this.ended && !once) { once = true; cb(); } };
    this.stream.once('aborted', call);
    this.stream.once('close', call);
  }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    // nginx's order: server first (node adds the date); a handler's own server replaces it.
    const out: http2.OutgoingHttpHeaders = { ':status': status, server: software() };
    let ownServer = false;
    for (const [n, v] of headers) {
      const k = n.toLowerCase();
      if (FORBIDDEN.has(k)) continue;
      if (k === 'server' && !ownServer) { ownServer = true; out.server = v; continue; }
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
    }
    this.headersSent = true;
    if (this.stream.destroyed) return;
    // add_trailer: the stream waits for its trailers after the last DATA frame (sent at end()).
    const trailers = this.trailers;
    if (trailers === null || this.noBodyFor(status)) {
      this.stream.respond(out);
      return;
    }
    this.stream.respond(out, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => {
      const t: http2.OutgoingHttpHeaders = {};
      for (const [n, v] of trailers()) {
        const k = n.toLowerCase();
        const prev = t[k];
        t[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
      }
      this.stream.sendTrailers(t);
    });
  }

  trailers: (() => ReadonlyArray<readonly [string, string]>) | null = null;

  /** A HEAD, a 204 or a 304: the head ends the stream, no trailers follow. */
  private noBodyFor(status: number): boolean {
    return this.method === 'HEAD' || status === 204 || status === 304;
  }

  write(chunk: Uint8Array | string): Promise<void> | void {
    this.bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (this.stream.destroyed || this.stream.write(chunk)) return;
    this.waiting = true;
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiting = false;
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  end(chunk?: Uint8Array | string): void {
    if (chunk !== undefined) this.bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    this.ended = true;
    if (!this.stream.destroyed) this.stream.end(chunk);
  }

  destroy(): void {
    this.ended = true;
    if (!this.stream.destroyed) this.stream.close(this.timedOut ? http2.constants.NGHTTP2_PROTOCOL_ERROR : http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function unmapped(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
