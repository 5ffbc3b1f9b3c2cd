// What the gzip directives resolve to (config/directives-gzip.ts): `filter` only where `gzip on`
// applies, `static` only where gzip_static is on, so a location without them keeps `{}`.

export type GzipProxied = 'off' | 'expired' | 'no-cache' | 'no-store' | 'private' | 'no_last_modified' | 'no_etag' | 'auth' | 'any';

export interface GzipFilter {
  /** Types compressed (without parameters); text/html is always one; '*' is any. */
  readonly types: readonly string[];
  /** Answers with a known length below this are not compressed. */
  readonly minLength: number;
  readonly level: number;
  /** gzip_vary: `Vary: Accept-Encoding` on the answers gzip considered. */
  readonly vary: boolean;
  readonly proxied: readonly GzipProxied[];
  /** gzip_http_version: the lowest HTTP version compressed for. */
  readonly httpVersion: '1.0' | '1.1';
  readonly disableMsie6: boolean;
  readonly disable: readonly RegExp[];
  /** gzip_buffers' size: the zlib stream's output chunk (without the engine addon); undefined is zlib's 16 KB. */
  readonly bufferSize?: number;
}

/** gzip_static on | always, with the client rules it shares with the filter (gzip_vary,
 *  gzip_proxied, gzip_http_version, gzip_disable: nginx's core settings, in force with gzip off). */
export interface GzipStaticConf {
  readonly mode: 'on' | 'always';
  readonly rules: GzipFilter;
}

/** gunzip on: a gzip answer is inflated for a client the gzip rules refuse (nginx's gunzip filter). */
export interface GunzipConf {
  readonly rules: GzipFilter;
  /** gunzip_buffers' size: the inflate stream's output chunk; undefined is zlib's 16 KB. */
  readonly bufferSize?: number;
}

export interface GzipConf {
  readonly filter?: GzipFilter;
  readonly static?: GzipStaticConf;
  readonly gunzip?: GunzipConf;
}
