// What a proxied request records about its upstream tries, for the variables nginx gives logs
// and handlers: $upstream_addr, $upstream_status, $upstream_connect_time, $upstream_header_time,
// $upstream_response_time, $upstream_bytes_sent/_received (one entry per try, joined with ", "),
// $upstream_http_NAME (the answer used), and $proxy_host, $proxy_port,
// $proxy_add_x_forwarded_for. The proxy (src/proxy) fills it; ngx.var reads it.

import type { Req } from './req.js';

export interface UpstreamTry {
  /** `host:port`, or the upstream's name when no server was left to try. */
  addr: string;
  /** The answer's status; 502/504 for a try that failed before one. */
  status: number;
  /** Seconds; -1 prints `-` (not connected / no header). */
  connect: number;
  header: number;
  response: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface UpstreamVars {
  readonly tries: UpstreamTry[];
  /** Header names and values of the answer that was used (or the last one). */
  headers: readonly string[] | null;
  proxyHost: string;
  proxyPort: string;
  /** $upstream_cache_status (MISS, HIT, ...), '' when proxy_cache was not asked. */
  cacheStatus: string;
  /** The answer is a stored one or being stored (nginx's u->cacheable): its validators count for 304s. */
  cacheable: boolean;
}

const states = new WeakMap<Req, UpstreamVars>();

/** Whether the response is a proxy_cache entry (stored or being stored). */
export function cacheableAnswer(r: Req): boolean {
  return states.get(r)?.cacheable === true;
}

export function upstreamVarsOf(r: Req): UpstreamVars {
  let v = states.get(r);
  if (v === undefined) {
    v = { tries: [], headers: null, proxyHost: '', proxyPort: '', cacheStatus: '', cacheable: false };
    states.set(r, v);
  }
  return v;
}

function list(v: UpstreamVars, f: (t: UpstreamTry) => string): string {
  let s = '';
  for (const t of v.tries) s += (s === '' ? '' : ', ') + f(t);
  return s;
}

const secs = (x: number): string => (x < 0 ? '-' : x.toFixed(3));

/** The value of an upstream_* / proxy_* variable, or undefined when `name` is not one of them. */
export function upstreamVar(r: Req, name: string): string | undefined {
  if (name === 'proxy_add_x_forwarded_for') {
    const xff = r.inHeaders['x-forwarded-for'];
    const prev = Array.isArray(xff) ? xff.join(', ') : xff;
    return prev ? `${prev}, ${r.remoteAddr}` : r.remoteAddr;
  }
  const v = states.get(r);
  if (v === undefined) return undefined;
  // No try at all (a cache HIT, a target that failed before connecting): `-` in logs, as nginx.
  if (v.tries.length === 0 && name.startsWith('upstream_') && name !== 'upstream_cache_status') return undefined;
  switch (name) {
    case 'proxy_host': return v.proxyHost;
    case 'proxy_port': return v.proxyPort;
    case 'upstream_cache_status': return v.cacheStatus === '' ? undefined : v.cacheStatus;
    case 'upstream_addr': return list(v, (t) => t.addr);
    case 'upstream_status': return list(v, (t) => (t.status > 0 ? String(t.status) : '-'));
    case 'upstream_connect_time': return list(v, (t) => secs(t.connect));
    case 'upstream_header_time': return list(v, (t) => secs(t.header));
    case 'upstream_response_time': return list(v, (t) => secs(t.response));
    case 'upstream_bytes_sent': return list(v, (t) => String(t.bytesSent));
    case 'upstream_bytes_received': return list(v, (t) => String(t.bytesReceived));
    default: break;
  }
  // $upstream_http_NAME is nginx's name; $upstream_header_NAME is accepted as the same.
  const prefix = name.startsWith('upstream_http_') ? 14 : name.startsWith('upstream_header_') ? 16 : 0;
  if (prefix === 0 || v.headers === null) return undefined;
  const want = name.slice(prefix).replace(/_/g, '-');
  const h = v.headers;
  let out: string | undefined;
  for (let i = 0; i + 1 < h.length; i += 2) {
    if (h[i]!.length === want.length && h[i]!.toLowerCase() === want) out = out === undefined ? h[i + 1] : `${out}, ${h[i + 1]}`;
  }
  return out;
}
