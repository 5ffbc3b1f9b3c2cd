// The bytes a cosocket received and no receive took yet. Chunks are kept as they arrived and
// joined only when a search (a line, a receiveuntil pattern) needs them in one piece, so a
// receive(N) over many packets copies each byte once.

export class ByteQueue {
  #chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.#chunks.push(b);
    this.length += b.length;
  }

  /** All queued bytes as one Buffer (joined in place, so the next call is free). */
  #flat(): Buffer {
    const cs = this.#chunks;
    if (cs.length === 0) return Buffer.alloc(0);
    if (cs.length > 1) this.#chunks = [Buffer.concat(cs, this.length)];
    return this.#chunks[0]!;
  }

  /** All queued bytes, left queued (skip() what was used). */
  peek(): Buffer { return this.#flat(); }

  /** Index of `needle` at or after `from`, or -1. */
  indexOf(needle: Buffer | number, from = 0): number {
    if (this.length === 0) return -1;
    return this.#flat().indexOf(needle, from);
  }

  /** Removes and returns the first `n` bytes (n <= length). */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = this.#flat();
      out = all.subarray(0, n);
      if (all.length === n) this.#chunks = [];
      else this.#chunks[0] = all.subarray(n);
    }
    this.length -= n;
    return out;
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void { this.take(n); }

  takeAll(): Buffer { return this.take(this.length); }

  /** receive('*l'): a whole line without its LF and without any CR, or null while none is here. */
  takeLine(): Buffer | null {
    const i = this.indexOf(0x0a);
    if (i < 0) return null;
    return withoutCr(this.take(i + 1).subarray(0, i));
  }

  /** A failed receive('*l')'s partial data: all queued bytes, without CRs (nginx skips them as it reads). */
  takeLinePart(): Buffer { return withoutCr(this.takeAll()); }
}

function withoutCr(b: Buffer): Buffer {
  return b.includes(0x0d) ? Buffer.from(b.filter((x) => x !== 0x0d)) : b;
}
