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
import { type Pulled, QueueReader } from './req-socket-reader.js';
import { argErr, timeoutArg, typeName } from './socket-args.js';
import { bodyOf } from '../request/body-of.js';

export interface ReqSocketOptions {
  /** Receive methods return Uint8Array (Buffer) instead of UTF-8 strings (uploads of files). */
  binary?: boolean;
}

export class ReqSocket extends QueueReader {
  readonly #body: AsyncIterable<Uint8Array>;
  #src: AsyncIterator<Uint8Array> | null = null;

  /** @internal `call`: the request's run; `body`: its body, not read yet. */
  constructor(call: Call, body: AsyncIterable<Uint8Array>, opts?: ReqSocketOptions) {
    super(call, opts?.binary === true);
    this.#body = body;
  }

  /** @internal An unread rest is discarded. */
  protected override ended(): void {
    // Read on to the end so a keep-alive connection can serve its next request, as nginx discards
    // an unread body (node:http would stall on a half-read body; the native engine drops it itself).
    if (this.#src !== null && !this.eof) void discard(this.#src, this.pending);
    this.pending = null;
  }

  /** The read timeout in ms (0: back to the 60 s default); the request socket only reads. */
  settimeout(ms: number): void {
    if (!this.usable()) return;
    this.readMs = timeoutArg('settimeout', ms);
  }

  /** connect and send timeouts are checked and ignored: the request socket only reads. */
  settimeouts(connectMs: number, sendMs: number, readMs: number): void {
    if (!this.usable()) return;
    this.timeouts(connectMs, sendMs, readMs);
  }

  /** The body's next piece; its timeout (client_body_timeout) reads as the socket's 'timeout'. */
  protected next(): Promise<Pulled> {
    const src = (this.#src ??= this.#body[Symbol.asyncIterator]());
    return src.next().then(
      (r): Pulled => (r.done ? { end: true } : { b: r.value }),
      (e: unknown): Pulled => ({ err: /client_body_timeout/.test(String((e as Error)?.message)) ? 'timeout' : 'client aborted' }),
    );
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
  return [new ReqSocket(call, bodyOf(r), opts as ReqSocketOptions | undefined), null];
}
