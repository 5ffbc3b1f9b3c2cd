// The gzip filter's compressor (request/gzip.ts decides what it compresses), synchronous where the
// engine addon is built (native/engine/gzip_napi.c): a whole body (its end comes with its first
// bytes: ngx.say then the handler's end) by one deflate stream the worker resets per answer, a body
// flushed in parts by a stream from a pool, each flush a Z_SYNC_FLUSH as nginx's. A zlib stream per
// request costs its ~256 KB of zeroed state (most of a 700-byte answer's time, measured with perf)
// and a thread-pool round trip per flush. Without the addon: zlib.gzipSync with a window and hash
// sized to the body, as nginx sizes them to a known length, and a zlib stream for parts.

import zlib from 'node:zlib';
import { type GzipHandle, loadEngine } from '../http/native-binding.js';

/** nginx's defaults before it sizes them down to a known length: a 32 KB window, memLevel 8. */
const MAX_WBITS = 15;
const MAX_MEM = 8;

const addon = loadEngine();
const whole = addon?.gzip;
const open = addon?.gzipOpen;
const more = addon?.gzipPush;

/** The smallest window that still covers `n` bytes, with the hash shrunk along (as nginx). */
export function sizedFor(n: number): { windowBits: number; memLevel: number } {
  let windowBits = MAX_WBITS;
  let memLevel = MAX_MEM;
  // zlib refuses a window of 256 bytes (8) for gzip: 9 is the least.
  while (windowBits > 9 && n < 1 << (windowBits - 1)) {
    windowBits--;
    if (memLevel > 1) memLevel--;
  }
  return { windowBits, memLevel };
}

const bytes = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? Buffer.from(c) : c);

/** `data` as one gzip member, now. */
export function gzipWhole(data: string | Uint8Array, level: number): Buffer {
  if (whole !== undefined) return whole(bytes(data), level);
  const n = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  // Output in one buffer for most answers (zlib's worst case is a little over the input).
  const chunkSize = Math.max(64, Math.min(n + 64, 64 * 1024));
  return zlib.gzipSync(data, { level, chunkSize, ...sizedFor(n) });
}

/** A gzip body fed flush by flush: each push gives back what zlib produced for it. */
export class GzipStream {
  private h: GzipHandle | null = null;
  private z: zlib.Gzip | null = null;
  private out: Buffer[] = [];
  private err: Error | null = null;

  /** `chunkSize`: gzip_buffers' size, the zlib stream's output chunk (without the addon). */
  constructor(private readonly level: number, private readonly chunkSize?: number) {}

  /**
   * Compresses `chunk` and flushes (Z_SYNC_FLUSH, as nginx on a flush); `eof` ends the stream.
   * Synchronous (a Buffer) with the addon or for a whole body; a promise from a zlib stream.
   */
  push(chunk: string | Uint8Array, eof: boolean): Promise<Buffer> | Buffer {
    try {
      if (this.h === null && this.z === null && eof) return gzipWhole(chunk, this.level);
      if (open !== undefined && more !== undefined && this.z === null) {
        this.h ??= open(this.level);
        const out = more(this.h, bytes(chunk), eof);
        if (eof) this.h = null;
        return out;
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.streamPush(chunk, eof);
  }

  /** Ends early (the answer turned out bodiless, or was cut): the addon's stream is collected. */
  destroy(): void {
    this.h = null;
    this.z?.destroy();
  }

  private streamPush(chunk: string | Uint8Array, eof: boolean): Promise<Buffer> {
    const z = this.stream();
    return new Promise((resolve, reject) => {
      const take = (): void => {
        if (this.err !== null) { reject(this.err); return; }
        const b = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
        this.out = [];
        resolve(b);
      };
      if (chunk.length > 0) z.write(chunk);
      if (eof) {
        z.once('end', take);
        z.end();
      } else {
        z.flush(zlib.constants.Z_SYNC_FLUSH, take);
      }
    });
  }

  private stream(): zlib.Gzip {
    if (this.z !== null) return this.z;
    const z = zlib.createGzip({ level: this.level, ...(this.chunkSize !== undefined ? { chunkSize: Math.max(64, this.chunkSize) } : {}) });
    z.on('data', (b: Buffer) => { this.out.push(b); });
    z.on('error', (e: Error) => { this.err = e; });
    this.z = z;
    return z;
  }
}
