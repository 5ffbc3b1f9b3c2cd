// The proxy cache's part of the resolved conf: proxy_cache_path zones (http level) and each
// level's proxy_cache_* settings, which inherit as the other proxy_* settings do.

import type { SourceRef } from './types.js';

/** `proxy_cache_path PATH [levels=] keys_zone=NAME:SIZE [inactive=] [max_size=] ...`. */
export interface CacheZoneConf {
  readonly name: string;
  /** Absolute folder of the entries. */
  readonly path: string;
  /** Subfolder name lengths (1 or 2 hex digits each, up to three levels): `levels=1:2` is [1, 2]. */
  readonly levels: readonly number[];
  /** keys_zone's size: accepted; the index is the files themselves (no shared-memory keys). */
  readonly keysSize: number;
  /** ms an entry may go unread before the sweeper removes it (nginx's default 10m). */
  readonly inactive: number;
  /** Bytes the folder may hold; 0 = no limit. */
  readonly maxSize: number;
  readonly ref: SourceRef;
}

/** proxy_cache_valid: the codes (empty: 200 301 302; `any`: every status) and the time. */
export interface CacheValid {
  readonly codes: readonly number[] | 'any';
  readonly time: number; // ms
}

/** proxy_cache_use_stale conditions. */
export type StaleCondition = 'error' | 'timeout' | 'invalid_header' | 'updating' | 'http_500' | 'http_502'
  | 'http_503' | 'http_504' | 'http_403' | 'http_404' | 'http_429';

export interface ProxyCacheConf {
  /** proxy_cache's zone, or null (off). */
  readonly cache: string | null;
  /** proxy_cache_key: a template. */
  readonly cacheKey: string;
  readonly cacheValid: readonly CacheValid[];
  /** Upper-cased; GET and HEAD are always in (nginx's rule). */
  readonly cacheMethods: readonly string[];
  /** proxy_cache_bypass / proxy_no_cache: templates; any non-empty value other than "0" counts. */
  readonly cacheBypass: readonly string[];
  readonly noCache: readonly string[];
  readonly cacheMinUses: number;
  readonly cacheUseStale: readonly StaleCondition[];
  readonly cacheLock: boolean;
  readonly cacheLockTimeout: number; // ms
  readonly cacheLockAge: number; // ms
  readonly cacheRevalidate: boolean;
  /** proxy_ignore_headers, lower-cased: X-Accel-Expires, Expires, Cache-Control, Set-Cookie, Vary. */
  readonly ignoreHeaders: readonly string[];
}

export const PROXY_CACHE_DEFAULTS: ProxyCacheConf = {
  cache: null,
  cacheKey: '$scheme$proxy_host$request_uri',
  cacheValid: [],
  cacheMethods: ['GET', 'HEAD'],
  cacheBypass: [],
  noCache: [],
  cacheMinUses: 1,
  cacheUseStale: [],
  cacheLock: false,
  cacheLockTimeout: 5000,
  cacheLockAge: 5000,
  cacheRevalidate: false,
  ignoreHeaders: [],
};
