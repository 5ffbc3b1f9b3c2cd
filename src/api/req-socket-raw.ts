// ngx.req.socket(true): the request's connection itself, both ways, with no HTTP framing: what
// lua-resty-websocket's server is built on. Reads get what the client sends after the request's
// head as it comes (an unread body first, then whatever follows it); sends go out as they are.
// The request (and the connection: no keep-alive) ends when its handler does.
//
// Values and error texts are nginx 1.22 + lua-nginx-module 0.10.23's, observed: the client closing
// gives "closed" with what was left as the partial data (then "closed" with none) and sends still
// work on its half-closed connection; a timeout gives "timeout" with the partial data, which is
// consumed, and the socket stays usable; after the request ended, reads and sends give "closed".

import type { RawStream } from '../http/types.js';
import type { Call } from '../request/call.js';
import { receiveanyMax, receivePattern, sendChunks, timeoutArg } from './socket-args.js';
import { ByteQueue } from './socket-buffer.js';
import { SocketOwner } from './socket-owner.js';
import { untilFrom, untilSize, type Data, type ReadResult, type UntilIterator } from './socket-until.js';

/** lua_socket_read_timeout's and lua_socket_send_timeout's default. */
const DEFAULT_MS = 60_000;

export interface RawSocketOptions {
  /** Receive methods return Uint8Array (Buffer) instead of UTF-8 strings (websocket frames). */
  binary?: boolean;
}

type Pulled = { b: Uint8Array } | { end: true };

export class RawReqSocket {
  readonly #owner: SocketOwner;
  readonly #binary: boolean;
  readonly #raw: RawStream;
  /** The read in flight: a receive that timed out leaves it for the next one. */
  #pending: Promise<Pulled> | null = null;
  readonly #q = new ByteQueue();
  /** The client closed its side, or the request ended: every read now gives "closed". */
  #eof = false;
  #closed = false;
  #reading = false;
  #writing = false;
  #readMs = 0;
  #sendMs = 0;

  /** @internal `raw`: the connection the exchange gave away (HttpExchange.takeRaw). */
  constructor(call: Call, raw: RawStream, opts?: RawSocketOptions) {
    this.#owner = new SocketOwner(call, () => { this.#closed = true; this.#q.takeAll(); });
    this.#raw = raw;
    this.#binary = opts?.binary === true;
  }

  /** Throws unless the running code may use it; false once its request ended ("closed" then). */
  #usable(): boolean {
    if (this.#owner.dead) return false;
    this.#owner.check();
    return true;
  }

  #out(b: Buffer): Data { return this.#binary ? b : b.toString('utf8'); }

  /**
   * receive('*l') (the default: a line, without its LF and every CR), receive('*a') (all until
   * the client closes), receive(n) (exactly n bytes): [data, null, null] or [null, err, partial].
   */
  receive(pattern?: string | number): Promise<ReadResult> {
    if (!this.#usable()) return Promise.resolve([null, 'closed', null]);
    const q = this.#q;
    const mode = receivePattern(pattern);
    if (mode === 'l') return this.#read(() => q.takeLine());
    if (mode === 'a') return this.#read(() => (this.#eof ? q.takeAll() : null), true);
    if (mode === 0 && !this.#closed) return Promise.resolve([this.#out(Buffer.alloc(0)), null, null]);
    return this.#read(() => (q.length >= mode ? q.take(mode) : null));
  }

  /** What has arrived, at most `max` bytes, waiting for some if none: [data, null] or [null, err, partial]. */
  async receiveany(max: number): Promise<[Data, null] | [null, string, Data | null]> {
    if (!this.#usable()) return [null, 'closed', null];
    receiveanyMax(max);
    const q = this.#q;
    const [data, err, partial] = await this.#read(() => (q.length > 0 ? q.take(Math.min(max, q.length)) : null));
    return data !== null ? [data, null] : [null, err!, partial];
  }

  /** An iterator reading up to `pattern`, as the request socket's (req-socket.ts). */
  receiveuntil(pattern: string | Uint8Array, opts?: { inclusive?: boolean }): UntilIterator {
    this.#usable();
    const u = untilFrom(pattern, opts);
    return (size?: number) => {
      if (!this.#usable()) return Promise.resolve([null, 'closed', null]);
      untilSize(size);
      if (u.passed) { u.passed = false; return Promise.resolve([null, null, null]); }
      return this.#read(() => u.step(this.#q, size));
    };
  }

  /**
   * Sends `data` (string, Uint8Array, number, or a nested array of those) as it is: [bytes, null],
   * or [null, err] ("closed", "timeout", "socket busy writing").
   */
  async send(data: unknown): Promise<[number, null] | [null, string]> {
    if (!this.#usable()) return [null, 'closed'];
    const parts: Buffer[] = [];
    sendChunks(data, parts);
    if (this.#raw.gone) return [null, 'closed'];
    if (this.#writing) return [null, 'socket busy writing'];
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (buf.length === 0) return [0, null];
    const w = this.#raw.write(buf);
    if (w === true) return [buf.length, null];
    if (w === false) return [null, 'closed'];
    this.#writing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, this.#sendMs || DEFAULT_MS, 'timeout'); });
      const ok = await Promise.race([w, late]);
      if (ok === 'timeout') return [null, 'timeout'];
      return ok && !this.#owner.dead ? [buf.length, null] : [null, 'closed'];
    } finally {
      clearTimeout(timer);
      this.#writing = false;
    }
  }

  /** The read and send timeout in ms (0: back to the 60 s default). */
  settimeout(ms: number): void {
    if (!this.#usable()) return;
    this.#readMs = this.#sendMs = timeoutArg('settimeout', ms);
  }

  /** Connect (unused here), send and read timeouts in ms. */
  settimeouts(connectMs: number, sendMs: number, readMs: number): void {
    if (!this.#usable()) return;
    timeoutArg('settimeouts', connectMs, 1);
    this.#sendMs = timeoutArg('settimeouts', sendMs, 2);
    this.#readMs = timeoutArg('settimeouts', readMs, 3);
  }

  /**
   * The loop every receive shares: `step` takes what it needs or returns null to wait for more.
   * `all`: '*a', which ends in the data rather than "closed" at the client's close.
   */
  async #read(step: () => Buffer | null, all = false): Promise<ReadResult> {
    if (this.#closed) return [null, 'closed', null];
    if (this.#reading) return [null, 'socket busy reading', null];
    this.#reading = true;
    try {
      for (;;) {
        const got = step();
        if (got !== null) {
          if (all) this.#closed = true;
          return [this.#out(got), null, null];
        }
        if (this.#eof) {
          this.#closed = true;
          return [null, 'closed', this.#out(this.#q.takeAll())];
        }
        const timedOut = await this.#pull();
        if (this.#owner.dead) return [null, 'closed', null];
        if (timedOut) return [null, 'timeout', this.#out(this.#q.takeAll())];
      }
    } finally {
      this.#reading = false;
    }
  }

  /** Waits for the next bytes (or the client's close): true when the read timeout came first. */
  async #pull(): Promise<boolean> {
    const p = (this.#pending ??= this.#raw.read().then((b): Pulled => (b === null ? { end: true } : { b })));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(resolve, this.#readMs || DEFAULT_MS, null); });
    const got = await Promise.race([p, late]);
    clearTimeout(timer);
    if (got === null) return true;
    this.#pending = null;
    if ('end' in got) this.#eof = true;
    else this.#q.push(Buffer.from(got.b.buffer, got.b.byteOffset, got.b.byteLength));
    return false;
  }
}

/** What ngx.req.socket(true) returns: the socket, or nginx's reason there is none. */
export type RawSocketResult = [RawReqSocket, null] | [null, string];

/**
 * ngx.req.socket(true) for request `call` (its caller checked the phase, a subrequest, HTTP/2).
 * The refusals in lua-nginx-module's order, as observed: output handed on but not written yet
 * ("pending data to write"), an HTTP/1.0 answer being buffered ("http 1.0 buffering"), a second
 * call ("duplicate call"). Output produced but not flushed is dropped with the head, as nginx's
 * write filter holds a small answer back and never sends it once the socket is raw.
 */
export function openRawSocket(call: Call, opts?: RawSocketOptions): RawSocketResult {
  const r = call.req!;
  if (r.pending !== null) return [null, 'pending data to write'];
  if (r.ex.httpVersion === '1.0' && r.out !== null) return [null, 'http 1.0 buffering'];
  r.headerSent = true;
  if (r.raw !== null) return [null, 'duplicate call'];
  const take = r.ex.takeRaw;
  if (take === undefined) return [null, 'raw request socket not provided'];
  r.out = null;
  r.outLen = 0;
  r.eofSent = true;
  // The body counts as read: a later ngx.req.socket() says "request body already exists".
  if (r.body === undefined) r.body = null;
  const raw = take.call(r.ex);
  r.raw = raw;
  return [new RawReqSocket(call, raw, opts), null];
}
