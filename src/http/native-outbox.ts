// JS's side of the outbox (layout.ts): answers are appended as SEND records and written by the
// engine when the batch JS is running returns (its microtasks included), or, for answers made
// later (after an await on a timer, a socket or an immediate), by the engine's pass in the next
// loop turn, however many callbacks of this turn made answers.
import type { EngineBinding } from './native-binding.js';
import { CTL_BATCH, CTL_USED, OUT_CTL, OUT_SEND, REC_CONN, REC_SIZE, SEND_DATA, SEND_KEEPALIVE, SEND_LEN } from './native-layout.js';

const align8 = (n: number): number => (n + 7) & ~7;

export class Outbox {
  readonly buf: Buffer;
  private readonly u32: Uint32Array;
  private readonly ctl: Int32Array;
  private readonly cap: number;
  /** True while the engine's batch call runs: the engine writes when it returns. */
  inBatch = false;

  constructor(private readonly native: EngineBinding, size: number) {
    this.buf = Buffer.alloc(size);
    this.cap = size;
    this.u32 = new Uint32Array(this.buf.buffer, this.buf.byteOffset, size >>> 2);
    this.ctl = new Int32Array(this.buf.buffer, this.buf.byteOffset, OUT_CTL >>> 2);
    this.ctl[CTL_USED] = OUT_CTL;
  }

  /** Writes what is queued now (before a wait for room, or when the outbox is full). */
  flush(): void {
    if (this.ctl[CTL_USED] > OUT_CTL) this.native.flush();
  }

  /**
   * One piece of an answer: head and the framing strings are latin1 (the status line, headers, a
   * chunk size), body is the payload. `flags`: SEND_END / SEND_CLOSE with the last piece.
   */
  send(id: number, flags: number, ka: number, head: string, pre: string, body: string | Uint8Array | null, post: string): void {
    // A string's room is its bound (3 UTF-8 bytes per UTF-16 unit at most); its exact length, one
    // more pass over it, only when the bound does not fit (a 10 KB answer paid ~0.5 µs for it).
    let bl = body === null ? 0 : typeof body === 'string' ? body.length * 3 : body.byteLength;
    let need = align8(SEND_DATA + head.length + pre.length + bl + post.length);
    let pos = this.ctl[CTL_USED];
    if (pos + need > this.cap && typeof body === 'string') {
      bl = Buffer.byteLength(body);
      need = align8(SEND_DATA + head.length + pre.length + bl + post.length);
    }
    if (pos + need > this.cap) {
      this.native.flush();
      pos = OUT_CTL;
      if (pos + need > this.cap) return this.sendLarge(id, flags, ka, head, pre, body!, post);
    }
    const buf = this.buf;
    let p = pos + SEND_DATA;
    if (head.length) p += buf.write(head, p, 'latin1');
    if (pre.length) p += buf.write(pre, p, 'latin1');
    if (body !== null) {
      if (typeof body === 'string') p += buf.write(body, p, 'utf8');
      else {
        buf.set(body, p);
        p += body.byteLength;
      }
    }
    if (post.length) p += buf.write(post, p, 'latin1');
    const size = align8(p - pos);
    buf[pos] = OUT_SEND;
    buf[pos + 1] = flags;
    const u = this.u32;
    u[(pos + REC_SIZE) >>> 2] = size;
    u[(pos + REC_CONN) >>> 2] = id;
    u[(pos + SEND_LEN) >>> 2] = p - pos - SEND_DATA;
    u[(pos + SEND_KEEPALIVE) >>> 2] = ka;
    this.ctl[CTL_USED] = pos + size;
    // An answer made in a microtask of the batch (after an await on the upstream's answer, say)
    // goes out in the engine's flush after the batch, as one made synchronously does. The first
    // one made outside a batch asks for the next turn's pass, which writes all made by then: a
    // flush per callback (setImmediate's run each in its own microtask drain) cost a handler that
    // resumed in a later turn ~4 µs a request (bench/README.md, "A handler's suspension").
    if (pos === OUT_CTL && !this.inBatch && this.ctl[CTL_BATCH] === 0) this.native.flushLater();
  }

  /** A piece larger than the outbox: written in slices, the flags on the last one. */
  private sendLarge(id: number, flags: number, ka: number, head: string, pre: string, body: string | Uint8Array, post: string): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.send(id, 0, ka, head, pre, null, '');
    const slice = this.cap - OUT_CTL - SEND_DATA - 8;
    for (let off = 0; off < bytes.byteLength; off += slice) {
      this.send(id, 0, ka, '', '', bytes.subarray(off, Math.min(off + slice, bytes.byteLength)), '');
    }
    this.send(id, flags, ka, '', '', null, post);
  }
}
