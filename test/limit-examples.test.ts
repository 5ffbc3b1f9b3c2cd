// conf/examples/gateway.conf as shipped (docs/limit.md's gateway), in a temporary prefix with a
// real redis-server for the per-key quota: it works the first time, and each limit answers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REDIS, REDIS_BIN, RedisServer } from './helpers/redis.js';
import { freePort, httpGet, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';
import { NO_SHDICT } from './helpers/shdict.js';

const EXAMPLES = path.join(ROOT, 'conf', 'examples');

describe.skipIf(!REDIS_BIN || Boolean(NO_SHDICT))(`conf/examples/gateway.conf${NO_REDIS}${NO_SHDICT}`, () => {
  let t: TrestyProcess;
  let port: number;
  let redis: RedisServer;

  beforeAll(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    port = await freePort();
    const conf = fs.readFileSync(path.join(EXAMPLES, 'gateway.conf'), 'utf8')
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('worker_processes auto;', 'worker_processes 2;');
    const files: Record<string, string> = {};
    for (const f of fs.readdirSync(path.join(EXAMPLES, 'gateway'))) {
      files[`conf/examples/gateway/${f}`] = fs.readFileSync(path.join(EXAMPLES, 'gateway', f), 'utf8');
    }
    // Two workers compiling the example's TypeScript on a loaded machine: more than the default 20 s
    // to be ready is possible (the hook allows 60).
    t = await startTresty(conf, { files, env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port) }, timeoutMs: 50_000 });
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await redis?.stop();
  });

  it('needs an API key', async () => {
    expect((await httpGet(port, '/api/orders')).status).toBe(401);
  });

  it('counts the key\'s hourly quota in Redis', async () => {
    // The first calls of a worker may find Redis not connected yet (200 ms bound): they fail open.
    const deadline = Date.now() + 20_000;
    let r = await httpGet(port, '/api/orders', { headers: { 'x-api-key': 'k1' } });
    while (r.headers['x-ratelimit-limit'] !== '10000' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      r = await httpGet(port, '/api/orders', { headers: { 'x-api-key': 'k1' } });
    }
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true, path: '/api/orders' });
    expect(r.headers['x-ratelimit-limit']).toBe('10000');
    const before = Number(r.headers['x-ratelimit-remaining']);
    const next = await httpGet(port, '/api/orders', { headers: { 'x-api-key': 'k1' } });
    expect(Number(next.headers['x-ratelimit-remaining'])).toBe(before - 1);
  }, 30_000);

  it('turns away an address over 20 r/s + 40 burst with 429 and Retry-After', async () => {
    // The requests before this one (same address, back to back) left up to about one request of
    // excess in the bucket, which leaves 40 places instead of 41 if the burst came at once. It
    // drains at 20 r/s: after half a second it is empty, and the first request passes as the
    // first of an idle address.
    await new Promise((r) => setTimeout(r, 500));
    const rs = await Promise.all(Array.from({ length: 80 }, () => httpGet(port, '/api/orders', { headers: { 'x-api-key': 'k2' }, timeoutMs: 20_000 })));
    const over = rs.filter((r) => r.status === 429);
    expect(over.length).toBeGreaterThan(0);
    expect(rs.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(41);
    for (const r of over) expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
