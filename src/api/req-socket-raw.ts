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
import { DEFAULT_SOCKET_MS, type Pulled, QueueReader } from './req-socket-reader.js';
import { sendChunks, timeoutArg } from './socket-args.js';

export interface RawSocketOptions {
  /** Receive methods return Uint8Array (Buffer) instead of UTF-8 strings (websocket frames). */
  binary?: boolean;
}

export class RawReqSocket extends QueueReader {
  readonly #raw: RawStream;
  #writing = false;
  #sendMs = 0;
  /** receive('*a') reads until the client closes, then the socket is closed. */
  protected override readonly allCloses = true;

  /** @internal `raw`: the connection the exchange gave away (HttpExchange.takeRaw). */
  constructor(call: Call, raw: RawStream, opts?: RawSocketOptions) {
    super(call, opts?.binary === true);
    this.#raw = raw;
  }

  /**
   * Sends `data` (string, Uint8Array, number, or a nested array of those) as it is: [bytes, null],
   * or [null, err] ("closed", "timeout", "socket busy writing").
   */
  async send(data: unknown): Promise<[number, null] | [null, string]> {
    if (!this.usable()) return [null, 'closed'];
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
      const late = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, this.#sendMs || DEFAULT_SOCKET_MS, 'timeout'); });
      const ok = await Promise.race([w, late]);
      if (ok === 'timeout') return [null, 'timeout'];
      return ok && !this.owner.dead ? [buf.length, null] : [null, 'closed'];
    } finally {
      clearTimeout(timer);
      this.#writing = false;
    }
  }

  /** The read and send timeout in ms (0: back to the 60 s default). */
  settimeout(ms: number): void {
    if (!this.usable()) return;
    this.readMs = this.#sendMs = timeoutArg('settimeout', ms);
  }

  /** Connect (unused here), send and read timeouts in ms. */
  settimeouts(connectMs: number, sendMs: number, readMs: number): void {
    if (!this.usable()) return;
    this.#sendMs = this.timeouts(connectMs, sendMs, readMs);
  }

  /** The connection's next bytes, or its end at the client's close. */
  protected next(): Promise<Pulled> {
    return this.#raw.read().then((b): Pulled => (b === null ? { end: true } : { b }));
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
