// ngx.req.socket(): OpenResty's read-only cosocket over the downstream request body, for
// handlers that stream an upload (lua-resty-upload's receiveuntil / receive('*l') / receive(n)).
// It pulls the body from the exchange one piece at a time, and only when a receive needs more
// bytes than it holds, so the body is never held whole: the engines hold the client back by TCP.
//
// Return values and error texts are nginx 1.22 + lua-nginx-module 0.10.23's, observed: reading
// past the body's end gives "closed" (with what was left as the partial data), the client going
// away "client aborted", a read that waits too long "timeout" (the socket stays usable).

import { TrestyError } from '../errors.js';
import type { Call } from '../request/call.js';
import { openRawSocket, type RawReqSocket } from './req-socket-raw.js';
import { argErr, receiveanyMax, receivePattern, timeoutArg, typeName } from './socket-args.js';
import { ByteQueue } from './socket-buffer.js';
import { SocketOwner } from './socket-owner.js';
import { untilFrom, untilSize, type Data, type ReadResult, type UntilIterator } from './socket-until.js';

/** lua_socket_read_timeout's default. */
const DEFAULT_READ_MS = 60_000;

export interface ReqSocketOptions {
  /** Receive methods return Uint8Array (Buffer) instead of UTF-8 strings (uploads of files). */
  binary?: boolean;
}

/** One pull from the body: a piece, its end, or the failure's text (never a rejection). */
type Pulled = { b: Uint8Array } | { end: true } | { err: string };

export class ReqSocket {
  readonly #owner: SocketOwner;
  readonly #binary: boolean;
  readonly #body: AsyncIterable<Uint8Array>;
  #src: AsyncIterator<Uint8Array> | null = null;
  /** The pull in flight: a receive that timed out leaves it for the next one. */
  #pending: Promise<Pulled> | null = null;
  readonly #q = new ByteQueue();
  /** The whole body has arrived (what is left is in #q). */
  #eof = false;
  /** A read reached the end or failed: nginx's read_closed, every read now gives "closed". */
  #closed = false;
  #reading = false;
  #readMs = 0;

  /** @internal `call`: the request's run; `body`: its body, not read yet. */
  constructor(call: Call, body: AsyncIterable<Uint8Array>, opts?: ReqSocketOptions) {
    this.#owner = new SocketOwner(call, () => this.#ended());
    this.#body = body;
    this.#binary = opts?.binary === true;
  }

  /** @internal The request ended: the socket is closed, and an unread rest is discarded. */
  #ended(): void {
    this.#closed = true;
    this.#q.takeAll();
    // Read on to the end so a keep-alive connection can serve its next request, as nginx discards
    // an unread body (node:http would stall on a half-read body; the native engine drops it itself).
    if (this.#src !== null && !this.#eof) void discard(this.#src, this.#pending);
    this.#pending = null;
  }

  /**
   * Throws unless the running code may use the socket (its request, a phase with cosockets).
   * False once its request ended: nginx then answers "closed" rather than raising.
   */
  #usable(): boolean {
    if (this.#owner.dead) return false;
    this.#owner.check();
    return true;
  }

  #out(b: Buffer): Data { return this.#binary ? b : b.toString('utf8'); }

  /**
   * receive('*l') (the default: a line, without its LF and every CR), receive('*a') (the rest of
   * the body), receive(n) (exactly n bytes): [data, null, null] or [null, err, partial].
   */
  receive(pattern?: string | number): Promise<ReadResult> {
    if (!this.#usable()) return Promise.resolve([null, 'closed', null]);
    const q = this.#q;
    const mode = receivePattern(pattern);
    if (mode === 'l') return this.#read(() => q.takeLine());
    if (mode === 'a') return this.#read(() => (this.#eof ? q.takeAll() : null));
    if (mode === 0 && !this.#closed) return Promise.resolve([this.#out(Buffer.alloc(0)), null, null]);
    return this.#read(() => (q.length >= mode ? q.take(mode) : null));
  }

  /**
   * What has arrived, at most `max` bytes, waiting for some if none: [data, null] or
   * [null, err, partial] (nginx gives "" as a third value at the body's end).
   */
  async receiveany(max: number): Promise<[Data, null] | [null, string, Data | null]> {
    if (!this.#usable()) return [null, 'closed', null];
    receiveanyMax(max);
    const q = this.#q;
    const [data, err, partial] = await this.#read(() => (q.length > 0 ? q.take(Math.min(max, q.length)) : null));
    return data !== null ? [data, null] : [null, err!, partial];
  }

  /**
   * An iterator reading up to `pattern` (a multipart boundary): `await it()` gives the data before
   * it (with it when `inclusive`); `await it(size)` at most `size` bytes per call and
   * [null, null, null] once the pattern was passed.
   */
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

  /** The read timeout in ms (0: back to the 60 s default); the request socket only reads. */
  settimeout(ms: number): void {
    if (!this.#usable()) return;
    this.#readMs = timeoutArg('settimeout', ms);
  }

  /** connect and send timeouts are checked and ignored: the request socket only reads. */
  settimeouts(connectMs: number, sendMs: number, readMs: number): void {
    if (!this.#usable()) return;
    timeoutArg('settimeouts', connectMs, 1);
    timeoutArg('settimeouts', sendMs, 2);
    this.#readMs = timeoutArg('settimeouts', readMs, 3);
  }

  /**
   * The loop every receive shares: `step` takes what it needs from the buffer or returns null to
   * wait for more. The timeout counts from the last piece received, as nginx's.
   */
  async #read(step: () => Buffer | null): Promise<ReadResult> {
    if (this.#closed) return [null, 'closed', null];
    if (this.#reading) return [null, 'socket busy reading', null];
    this.#reading = true;
    try {
      for (;;) {
        const got = step();
        if (got !== null) return [this.#out(got), null, null];
        if (this.#eof) {
          this.#closed = true;
          return [null, 'closed', this.#out(this.#q.takeAll())];
        }
        const err = await this.#pull();
        if (this.#owner.dead) return [null, 'closed', null];
        if (err === 'timeout') return [null, 'timeout', this.#out(this.#q.takeAll())];
        if (err !== null) {
          this.#closed = true;
          return [null, err, this.#out(this.#q.takeAll())];
        }
      }
    } finally {
      this.#reading = false;
    }
  }

  /** Waits for the next piece of the body: null once it (or the end) is in, else the error text. */
  async #pull(): Promise<string | null> {
    const src = (this.#src ??= this.#body[Symbol.asyncIterator]());
    const p = (this.#pending ??= src.next().then(
      (r): Pulled => (r.done ? { end: true } : { b: r.value }),
      (e: unknown): Pulled => ({ err: /client_body_timeout/.test(String((e as Error)?.message)) ? 'timeout' : 'client aborted' }),
    ));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(resolve, this.#readMs || DEFAULT_READ_MS, null); });
    const got = await Promise.race([p, late]);
    clearTimeout(timer);
    if (got === null) return 'timeout';
    this.#pending = null;
    if ('err' in got) return got.err;
    if ('end' in got) this.#eof = true;
    else this.#q.push(Buffer.from(got.b.buffer, got.b.byteOffset, got.b.byteLength));
    return null;
  }
}

/** Reads the body to its end and drops it (a failure means there is nothing more to read). */
async function discard(src: AsyncIterator<Uint8Array>, pending: Promise<Pulled> | null): Promise<void> {
  try {
    if (pending !== null && !('b' in (await pending))) return;
    while (!(await src.next()).done) { /* dropped */ }
  } catch { /* the client went away: nothing more to read */ }
}

/** What ngx.req.socket() returns: the socket, or nginx's reason there is none. */
export type ReqSocketResult = [ReqSocket, null] | [RawReqSocket, null] | [null, string];

/**
 * ngx.req.socket(raw?, opts?) for request `call` (rewrite, access, content: its caller checked).
 * The checks and their texts in lua-nginx-module's order, as observed.
 */
export function openReqSocket(call: Call, raw?: unknown, opts?: unknown): ReqSocketResult {
  const r = call.req!;
  if (typeof raw === 'object' && raw !== null && opts === undefined) { opts = raw; raw = undefined; }
  if (raw !== undefined && raw !== null && typeof raw !== 'boolean') throw argErr(`bad argument #1 to 'socket' (boolean expected, got ${typeName(raw)})`);
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw argErr(`bad argument #2 to 'socket' (table expected, got ${typeName(opts)})`);
  if (r.parent !== null) throw new TrestyError('TRESTY_ERR_API_UNSUPPORTED', 'attempt to read the request body in a subrequest');
  // nginx raises this one, before looking at the body.
  if (r.ex.httpVersion === '2.0') throw new TrestyError('TRESTY_ERR_API_UNSUPPORTED', 'http v2 not supported yet');
  if (raw === true) return openRawSocket(call, opts as ReqSocketOptions | undefined);
  const h = r.ex.headers;
  const te = h['transfer-encoding'];
  if (te !== undefined && /chunked/i.test(String(te))) return [null, 'chunked request bodies not supported yet'];
  if (r.body !== undefined) return [null, 'request body already exists'];
  const cl = Number(h['content-length'] ?? 0);
  if (!(cl > 0)) return [null, 'no body'];
  // From now on the body counts as read: read_body() returns at once, get_body_data() is null.
  r.body = null;
  return [new ReqSocket(call, r.ex.body, opts as ReqSocketOptions | undefined), null];
}
