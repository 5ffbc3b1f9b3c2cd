// access_by_js_file: three limits in front of an API, as a gateway sets them (docs/limit.md).
import type { Ngx } from 'tresty';
import { limit_conn, limit_count, limit_req } from 'tresty/limit';

// 20 requests/s per address, bursts of 40 delayed to the rate; beyond: 429 with Retry-After.
const perAddress = limit_req.new('limits', 20, 40, { status: 429, headers: true });

// 10,000 requests per hour per API key, counted in Redis by every gateway machine. If Redis is
// down or slow (200 ms), requests go through (fail open) and the error log says so once a minute.
const perKey = limit_count.new('quota', 10_000, 3600, {
  policy: 'redis',
  redis: { host: process.env.REDIS_HOST ?? '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379), timeout: 200 },
  fail: 'open',
  logInterval: 60,
  status: 429,
  headers: true,
});

// At most 100 requests in flight per route; 50 more wait (0.2 s per 100 ahead of them).
export const inFlight = limit_conn.new('limits', 100, 50, 0.2, { status: 503 });

export default async (ngx: Ngx): Promise<void> => {
  const key = ngx.req.get_headers()['x-api-key'];
  if (typeof key !== 'string') return ngx.exit(401);
  await perAddress.enforce(ngx, `addr:${ngx.var.remote_addr}`);
  await perKey.enforce(ngx, key);
  await inFlight.enforce(ngx, `route:${ngx.var.uri?.split('/')[2] ?? ''}`);
};
