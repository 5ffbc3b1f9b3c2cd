// One try of a proxied request on one connection: it receives the answer's head (or the reason
// there was none), then, if the proxy keeps the answer, hands the body on as it arrives. Body
// bytes that come with the head, before the proxy has decided, are held (and reading pauses).

import type { FailKind, Sink, UpstreamConn } from './conn.js';
import type { ResponseHead } from './parser.js';

export type Failure = { readonly kind: FailKind | 'client'; readonly message: string };

/** Body bytes held before the proxy decides, beyond which reading pauses (back-pressure). */
const HOLD_MAX = 64 * 1024;

export interface BodyOut {
  /** `c` may be valid only during the call: `keep(c)` gives a chunk valid to keep. */
  chunk(c: Buffer, keep: ((c: Buffer) => Buffer) | null): Promise<void> | void;
  end(): void;
  fail(f: Failure): void;
}

export class Exchange implements Sink {
  head: ResponseHead | null = null;
  failure: Failure | null = null;
  /** performance.now() when the head came / when the answer ended. */
  headAt = 0;
  endAt = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private out: BodyOut | null = null;
  private settle!: () => void;
  /** Resolves once the head came or the try failed. */
  readonly ready: Promise<void>;
  private release: (() => void) | null = null;
  /** Made only when held bytes must hold the upstream back. */
  private gate: Promise<void> | null = null;
  /**
   * Runs as the head arrives, before any body byte is handed on: the proxy may keep the answer
   * right there (setting `streamed`), so its body goes to the client as it is read, never held.
   */
  onHeadNow: ((ex: Exchange) => void) | null = null;
  /** The answer's streaming to the client, when onHeadNow kept it. */
  streamed: Promise<number> | number | null = null;

  constructor(
    readonly conn: UpstreamConn,
    /** Called once the answer is complete: the connection may go back to the pool. */
    private readonly finished: (conn: UpstreamConn) => void,
  ) {
    this.ready = new Promise((r) => { this.settle = r; });
  }

  // Sink
  onHead(h: ResponseHead): void {
    this.head = h;
    this.headAt = performance.now();
    this.settle();
    this.onHeadNow?.(this);
  }

  onBody(c: Buffer): Promise<void> | void {
    if (this.out !== null) return this.out.chunk(c, this.conn.keeper);
    this.held.push(this.conn.keep(c));
    this.heldBytes += c.length;
    // A small answer is just held (pausing and resuming the socket costs two system calls).
    if (this.heldBytes <= HOLD_MAX) return undefined;
    return (this.gate ??= new Promise((r) => { this.release = r; }));
  }

  onEnd(): void {
    this.endAt = performance.now();
    this.ended = true;
    this.finished(this.conn);
    this.out?.end();
  }

  onFail(kind: FailKind | 'client', message: string): void {
    if (this.failure !== null || this.ended) return;
    this.endAt = performance.now();
    this.failure = { kind, message };
    this.settle();
    this.out?.fail(this.failure);
  }

  /** The whole answer came with its head (a small one): no body is pending. */
  get whole(): boolean { return this.ended && this.failure === null; }

  /** The held body of a whole answer, taken at once. */
  takeHeld(): Buffer[] {
    const h = this.held;
    this.held = [];
    return h;
  }

  /** The proxy keeps this answer: held bytes first, then the rest as it comes. */
  async pipe(out: BodyOut): Promise<void> {
    while (this.held.length > 0) {
      const p = out.chunk(this.held.shift()!, null);
      if (p) await p;
    }
    this.out = out;
    this.release?.();
    this.release = null;
    if (this.failure !== null) out.fail(this.failure);
    else if (this.ended) out.end();
  }

  /** The proxy drops this answer (to try the next server, or to show its own error page). */
  discard(): void {
    this.held = [];
    if (!this.ended) this.conn.abort();
    this.release?.();
    this.release = null;
  }
}
