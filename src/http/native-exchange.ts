// One request served by the native engine, as the pipeline sees every request (HttpExchange):
// the answer side (the request's head and body are native-request.ts's). The answer goes back as
// outbox records: the status line and headers are sent with the first body bytes (one record for
// a whole small answer).
import type { HttpExchange, RawStream } from './types.js';
import type { NativeFront } from './native-front.js';
import { F_EXPECT_CONTINUE, SEND_CLOSE, SEND_CONTINUE, SEND_END } from './native-layout.js';
import { chunkSize, headStart, lastChunk } from './native-head.js';
import { fixedRun } from './head-order.js';
import { closesConnection } from './native-pages.js';
import { BAD_VALUE, GOOD_NAMES, invalid, NOT_ASCII, TOKEN } from './native-head-rules.js';
import { Body } from './native-body.js';
import { clientGone as gone, NativeRequest } from './native-request.js';

export class NativeExchange extends NativeRequest implements HttpExchange {
  /** Chunks are copied into the outbox by write() and end(). */
  readonly copiesChunks = true;
  readonly headAsBytes = true;
  bytesSent = 0;
  /** Bytes of the head as it goes out (latin1, one byte a char), for $bytes_sent. */
  headBytes = 0;
  headersSent = false;
  lateLocation = false;
  lateModified: boolean | undefined = undefined;
  lateLength = false; handlerHops = false; // a handler's own Content-Length, Connection, Transfer-Encoding (types.ts)
  /** keepalive_timeout of the request's location (ms), for the idle time after the answer. */
  keepaliveMs: number;
  private pending: string | null = null;
  private chunked = false;
  trailers: (() => ReadonlyArray<readonly [string, string]>) | null = null;
  /** chunked_transfer_encoding off: a body without a length ends with the connection. */
  private unchunked = false;
  private noBody = false;
  private abortCbs: Array<() => void> | null = null;
  private drainWaiters: Array<() => void> | null = null;
  private unflushed = 0;
  /** No header byte above 0x7f: the head may go out in one UTF-8 write with a string body (put). */
  private asciiHead = true;

  constructor(
    front: NativeFront,
    id: number,
    method: string,
    url: string,
    httpVersion: string,
    head: string,
    offs: number[],
    remoteAddress: string,
    remotePort: number,
    flags: number,
    bind: { host: string; port: number; ssl?: boolean },
    keepaliveMs: number,
  ) {
    super(front, id, method, url, httpVersion, head, offs, remoteAddress, remotePort, flags, bind);
    this.keepaliveMs = keepaliveMs;
  }

  /** SEND_CONTINUE with the head's sends: the engine answers an Expect: 100-continue first. */
  private cont = 0;
  private specialAnswer = false;

  special(status: number): void {
    this.specialAnswer = true;
    if (closesConnection(status)) this.keepAlive = false;
  }

  /** The answer's end closes the connection; its head still says what keepAlive says. */
  private closeAtEnd = false;

  closeAfter(): void {
    this.closeAtEnd = true;
  }

  // ---- from the engine ----

  /** The client reset the connection (ECONNRESET), for the errno of nginx's line (out-result.ts). */
  reset = false;

  /** The connection closed before the answer ended; `sent`: body bytes of the page the engine
   *  answered with in JS's place (a bad chunk's 400), for $body_bytes_sent; `reset`: by a reset;
   *  `unsent`: bytes of the answer the engine still held (they never went: nginx does not count
   *  them; the head's first, when it had not gone either). */
  gone(sent = 0, reset = false, unsent = 0): void {
    if (sent > 0) this.bytesSent = sent;
    if (unsent > 0) this.bytesSent = Math.max(0, this.bytesSent - unsent);
    if (reset) this.reset = true;
    this.wakeWriters();
    if (this.aborted || this.ended) return;
    this.aborted = true;
    this.bodyIt?.fail(gone());
    this.ended = true;
    this.tellAbort();
  }

  clientEnded = false;

  /** The client closed its side only: the answer still goes (as nginx's); what waits for the
   *  client's abort (ngx.on_abort, proxy_pass) hears of it now. */
  halfClosed(): void {
    this.clientEnded = true;
    if (!this.aborted && !this.ended) this.tellAbort();
  }

  /** Runs what waits for the client's abort (onAbort), once. */
  private tellAbort(): void {
    const cbs = this.abortCbs;
    this.abortCbs = null;
    if (cbs) for (const cb of cbs) cb();
  }

  drained(): void { this.wakeWriters(); }

  private wakeWriters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = null;
    if (w) for (const f of w) f();
  }

  onAbort(cb: () => void): void {
    if (this.aborted) return;
    (this.abortCbs ??= []).push(cb);
  }

  // ---- the raw connection (ngx.req.socket(true)) ----

  takeRaw(): RawStream {
    this.rawMode = true;
    this.keepAlive = false;
    this.headersSent = true;
    this.chunked = false;
    this.noBody = false;
    const native = this.front.native;
    // Bytes go on where the request's reading stopped: an iterator already made keeps its place,
    // a body the engine sent with the head (not taken yet) comes first.
    let it = this.bodyIt;
    if (it === null) {
      it = this.bodyIt = new Body(this);
      const whole = this.bodyTaken ? null : this.whole;
      this.whole = null;
      this.bodyTaken = true;
      if (whole !== null) it.push(whole);
    }
    it.unasked();
    if (this.aborted) it.fail(gone());
    else native.bodyRaw?.(this.id);
    const body = it;
    const self = this;
    // A head made but kept for the first body bytes (ngx.send_headers + flush) goes now.
    if (this.pending) this.front.outbox.send(this.id, 0, this.keepaliveMs, this.pending, '', null, '');
    this.pending = '';
    return {
      read: async () => {
        try {
          const r = await body.next();
          return r.done ? null : r.value;
        } catch { return null; }
      },
      write: (b) => this.rawWrite(b),
      close: () => this.end(),
      get gone() { return self.aborted || self.ended; },
    };
  }

  /** Raw bytes out: resolves to false once the connection is gone. */
  private rawWrite(b: Uint8Array): Promise<boolean> | boolean {
    if (this.ended) return false;
    this.bytesSent += b.byteLength;
    this.front.outbox.send(this.id, 0, this.keepaliveMs, '', '', b, '');
    const p = this.paced(b.byteLength);
    return p === undefined ? !this.aborted : p.then(() => !this.aborted);
  }

  /**
   * After `n` bytes queued: past 64 KB written without a pause, lets the engine write them and,
   * when the client does not keep up, waits for its drain.
   */
  private paced(n: number): Promise<void> | undefined {
    this.unflushed += n;
    if (this.unflushed < 64 * 1024) return;
    this.unflushed = 0;
    this.front.outbox.flush();
    if (this.aborted || this.front.native.pressure(this.id) === 0) return;
    return new Promise((resolve) => { (this.drainWaiters ??= []).push(resolve); });
  }

  // ---- the answer ----

  noChunking(): void {
    this.unchunked = true;
  }

  writeHead(status: number, headers: ReadonlyArray<readonly [string, string]>): void {
    if (this.headersSent) throw invalid('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    // Below 100 nginx still answers (`HTTP/1.1 099 `, no reason); above 999 there is no status line.
    if (!Number.isInteger(status) || status < 1 || status > 999) throw invalid('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${status}`);
    const version = this.httpVersion;
    // nginx sends the body of a 1xx answer as of any other (HTTP's rule that it has none is not its).
    this.noBody = this.method === 'HEAD' || status === 204 || status === 304;
    const low = status < 200;
    if (version === '0.9') {
      this.headersSent = true;
      this.pending = '';
      this.keepAlive = false;
      return;
    }
    let s = '';
    let server = false;
    let date = false;
    let length = false;
    let te = false;
    let connection = false;
    // Transfer-Encoding and Connection go after the fields nginx keeps apart (head-order.ts).
    const fixed = fixedRun((i) => headers[i]![0], headers.length, this.lateLocation, this.lateLength, this.lateModified);
    let rest = '';
    for (let i = 0; i < headers.length; i++) {
      if (i === fixed) { rest = s; s = ''; }
      const h = headers[i];
      const k = h[0];
      const v = h[1];
      if (!GOOD_NAMES.has(k)) {
        if (!TOKEN.test(k)) throw invalid('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${k}"]`);
        if (GOOD_NAMES.size < 1000) GOOD_NAMES.add(k);
      }
      if (NOT_ASCII.test(v)) {
        if (BAD_VALUE.test(v)) throw invalid('ERR_INVALID_CHAR', `Invalid character in header content ["${k}"]`);
        this.asciiHead = false;
      }
      switch (k.length) {
        case 4: if (k.toLowerCase() === 'date') date = true; break;
        case 6:
          if (k.toLowerCase() === 'server') {
            server = true;
            if (v === '') continue; // cleared (more_clear_headers Server): no Server line at all
          }
          break;
        case 10:
          if (!this.handlerHops && k.toLowerCase() === 'connection') {
            connection = true;
            if (/(^|,)\s*close\s*(,|$)/i.test(v)) this.keepAlive = false;
          }
          break;
        case 14: if (k.toLowerCase() === 'content-length') length = true; break;
        case 17: if (!this.handlerHops && k.toLowerCase() === 'transfer-encoding') { te = true; if (/chunked\s*$/i.test(v)) this.chunked = true; } break;
        default:
      }
      s += `${k}: ${v}\r\n`;
    }
    if (fixed < headers.length) [rest, s] = [s, rest];
    s = headStart(status, server, date) + s;
    // nginx's chunked filter leaves a status below 200 alone: a body of unknown length then goes
    // out as it is, and the connection is still kept (as nginx 1.22 does).
    if (!length && !te && !this.noBody && !low) {
      if (version !== '1.0' && version !== '0.9' && !this.unchunked) { // HTTP/1.2 too, as nginx (http_version >= 1.1)
        s += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      } else {
        this.keepAlive = false; // an HTTP/1.0 body without a length ends when the connection does
      }
    }
    if (this.noBody) this.chunked = false;
    if (this.front.draining || this.keepaliveMs === 0) this.keepAlive = false;
    // 101 says `upgrade` whatever comes next (nginx still serves the next request when kept).
    if (!connection) s += status === 101 ? 'Connection: upgrade\r\n' : this.keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
    s += rest;
    // nginx's discard of an unread body answers Expect: 100-continue first; a special response's does not.
    if ((this.flags & F_EXPECT_CONTINUE) !== 0 && !this.specialAnswer) this.cont = SEND_CONTINUE;
    this.pending = `${s}\r\n`;
    this.headBytes = this.pending.length;
    this.headersSent = true;
  }

  write(chunk: Uint8Array | string): Promise<void> | void {
    if (this.ended) return;
    if (!this.headersSent) this.writeHead(200, []);
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    this.bytesSent += n;
    if (this.noBody || n === 0) return;
    const head = this.pending!;
    this.pending = '';
    if (this.chunked) {
      const pre = chunkSize(n);
      this.bytesSent += pre.length + 2; // nginx's $body_bytes_sent counts the chunk's framing
      this.put(this.cont, head, pre, chunk, '\r\n');
    } else this.put(this.cont, head, '', chunk, '');
    return this.paced(n);
  }

  push(): void {
    if (!this.ended && !this.aborted) this.front.outbox.flush();
  }

  end(chunk?: Uint8Array | string): void {
    if (this.ended) return;
    if (!this.headersSent) this.writeHead(200, chunk === undefined ? [['Content-Length', '0']] : []);
    this.ended = true;
    this.front.release(this);
    const body = chunk === undefined || this.noBody ? null : chunk;
    if (chunk !== undefined) this.bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    const flags = SEND_END | (this.keepAlive && !this.closeAtEnd ? 0 : SEND_CLOSE) | this.cont;
    const head = this.pending ?? '';
    this.pending = '';
    if (this.chunked) {
      const n = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      // The framing counts in $body_bytes_sent, as nginx's; a client gone gets none of it.
      const pre = n > 0 ? chunkSize(n) : '';
      const last = lastChunk(this.trailers);
      if (!this.aborted) this.bytesSent += (n > 0 ? pre.length + 2 : 0) + last.length;
      if (n > 0) this.put(flags, head, pre, body, `\r\n${last}`);
      else this.front.outbox.send(this.id, flags, this.keepaliveMs, `${head}${last}`, '', null, '');
    } else {
      this.put(flags, head, '', body, '');
    }
  }

  /** A piece of the answer in as few Buffer writes (calls into C++) as it can: a string body with
   *  an ASCII head and framing as one UTF-8 string, else head and chunk size as one latin1. Not
   *  a long body: joined, it is copied once more (V8 flattens the joined string; 2.5 µs at 10 KB). */
  private put(flags: number, head: string, pre: string, body: string | Uint8Array | null, post: string): void {
    const ob = this.front.outbox;
    if (typeof body === 'string' && this.asciiHead && body.length < 2048) ob.send(this.id, flags, this.keepaliveMs, '', '', `${head}${pre}${body}${post}`, '');
    else ob.send(this.id, flags, this.keepaliveMs, pre === '' ? head : `${head}${pre}`, '', body, post);
  }

  abandon(): void {
    if (this.ended) return;
    this.ended = true;
    this.front.release(this);
    // A head not sent yet (it goes with the first body bytes) is dropped with the request.
    this.pending = '';
    this.front.outbox.send(this.id, SEND_END | (this.keepAlive ? 0 : SEND_CLOSE), this.keepaliveMs, '', '', null, '');
  }

  destroy(): void {
    if (this.ended && this.aborted) return;
    const wasEnded = this.ended;
    this.ended = true;
    this.front.release(this);
    // A head kept for the first body bytes goes out before the cut, as nginx has sent it by then
    // (a proxied answer that breaks before its body: the client sees its head, then the close).
    if (!wasEnded && this.pending) this.front.outbox.send(this.id, this.cont, this.keepaliveMs, this.pending, '', null, '');
    this.pending = '';
    this.front.outbox.flush(); // what was queued before goes first, then the cut
    this.front.native.cut(this.id);
    if (!wasEnded) {
      this.aborted = true;
      this.bodyIt?.fail(gone());
      const cbs = this.abortCbs;
      this.abortCbs = null;
      if (cbs) for (const cb of cbs) cb();
    }
  }
}
