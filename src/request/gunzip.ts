// nginx's gunzip filter (ngx_http_gunzip_filter_module): an answer with `Content-Encoding: gzip`
// (an upstream's, gzip_static always's, a handler's) is inflated for a client that gzip's rules
// refuse (no gzip in Accept-Encoding, gzip_http_version, gzip_proxied, gzip_disable): no
// Content-Encoding, Content-Length or Accept-Ranges then, a weak ETag, and gzip_vary's Vary either
// way. Decided when the head goes out, before the gzip filter (nginx runs gunzip first); the body
// goes through a zlib stream, flush by flush, so a large body streams.
import zlib from 'node:zlib';
import type { GunzipConf } from '../config/types-gzip.js';
import { gzipAccepted } from './gzip.js';
import type { HeaderStore } from './headers.js';
import type { Req } from './req.js';

/** What one push gave: the inflated bytes, and nginx's error line when the stream broke. */
export interface Inflated { readonly out: Buffer; readonly err: string | null }

export class GunzipStream {
  /** Writes the head (output.ts): deferred until the first inflate worked, as nginx sends
   *  nothing of an answer whose first bytes do not inflate. */
  head: (() => void) | null = null;
  private readonly z: zlib.Gunzip;
  private out: Buffer[] = [];
  private err: Error | null = null;

  constructor(chunkSize?: number) {
    this.z = zlib.createGunzip(chunkSize !== undefined ? { chunkSize: Math.max(64, chunkSize) } : {});
    this.z.on('data', (b: Buffer) => { this.out.push(b); });
    this.z.on('error', (e: Error) => { this.err ??= e; });
  }

  /** Inflates `chunk` (Z_SYNC_FLUSH); `eof` ends the stream, which must then be complete. */
  push(chunk: Uint8Array, eof: boolean): Promise<Inflated> {
    return new Promise((resolve) => {
      let done = false;
      const take = (): void => {
        if (done) return;
        done = true;
        this.z.off('error', take);
        const out = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
        this.out = [];
        resolve({ out, err: this.err === null ? null : lineOf(this.err, eof) });
      };
      if (this.err !== null) { take(); return; }
      this.z.once('error', take);
      if (chunk.length > 0) this.z.write(chunk);
      if (eof) {
        this.z.once('end', take);
        this.z.end();
      } else {
        this.z.flush(zlib.constants.Z_SYNC_FLUSH, take);
      }
    });
  }

  destroy(): void {
    this.z.destroy();
  }
}

/** nginx's error line: a stream cut short at the end, or data inflate refused (`flush, rc`). */
function lineOf(e: Error, eof: boolean): string {
  const errno = (e as NodeJS.ErrnoException).errno;
  const rc = typeof errno === 'number' ? errno : -3;
  return eof && rc === zlib.constants.Z_BUF_ERROR ? `inflate() returned ${rc} on response end` : `inflate() failed: 0, ${rc}`;
}

function one(v: string | string[] | null | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v ?? undefined;
}

/** The gunzip header filter: the stream for the body when the answer is to be inflated, else null. */
export function gunzipHeader(r: Req, g: GunzipConf, h: HeaderStore): GunzipStream | null {
  const ce = h.get('content-encoding');
  if (Array.isArray(ce) || typeof ce !== 'string' || ce.toLowerCase() !== 'gzip') return null;
  if (g.rules.vary) r.gzipVary = true;
  if (gzipAccepted(r, g.rules, h)) return null;
  h.set('Content-Encoding', null);
  h.set('Content-Length', null);
  h.delete('accept-ranges');
  const etag = one(h.get('etag') as string | string[] | undefined);
  if (etag !== undefined) h.set('ETag', etag.startsWith('"') ? `W/${etag}` : etag.startsWith('W/') ? etag : null);
  return new GunzipStream(g.bufferSize);
}
