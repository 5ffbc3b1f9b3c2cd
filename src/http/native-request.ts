// The request half of a native-engine exchange: the head as the engine parsed it (headers, line,
// addresses, TLS session) and the body as the engine hands it over. Apart from the answer
// (native-exchange.ts), which extends it, so that each file holds one side of the exchange.
import type { ServerConf } from '../config/types.js';
import { misdirected, namedServer, type VhostGroup } from './vhost.js';
import { bindName } from './binds.js';
import { TrestyError } from '../errors.js';
import type { NativeFront } from './native-front.js';
import { F_CHUNKED, F_CONTENT_LENGTH, F_KEEPALIVE } from './native-layout.js';
import { FIRST_WINS } from './native-head-rules.js';
import { Body } from './native-body.js';
import { parseEngineTls, type TlsInfo } from '../tls/info.js';
import { type CertRefusal, refusalOf, requestRefusal } from '../tls/verify.js';

export abstract class NativeRequest {
  /** Bytes of the body handed to the handler, for $request_length: nginx counts a body once it
   *  reads it (an unread one is not counted). */
  protected bodyRead = 0;
  /** The engine's connection number (`*N`), as its own lines carry it. */
  connection: number | undefined = undefined;
  /** $connection_requests, $pipe, $connection_time (native-front.ts, from the REQ record). */
  connectionRequests = 1;
  pipelined = false;
  connectionAgeMs: number | undefined = undefined;
  aborted = false;
  /** Bytes a chunked body may carry (client_max_body_size); 0 = no limit. */
  bodyLimit = 0;
  bodyTimeout?: number;
  bodyTooLarge = false;
  /** The request's Content-Length (0: none). A field, not a WeakMap of the front's: a WeakMap set
   *  per request cost ~4% of a POST's worker CPU in ephemeron barriers and scavenges (perf). */
  contentLength = 0;
  protected ended = false;
  protected keepAlive: boolean;
  protected bodyIt: Body | null = null;
  protected bodyTaken = false;
  /** The whole body, when the engine sent it with the head (REQ_BODY_LEN). */
  protected whole: Buffer | null = null;
  /** The connection was taken raw (ngx.req.socket(true)): its bytes are no longer the request's. */
  protected rawMode = false;
  private hdrs: Record<string, string | string[] | undefined> | null = null;
  private local: [string, number] | null = null;

  constructor(
    readonly front: NativeFront,
    readonly id: number,
    readonly method: string,
    readonly url: string,
    readonly httpVersion: string,
    /** The head as received (latin1) and its headers' [name off, len, value off, len] in it. */
    private readonly head: string,
    private readonly offs: number[],
    readonly remoteAddress: string,
    readonly remotePort: number,
    protected readonly flags: number,
    private readonly bind: { host: string; port: number; ssl?: boolean },
  ) {
    this.keepAlive = (flags & F_KEEPALIVE) !== 0;
  }

  get scheme(): 'http' | 'https' { return this.bind.ssl === true ? 'https' : 'http'; }
  get listen(): string { return bindName(this.bind); }

  /** The TLS session, asked of the engine once (undefined: not yet). */
  private tls: TlsInfo | null | undefined = undefined;

  tlsInfo(): TlsInfo | null {
    if (this.tls === undefined) {
      const b = this.bind.ssl === true ? this.front.native.tlsInfo?.(this.id) ?? null : null;
      this.tls = b === null ? null : parseEngineTls(b);
    }
    return this.tls;
  }

  /** A LOG record's session (its connection may be closed by now). */
  loggedTls(b: Buffer): void { this.tls = parseEngineTls(b); }

  /** 495-497 when the engine left this refused request to JS (an error_page may take it). */
  refused: 0 | 495 | 496 | 497 = 0;

  /** The servers of the address the connection came in on (set by the front). */
  group: VhostGroup | null = null;

  /** The engine's refusal, else nginx's checks against the Host's server (the engine checks a
   *  listener with one server itself; for several, only JS knows the Host's server). */
  tlsRefusal(server: ServerConf): CertRefusal | null {
    if (this.refused !== 0) return refusalOf(this.refused, this.tlsInfo());
    if (server.ssl.verifyClient === null) return null;
    const t = this.tlsInfo();
    const sni = t?.serverName.toLowerCase() ?? '';
    const negotiated = sni !== '' && this.group !== null && namedServer(this.group, sni) !== null ? sni : '';
    const r = requestRefusal(server.ssl.verifyClient, t, misdirected(negotiated, this.headers.host));
    if (r !== null) this.keepAlive = false; // as nginx: a refused request closes its connection
    return r;
  }

  /** nginx's $request_length: the head as received (its blank line too) and the body bytes read,
   *  a chunked body's framing too (the engine counts it: bodyEnd). */
  get requestLength(): number { return this.head.length + this.bodyRead; }

  get requestLine(): string {
    const h = this.head;
    let s = 0;
    while (h.charCodeAt(s) === 13 || h.charCodeAt(s) === 10) s++; // empty lines before the request
    let e = s;
    while (e < h.length && h.charCodeAt(e) !== 13 && h.charCodeAt(e) !== 10) e++;
    return h.slice(s, e);
  }

  private raw: string[] | null = null;

  get rawHeaders(): string[] {
    if (this.raw !== null) return this.raw;
    const o = this.offs;
    const h = this.head;
    const raw: string[] = new Array(o.length >>> 1);
    for (let i = 0; i < o.length; i += 2) raw[i >>> 1] = h.slice(o[i]!, o[i]! + o[i + 1]!);
    return (this.raw = raw);
  }

  get headers(): Record<string, string | string[] | undefined> {
    if (this.hdrs !== null) return this.hdrs;
    const h: Record<string, string | string[] | undefined> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      const v = raw[i + 1];
      const prev = h[k];
      if (prev === undefined) h[k] = k === 'set-cookie' ? [v] : v;
      else if (k === 'set-cookie') (prev as string[]).push(v);
      else if (!FIRST_WINS.has(k)) h[k] = `${prev as string}${k === 'cookie' ? '; ' : ', '}${v}`;
    }
    return (this.hdrs = h);
  }

  /** Any header named If-*: the not-modified filter looks at `headers` only then (building
   *  them for every answer was a visible part of a small request's cost). */
  get conditional(): boolean {
    const o = this.offs;
    const h = this.head;
    for (let i = 0; i < o.length; i += 4) {
      const at = o[i]!;
      if (o[i + 1]! > 3 && (h.charCodeAt(at) | 0x20) === 105 && (h.charCodeAt(at + 1) | 0x20) === 102 && h.charCodeAt(at + 2) === 45) return true;
    }
    return false;
  }

  private localPair(): [string, number] {
    if (this.local) return this.local;
    if (this.bind.host !== '') return (this.local = [this.bind.host, this.bind.port]);
    return (this.local = this.front.native.localAddress(this.id) ?? ['0.0.0.0', this.bind.port]);
  }

  get localAddress(): string { return this.bind.host !== '' ? this.bind.host : this.localPair()[0]; }
  get localPort(): number { return this.bind.host !== '' ? this.bind.port : this.localPair()[1]; }

  // ---- the body ----

  /** A request with a body (Content-Length > 0 or chunked) that the engine has not dropped. */
  get hasBody(): boolean {
    return (this.flags & F_CHUNKED) !== 0 || ((this.flags & F_CONTENT_LENGTH) !== 0 && this.contentLength > 0);
  }

  get body(): AsyncIterable<Uint8Array> {
    if (this.bodyTaken) throw new TrestyError('TRESTY_ERR_API_ARGS', 'the request body was already read');
    this.bodyTaken = true;
    if (!this.hasBody) return { [Symbol.asyncIterator]: () => ({ next: async () => ({ value: undefined, done: true }) }) };
    const whole = this.whole;
    if (whole !== null) {
      this.whole = null;
      this.bodyRead += whole.length;
      return (async function* () { yield whole; })();
    }
    const it = (this.bodyIt = new Body(this));
    if (this.aborted) it.fail(clientGone());
    return { [Symbol.asyncIterator]: () => it };
  }

  /** The engine delivered the whole body with the head (the front calls it before the handler). */
  preread(b: Buffer): void { this.whole = b; }

  takeWholeBody(): Buffer | null {
    const b = this.whole;
    if (b === null || this.bodyTaken) return null;
    this.bodyTaken = true;
    this.whole = null;
    this.bodyRead += b.length;
    return b;
  }

  startBody(): void {
    if (!this.aborted && !this.ended) this.front.native.bodyStart(this.id, this.bodyLimit, this.bodyTimeout ?? 0);
  }

  bodyData(b: Uint8Array): void {
    if (this.bodyIt === null) return;
    // A raw socket's bytes are not the request's ($request_length counts head and body only).
    if (!this.rawMode) this.bodyRead += b.byteLength;
    this.bodyIt.push(b);
  }
  /** `framing`: bytes of a chunked body's framing, which nginx's $request_length counts. */
  bodyEnd(framing: number): void {
    if (this.bodyIt === null) return;
    if (!this.rawMode) this.bodyRead += framing;
    this.bodyIt.end();
  }

  bodyFailed(status: number, reason: string): void {
    this.keepAlive = false; // the engine closes after the answer
    const e = status === 413 ? new TrestyError('TRESTY_ERR_BODY_TOO_LARGE', reason)
      : status === 408 ? new TrestyError('TRESTY_ERR_CLIENT_GONE', `${reason} (client_body_timeout)`)
        : new TrestyError('TRESTY_ERR_BODY_INVALID', reason);
    this.bodyIt?.fail(e);
  }
}

export function clientGone(): TrestyError {
  return new TrestyError('TRESTY_ERR_CLIENT_GONE', 'the client closed the connection');
}
