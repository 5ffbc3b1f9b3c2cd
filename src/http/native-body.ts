// A request body the native engine hands over in pieces: pulled on demand by the pipeline, the
// engine paused when JS falls behind and resumed when it catches up (native-exchange.ts owns it).

/** What the body needs of its exchange: start the engine's reading, pause and resume it. */
export interface BodySource {
  readonly id: number;
  readonly front: { readonly native: { bodyPause(id: number): unknown; bodyResume(id: number): unknown } };
  startBody(): void;
}

/** A request body as the engine hands it over: pulled on demand, paused when JS falls behind. */
export class Body implements AsyncIterator<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private queued = 0;
  private done = false;
  private error: Error | null = null;
  private waiter: { resolve(r: IteratorResult<Uint8Array>): void; reject(e: Error): void } | null = null;
  private started = false;
  private paused = false;

  constructor(private readonly ex: BodySource) {}

  next(): Promise<IteratorResult<Uint8Array>> {
    if (!this.started) {
      this.started = true;
      this.ex.startBody();
    }
    const c = this.chunks.shift();
    if (c !== undefined) {
      this.queued -= c.byteLength;
      if (this.paused && this.queued < 64 * 1024) {
        this.paused = false;
        this.ex.front.native.bodyResume(this.ex.id);
      }
      return Promise.resolve({ value: c, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  /** The engine sends without being asked (a raw socket: bodyRaw instead of bodyStart). */
  unasked(): void { this.started = true; }

  /** Leaving early: the rest of the body is dropped by the engine after the answer. */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.done = true;
    this.chunks.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  push(b: Uint8Array): void {
    if (this.done) return;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve({ value: b, done: false });
      return;
    }
    this.chunks.push(b);
    this.queued += b.byteLength;
    if (!this.paused && this.queued > 256 * 1024) {
      this.paused = true;
      this.ex.front.native.bodyPause(this.ex.id);
    }
  }

  end(): void {
    this.done = true;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(e: Error): void {
    if (this.error || (this.done && !this.waiter)) return;
    this.error = e;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.reject(e);
    }
  }
}
