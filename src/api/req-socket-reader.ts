// The receive side both request sockets share (ngx.req.socket() over the body, ngx.req.socket(true)
// over the connection): receive, receiveany, receiveuntil and their common read loop over a byte
// queue, and the wait for the next piece under the read timeout. Each socket says where its pieces come
// from (next) and what it lets go once its request ended.

import type { Call } from '../request/call.js';
import { receiveanyMax, receivePattern, timeoutArg } from './socket-args.js';
import { ByteQueue } from './socket-buffer.js';
import { SocketOwner } from './socket-owner.js';
import { untilFrom, untilSize, type Data, type ReadResult, type UntilIterator } from './socket-until.js';

/** lua_socket_read_timeout's and lua_socket_send_timeout's default. */
export const DEFAULT_SOCKET_MS = 60_000;

/** One piece from a socket's source: bytes, its end, or the failure's text (never a rejection). */
export type Pulled = { b: Uint8Array } | { end: true } | { err: string };

export abstract class QueueReader {
  protected readonly owner: SocketOwner;
  protected readonly q = new ByteQueue();
  /** Every byte has arrived (what is left is in q). */
  protected eof = false;
  /** A read reached the end or failed, or the request ended: every read now gives "closed". */
  protected closed = false;
  /** The read timeout in ms (0: the default). */
  protected readMs = 0;
  private reading = false;
  private readonly binary: boolean;

  /** `call`: the request's run; the socket closes when it ends. */
  constructor(call: Call, binary: boolean) {
    this.owner = new SocketOwner(call, () => {
      this.closed = true;
      this.q.takeAll();
      this.ended();
    });
    this.binary = binary;
  }

  /** The request ended (the socket is closed by then): what else the socket lets go. */
  protected ended(): void {}

  /** The source's next piece, in flight: a receive that timed out leaves it for the next one. */
  protected pending: Promise<Pulled> | null = null;

  /** Asks the source for its next piece (never rejects: a failure is `{ err }`). */
  protected abstract next(): Promise<Pulled>;

  /**
   * Waits for the next bytes, pushed onto q (or eof set): null once they are in, else the error
   * text ('timeout' leaves the socket usable; any other closes it).
   */
  protected async pull(): Promise<string | null> {
    const p = (this.pending ??= this.next());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(resolve, this.readMs || DEFAULT_SOCKET_MS, null); });
    const got = await Promise.race([p, late]);
    clearTimeout(timer);
    if (got === null) return 'timeout';
    this.pending = null;
    if ('err' in got) return got.err;
    if ('end' in got) this.eof = true;
    else this.q.push(Buffer.from(got.b.buffer, got.b.byteOffset, got.b.byteLength));
    return null;
  }

  /** receive('*a') ends the socket's reads (the raw socket's, at the client's close). */
  protected readonly allCloses: boolean = false;

  /**
   * Throws unless the running code may use the socket (its request, a phase with cosockets).
   * False once its request ended: nginx then answers "closed" rather than raising.
   */
  protected usable(): boolean {
    if (this.owner.dead) return false;
    this.owner.check();
    return true;
  }

  protected out(b: Buffer): Data { return this.binary ? b : b.toString('utf8'); }

  /**
   * receive('*l') (the default: a line, without its LF and every CR), receive('*a') (all until
   * the end), receive(n) (exactly n bytes): [data, null, null] or [null, err, partial].
   */
  receive(pattern?: string | number): Promise<ReadResult> {
    if (!this.usable()) return Promise.resolve([null, 'closed', null]);
    const q = this.q;
    const mode = receivePattern(pattern);
    if (mode === 'l') return this.read(() => q.takeLine(), false, () => q.takeLinePart());
    if (mode === 'a') return this.read(() => (this.eof ? q.takeAll() : null), this.allCloses);
    if (mode === 0 && !this.closed) return Promise.resolve([this.out(Buffer.alloc(0)), null, null]);
    return this.read(() => (q.length >= mode ? q.take(mode) : null));
  }

  /**
   * What has arrived, at most `max` bytes, waiting for some if none: [data, null] or
   * [null, err, partial] (nginx gives "" as a third value at the body's end).
   */
  async receiveany(max: number): Promise<[Data, null] | [null, string, Data | null]> {
    if (!this.usable()) return [null, 'closed', null];
    receiveanyMax(max);
    const q = this.q;
    const [data, err, partial] = await this.read(() => (q.length > 0 ? q.take(Math.min(max, q.length)) : null));
    return data !== null ? [data, null] : [null, err!, partial];
  }

  /**
   * An iterator reading up to `pattern` (a multipart boundary): `await it()` gives the data before
   * it (with it when `inclusive`); `await it(size)` at most `size` bytes per call and
   * [null, null, null] once the pattern was passed.
   */
  receiveuntil(pattern: string | Uint8Array, opts?: { inclusive?: boolean }): UntilIterator {
    this.usable();
    const u = untilFrom(pattern, opts);
    return (size?: number) => {
      if (!this.usable()) return Promise.resolve([null, 'closed', null]);
      const n = untilSize(size);
      if (u.takePassed()) return Promise.resolve([null, null, null]);
      u.begin(n);
      return this.read(() => u.step(this.q), false, () => u.partial());
    };
  }

  /** Connect and send timeouts are checked here; a socket that sends keeps sendMs itself. */
  protected timeouts(connectMs: number, sendMs: number, readMs: number): number {
    timeoutArg('settimeouts', connectMs, 1);
    const send = timeoutArg('settimeouts', sendMs, 2);
    this.readMs = timeoutArg('settimeouts', readMs, 3);
    return send;
  }

  /**
   * The loop every receive shares: `step` takes what it needs from the queue or returns null to
   * wait for more. The timeout counts from the last piece received, as nginx's. `all`: the read
   * that ends in the data rather than "closed" closes the socket after it.
   */
  private async read(step: () => Buffer | null, all = false, partial = (): Buffer => this.q.takeAll()): Promise<ReadResult> {
    if (this.closed) return [null, 'closed', null];
    if (this.reading) return [null, 'socket busy reading', null];
    this.reading = true;
    try {
      for (;;) {
        const got = step();
        if (got !== null) {
          if (all) this.closed = true;
          return [this.out(got), null, null];
        }
        if (this.eof) {
          this.closed = true;
          return [null, 'closed', this.out(partial())];
        }
        const err = await this.pull();
        if (this.owner.dead) return [null, 'closed', null];
        if (err === 'timeout') return [null, 'timeout', this.out(partial())];
        if (err !== null) {
          this.closed = true;
          return [null, err, this.out(partial())];
        }
      }
    } finally {
      this.reading = false;
    }
  }
}
