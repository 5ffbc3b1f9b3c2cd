// An upstream for the proxy_cache tests: it counts the requests of each path (X-Count, and in
// the body) so a test sees which answers came from the cache. The query asks for the answer's
// shape: `h-NAME=VALUE` adds a header, `status=N`, `delay=MS`, `etag=1` (an ETag "v1" and a
// 304 to If-None-Match "v1"), `len=N` (a body of N bytes); `mode` per path: 'close' drops the
// connection, a number answers that status.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CacheUpstream {
  readonly port: number;
  /** Requests seen per path. */
  count(path: string): number;
  /** Per-path failure: 'close' or a status; delete to answer normally. */
  readonly mode: Map<string, 'close' | number>;
  close(): Promise<void>;
}

export async function startCacheUpstream(): Promise<CacheUpstream> {
  const counts = new Map<string, number>();
  const mode = new Map<string, 'close' | number>();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const n = (counts.get(u.pathname) ?? 0) + 1;
    counts.set(u.pathname, n);
    const m = mode.get(u.pathname);
    if (m === 'close') { req.socket.destroy(); return; }
    const h: Record<string, string> = { 'X-Count': String(n), 'Content-Type': 'text/plain' };
    for (const [k, v] of u.searchParams) if (k.startsWith('h-')) h[k.slice(2)] = v;
    if (u.searchParams.has('etag')) {
      h.ETag = '"v1"';
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, h);
        res.end();
        return;
      }
    }
    const len = Number(u.searchParams.get('len') ?? -1);
    const body = len >= 0 ? Buffer.alloc(len, 'x') : Buffer.from(`${u.pathname} ${n}\n`);
    h['Content-Length'] = String(body.length);
    setTimeout(() => {
      res.writeHead(typeof m === 'number' ? m : Number(u.searchParams.get('status') ?? 200), h);
      res.end(body);
    }, Number(u.searchParams.get('delay') ?? 0));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    count: (p) => counts.get(p) ?? 0,
    mode,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
