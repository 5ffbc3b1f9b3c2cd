// One connection to an upstream server (plain TCP, a unix socket or TLS), carrying one request at
// a time: the request is written as it comes, the answer is parsed as it arrives and handed to
// the current exchange (a Sink). Timeouts follow nginx: proxy_connect_timeout for the connect,
// proxy_send_timeout while a write waits, proxy_read_timeout between reads once the request is
// sent; none while the client holds the answer back (back-pressure pauses the socket).

import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { EngineSocket, engineSocketsOn } from '../http/native-upstream.js';
import { type ParserEvents, ResponseParser, type ResponseHead } from './parser.js';
import { verifyNumber } from '../tls/info.js';

export type FailKind = 'error' | 'timeout' | 'invalid_header' | 'bind';

/**
 * Receives one answer. `body` may return a promise: reading pauses until it settles. Its chunk
 * may be a view of the socket's read buffer: UpstreamConn.keep() makes it valid to keep.
 */
export interface Sink {
  onHead(h: ResponseHead): void;
  onBody(chunk: Buffer): Promise<void> | void;
  onEnd(): void;
  onFail(kind: FailKind, message: string): void;
}

export interface Target {
  /** `host:port` (or the unix path), the pool's key for reuse. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** TLS options for https:// upstreams, else null. */
  readonly tls: tls.ConnectionOptions | null;
  /** proxy_bind's local address (`text` as written, for nginx's line), if any. */
  readonly local?: { readonly host: string; readonly port: number; readonly text: string };
}

/** A connect that failed, with nginx's wording. */
export class ConnectFailure {
  constructor(readonly kind: FailKind, readonly message: string) {}
}

export function errnoText(e: NodeJS.ErrnoException): string {
  const code = e.code ?? 'EIO';
  const n = typeof e.errno === 'number' ? Math.abs(e.errno) : 0;
  const text: Record<string, string> = {
    ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer', ETIMEDOUT: 'Connection timed out',
    EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable', EPIPE: 'Broken pipe',
    ENOENT: 'No such file or directory', EADDRNOTAVAIL: 'Cannot assign requested address', EADDRINUSE: 'Address already in use', ENOTFOUND: 'Host not found', EAI_AGAIN: 'Temporary failure in name resolution',
  };
  return `${n}: ${text[code] ?? e.message}`;
}

/** What an upstream connection needs of its socket: a net.Socket, or the native engine's (EngineSocket). */
export interface UpSocket {
  readonly destroyed: boolean;
  write(data: string | Uint8Array, encoding?: BufferEncoding): boolean;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  setTimeout(ms: number): unknown;
  ref(): unknown;
  unref(): unknown;
  on(event: string, fn: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  off(event: string, fn: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What keeps a body chunk valid past its callback (ReadBuffer, or a copy for the engine's reads). */
export interface Keeper { keep(c: Buffer): Buffer }

/** The engine's reads are views of its inbox, reused by the next batch: a kept chunk is a copy. */
const COPIES: Keeper = { keep: (c) => Buffer.from(c) };

const enum Phase { Idle, Sending, Waiting, Reading }

export class UpstreamConn implements ParserEvents {
  /** Requests carried so far (keepalive_requests). */
  requests = 0;
  readonly born = Date.now();
  /** The current exchange runs on a connection taken from the pool. */
  reused = false;
  /** Bytes read for the current answer ($upstream_bytes_received). */
  bytesIn = 0;
  /** Set when the connection must not be reused (bytes after an answer, a cut body ...). */
  spoiled = false;
  /** Called once when the socket closes (the pool forgets it). */
  onClose: ((c: UpstreamConn) => void) | null = null;
  private sink: Sink | null = null;
  private readonly parser: ResponseParser;
  private phase = Phase.Idle;
  private readTimeout = 0;
  private sendTimeout = 0;
  private complete = false;
  /** Body chunks the client side still holds: reading is paused while any is held. */
  private holds = 0;
  /** The socket timeout now set (set again only when it changes: each call allocates a timer). */
  private armed = -1;
  private streaming = false;
  /** The whole request went out (a connection is reusable only then). */
  private requestDone = false;

  /**
   * @param reads the socket reads into a buffer of its own (connect() set it up; TLS sockets do
   *   not): body chunks handed to the sink are valid only during the call unless kept (keep()).
   */
  constructor(readonly socket: UpSocket, readonly key: string, maxHead: number, private readonly reads: Keeper | null = null) {
    this.parser = new ResponseParser(this, maxHead);
    if (reads === null) socket.on('data', (b: Buffer) => this.onData(b));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (e: NodeJS.ErrnoException) => this.onSocketError(e));
    socket.on('timeout', () => this.onTimeout());
    socket.on('close', () => {
      this.onSocketEnd();
      this.onClose?.(this);
    });
  }

  get idle(): boolean { return this.sink === null; }

  /** Starts an exchange: the answer goes to `sink`. */
  begin(sink: Sink, headRequest: boolean, readTimeout: number, sendTimeout: number): void {
    this.sink = sink;
    this.complete = false;
    this.requestDone = false;
    this.bytesIn = 0;
    this.requests++;
    this.readTimeout = readTimeout;
    this.sendTimeout = sendTimeout;
    this.phase = Phase.Sending;
    this.streaming = false;
    this.parser.reset(headRequest);
    // One inactivity limit for the exchange; with nginx's equal defaults (and keepalive_timeout
    // 60s) the socket's timer is not touched at all from one request to the next.
    this.arm(readTimeout);
    this.socket.ref();
  }

  /**
   * The body now comes from the client as it arrives: the upstream may sit idle meanwhile (the
   * client's own timeouts apply), so no timer runs unless a write waits (proxy_send_timeout).
   */
  streamingBody(): void {
    this.streaming = true;
    this.arm(0);
  }

  private arm(ms: number): void {
    if (ms === this.armed) return;
    this.armed = ms;
    this.socket.setTimeout(ms);
  }

  /** Writes request bytes; a promise when the socket is full (proxy_send_timeout runs meanwhile). */
  write(data: string | Uint8Array): Promise<void> | void {
    const ok = typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
    if (ok || this.socket.destroyed) return;
    if (this.phase === Phase.Sending) this.arm(this.sendTimeout);
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        if (this.phase === Phase.Sending) this.arm(this.streaming ? 0 : this.readTimeout);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** The whole request is written: from now on proxy_read_timeout runs between reads. */
  sent(): void {
    this.requestDone = true;
    this.streaming = false;
    if (this.phase !== Phase.Sending) return;
    this.phase = Phase.Waiting;
    this.arm(this.readTimeout);
  }

  /** The answer came whole and the connection may carry the next request. */
  get reusable(): boolean {
    return this.complete && !this.spoiled && this.phase === Phase.Idle && !this.socket.destroyed;
  }

  /** Ends the exchange early (the client went away, a retry): the connection is closed. */
  abort(): void {
    this.sink = null;
    this.spoiled = true;
    this.socket.destroy();
  }

  /** Parked in the pool: idle until `timeout`, then closed. */
  park(timeout: number): void {
    this.phase = Phase.Idle;
    this.arm(timeout);
    this.socket.unref();
  }

  // --- parser events, forwarded to the exchange ---
  onHead(h: ResponseHead): void {
    this.phase = Phase.Reading;
    // The answer came while the client's body still streams (no timer then): from now on the
    // upstream's reads are timed, as nginx times reading an answer, or a silent one hangs.
    if (this.streaming && this.holds === 0) this.arm(this.readTimeout);
    if (!h.keepAlive) this.spoiled = true;
    this.sink?.onHead(h);
  }

  onBody(chunk: Buffer): void {
    const sink = this.sink;
    if (sink === null) return;
    const p = sink.onBody(chunk);
    if (p === undefined) return;
    // The client is slower than the upstream: stop reading (no read timeout while held back).
    if (this.holds++ === 0) {
      this.socket.pause();
      this.arm(0);
    }
    void p.then(() => {
      if (--this.holds > 0 || this.socket.destroyed) return;
      if (this.sink !== null) this.arm(this.readTimeout);
      this.socket.resume();
    });
  }

  onEnd(rest: boolean): void {
    // Bytes after the answer, or an answer before the whole request went: do not reuse.
    if (rest || !this.requestDone) this.spoiled = true;
    this.complete = true;
    this.phase = Phase.Idle;
    const sink = this.sink;
    this.sink = null;
    sink?.onEnd();
  }

  onError(message: string): void {
    this.spoiled = true;
    const sink = this.sink;
    this.sink = null;
    this.socket.destroy();
    sink?.onFail(message.includes('prematurely closed') ? 'error' : 'invalid_header', message);
  }

  /** The server closed its side: a close-delimited answer ends, any other is cut. */
  private onSocketEnd(): void {
    this.spoiled = true;
    if (this.sink !== null) this.parser.eof();
  }

  /** `c` (a body chunk of the read being handled), made valid to keep. */
  keep(c: Buffer): Buffer {
    return this.reads === null ? c : this.reads.keep(c);
  }

  /** keep() as a function to hand on: one per connection, not one per exchange. */
  readonly keeper = (c: Buffer): Buffer => this.keep(c);

  /** A read into the socket's own buffer: `n` bytes at its start. */
  readonly onRead = (n: number, b: Buffer): void => {
    this.onData(b.subarray(0, n));
  };

  private onData(b: Buffer): void {
    if (this.sink === null) {
      // Bytes on an idle connection: the server broke the protocol; do not reuse it.
      this.spoiled = true;
      this.socket.destroy();
      return;
    }
    this.bytesIn += b.length;
    this.parser.execute(b);
  }

  private onSocketError(e: NodeJS.ErrnoException): void {
    this.spoiled = true;
    const sink = this.sink;
    if (sink === null) return;
    this.sink = null;
    const what = this.phase === Phase.Sending ? 'while sending request to upstream'
      : this.phase === Phase.Waiting ? 'while reading response header from upstream' : 'while reading upstream';
    const op = this.phase === Phase.Sending ? 'writev()' : 'recv()';
    sink.onFail('error', `${op} failed (${errnoText(e)}) ${what}`);
  }

  private onTimeout(): void {
    const sink = this.sink;
    if (sink === null) {
      // keepalive_timeout of an idle connection.
      this.socket.destroy();
      return;
    }
    this.sink = null;
    this.spoiled = true;
    this.socket.destroy();
    const what = this.phase === Phase.Sending ? 'while sending request to upstream'
      : this.phase === Phase.Waiting ? 'while reading response header from upstream' : 'while reading upstream';
    sink.onFail('timeout', `upstream timed out (110: Connection timed out) ${what}`);
  }
}

/*
 * A plain upstream socket reads into a buffer of its own, reused for every read, instead of a
 * fresh 64 KB buffer per read (node's default, shrunk afterwards): that allocation and the garbage
 * it left were a large part of a proxied request's cost. So the body slices the parser hands on
 * are valid only until the callback returns: whoever keeps one calls keep() (Exchange, stream()).
 */
const READ_BUFFER = 64 * 1024;
/** Below this a kept slice is copied (from node's pool); above, the read buffer is given away. */
const COPY_MAX = 8 * 1024;

export class ReadBuffer implements Keeper {
  private buf = Buffer.allocUnsafeSlow(READ_BUFFER);
  private given = false;
  /** node asks for the next read's buffer after each read (and once at the start). */
  readonly next = (): Buffer => {
    if (this.given) {
      this.buf = Buffer.allocUnsafeSlow(READ_BUFFER);
      this.given = false;
    }
    return this.buf;
  };
  /** A slice of the last read that stays valid: a copy, or the slice with the buffer given away. */
  keep(c: Buffer): Buffer {
    if (c.length <= COPY_MAX) return Buffer.from(c);
    this.given = true;
    return c;
  }
}

/** Opens a connection within `timeoutMs` (proxy_connect_timeout); rejects with a ConnectFailure. */
export function connect(t: Target, timeoutMs: number, maxHead: number): Promise<UpstreamConn> {
  // proxy_bind: the engine's sockets do not bind, node:net does (localAddress).
  if (t.tls === null && t.local === undefined && engineSocketsOn() && (net.isIP(t.host) !== 0 || t.host.startsWith('unix:/'))) return connectEngine(t, timeoutMs, maxHead);
  return new Promise((resolve, reject) => {
    const unix = t.host.startsWith('unix:');
    const local = t.local !== undefined && !unix ? { localAddress: t.local.host, ...(t.local.port !== 0 ? { localPort: t.local.port } : {}) } : {};
    const base: net.NetConnectOpts = unix ? { path: t.host.slice(5) } : { host: t.host, port: t.port, ...local };
    let conn: UpstreamConn | null = null;
    // The read callback needs the connection, made once connected (reading starts after that).
    const reads = t.tls ? null : new ReadBuffer();
    const onread = { buffer: reads?.next, callback: (n: number, b: Uint8Array): void => conn?.onRead(n, b as Buffer) };
    const s = t.tls ? tls.connect({ ...base, ...t.tls }) : net.connect({ ...base, onread } as unknown as net.NetConnectOpts);
    if (!unix) s.setNoDelay(true);
    settleConnect(s, t.tls ? 'secureConnect' : 'connect', timeoutMs, (e) => {
      // System errors carry an errno; certificate checks do not.
      const tlsError = t.tls !== null && typeof e.errno !== 'number';
      if (e.syscall === 'bind') return `bind(${t.local?.text ?? ''}) failed (${errnoText(e)}) while connecting to upstream`;
      return tlsError
        ? `upstream SSL certificate verify error: (${verifyNumber(e.code)}:${e.message}) while SSL handshaking to upstream`
        : `connect() failed (${errnoText(e)}) while connecting to upstream`;
    }, () => {
      conn = new UpstreamConn(s, t.key, maxHead, reads);
      return conn;
    }, resolve, reject);
  });
}

/**
 * Settles a connect: resolve(made()) on `event`, or reject with a ConnectFailure on an error
 * (worded by `failText`, nginx's line) or when `timeoutMs` (proxy_connect_timeout) passes first.
 */
function settleConnect(s: EventEmitter & { destroy(): unknown }, event: string, timeoutMs: number,
  failText: (e: NodeJS.ErrnoException) => string, made: () => UpstreamConn,
  resolve: (c: UpstreamConn) => void, reject: (f: ConnectFailure) => void): void {
  const timer = setTimeout(() => {
    s.destroy();
    reject(new ConnectFailure('timeout', 'upstream timed out (110: Connection timed out) while connecting to upstream'));
  }, timeoutMs);
  const failed = (e: NodeJS.ErrnoException): void => {
    clearTimeout(timer);
    s.destroy();
    reject(new ConnectFailure(e.syscall === 'bind' ? 'bind' : 'error', failText(e)));
  };
  s.once('error', failed);
  s.once(event, () => {
    clearTimeout(timer);
    s.off('error', failed);
    resolve(made());
  });
}

/** connect() on the native engine's sockets: plain http to a numeric address or a unix socket. */
function connectEngine(t: Target, timeoutMs: number, maxHead: number): Promise<UpstreamConn> {
  return new Promise((resolve, reject) => {
    const s = EngineSocket.connect(t.host.startsWith('unix:') ? t.host.slice(5) : t.host, t.port);
    settleConnect(s, 'connect', timeoutMs, (e) => `connect() failed (${errnoText(e)}) while connecting to upstream`, () => {
      const conn = new UpstreamConn(s, t.key, maxHead, COPIES);
      s.ondata = (b) => conn.onRead(b.length, b);
      return conn;
    }, resolve, reject);
  });
}
