// The gzip filter's compressor (request/gzip.ts decides what it compresses). A body whose end
// comes with its first bytes (ngx.say then the handler's end, a proxied answer read whole) is
// compressed in one synchronous call: by the engine addon's deflate stream kept for the JS
// thread (native/engine/gzip_napi.c), else by zlib.gzipSync with a window and hash sized to it, as
// nginx sizes them to a known length. A zlib stream per request with the full 32 KB window costs
// its ~256 KB of zeroed state (most of a 700-byte answer's time, measured with perf) and a
// thread-pool round trip per flush. A body that is flushed before its end goes through one stream, flush by flush.

import zlib from 'node:zlib';
import { loadEngine } from '../http/native-binding.js';

/** nginx's defaults before it sizes them down to a known length: a 32 KB window, memLevel 8. */
const MAX_WBITS = 15;
const MAX_MEM = 8;

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

const native = loadEngine()?.gzip;

/** `data` as one gzip member, now: by the engine's addon when built, else by zlib. */
export function gzipWhole(data: string | Uint8Array, level: number): Buffer {
  if (native !== undefined) return native(typeof data === 'string' ? Buffer.from(data) : data, level);
  const n = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  // Output in one buffer for most answers (zlib's worst case is a little over the input).
  const chunkSize = Math.max(64, Math.min(n + 64, 64 * 1024));
  return zlib.gzipSync(data, { level, chunkSize, ...sizedFor(n) });
}

/** A gzip body fed flush by flush: each push gives back what zlib produced for it. */
export class GzipStream {
  private z: zlib.Gzip | null = null;
  private out: Buffer[] = [];
  private err: Error | null = null;

  /** `chunkSize`: gzip_buffers' size, the stream's output chunk (zlib's default without it). */
  constructor(private readonly level: number, private readonly chunkSize?: number) {}

  /**
   * Compresses `chunk` and flushes (Z_SYNC_FLUSH, as nginx on a flush); `eof` ends the stream.
   * A whole body (eof on the first push) is compressed at once and given back as it is.
   */
  push(chunk: string | Uint8Array, eof: boolean): Promise<Buffer> | Buffer {
    if (this.z === null && eof) {
      try {
        return gzipWhole(chunk, this.level);
      } catch (e) {
        return Promise.reject(e);
      }
    }
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

  destroy(): void { this.z?.destroy(); }

  private stream(): zlib.Gzip {
    if (this.z !== null) return this.z;
    const z = zlib.createGzip({ level: this.level, ...(this.chunkSize !== undefined ? { chunkSize: Math.max(64, this.chunkSize) } : {}) });
    z.on('data', (b: Buffer) => { this.out.push(b); });
    z.on('error', (e: Error) => { this.err = e; });
    this.z = z;
    return z;
  }
}
