// tresty/limit with `policy: 'redis'`: two tresty instances (two machines, as far as the limit
// can tell) sharing one real redis-server enforce one limit together; a Redis that hangs is cut
// off by the timeout; a Redis that is down gives the configured fail-open or fail-closed answer,
// logged once per interval, not per request; limiting resumes when it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_REDIS, REDIS_BIN, RedisServer } from './helpers/redis.js';
import { freePort, httpGet, startTresty, stopAll, type HttpResult, type TrestyProcess } from './helpers/server.js';

let redis: RedisServer;
let a: { t: TrestyProcess; port: number };
let b: { t: TrestyProcess; port: number };

const conf = (port: number, name: string): string => `
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    location = /count {
      access_by_js_block { const { count } = await import('./limits.mjs'); await count.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { ngx.say('${name}'); }
    }
    location = /req {
      access_by_js_block { const { req } = await import('./limits.mjs'); await req.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { ngx.say('${name}'); }
    }
  }
}`;

const limits = (fail: 'open' | 'closed'): string => `
import { limit_count, limit_req } from 'tresty/limit';
const redis = { host: '127.0.0.1', port: ${'${PORT}'}, timeout: 300 };
const common = { policy: 'redis', redis, fail: '${fail}', logInterval: 60 };
export const count = limit_count.new('api', 20, 60, { ...common, status: 429, headers: true });
export const req = limit_req.new('api', 0.01, 4, { ...common, nodelay: true });
`;

async function start(name: string, fail: 'open' | 'closed'): Promise<{ t: TrestyProcess; port: number }> {
  const port = await freePort();
  const t = await startTresty(conf(port, name), { files: { 'conf/limits.mjs': limits(fail).replace('${PORT}', String(redis.port)) } });
  return { t, port };
}

/** n requests, alternating between the two instances, all at once. */
function both(n: number, path: string): Promise<HttpResult[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => httpGet(i % 2 ? b.port : a.port, path)));
}

describe.skipIf(!REDIS_BIN)(`tresty/limit, redis policy${NO_REDIS}`, () => {
  beforeAll(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    a = await start('a', 'open');
    b = await start('b', 'closed');
    // Each worker connects to Redis on its first call, bounded by the 300 ms timeout: on a loaded
    // machine the first calls may fail (B would turn them away). Wait for both to be through.
    for (const x of [a, b]) {
      const deadline = Date.now() + 20_000;
      while ((await httpGet(x.port, '/count?key=warmup')).headers['x-ratelimit-limit'] === undefined) {
        if (Date.now() > deadline) throw new Error('an instance never reached Redis');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    await redis?.stop();
  });

  it('two instances share one limit_count exactly', async () => {
    const rs = await both(30, '/count?key=k1');
    const ok = rs.filter((r) => r.status === 200);
    expect(ok).toHaveLength(20);
    expect(rs.filter((r) => r.status === 429)).toHaveLength(10);
    expect(new Set(ok.map((r) => r.body.trim()))).toEqual(new Set(['a', 'b']));
    expect(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const r of rs.filter((x) => x.status === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('two instances share one limit_req bucket exactly (Redis\'s clock, one script)', async () => {
    const rs = await both(16, '/req?key=r1');
    expect(rs.filter((r) => r.status === 200)).toHaveLength(5); // 1 + burst 4; rate 0.01/s leaks nothing
    expect(rs.filter((r) => r.status === 503)).toHaveLength(11);
  });

  it('a Redis that stops answering is cut off by the timeout: open lets through, closed turns away', async () => {
    redis.signal('SIGSTOP');
    try {
      const t0 = Date.now();
      const [ra, rb] = await Promise.all([httpGet(a.port, '/count?key=k2'), httpGet(b.port, '/count?key=k2')]);
      expect(Date.now() - t0).toBeLessThan(5000); // timeout 300 ms, on a loaded machine
      expect(ra.status).toBe(200);
      expect(ra.headers['x-ratelimit-limit']).toBeUndefined(); // nothing is known
      expect(rb.status).toBe(503);
    } finally {
      redis.signal('SIGCONT');
    }
    // Late answers to the timed-out calls do not confuse the next ones.
    const r = await httpGet(a.port, '/count?key=k3');
    expect(r.status).toBe(200);
    expect(r.headers['x-ratelimit-remaining']).toBe('19');
    expect((await httpGet(b.port, '/count?key=k3')).headers['x-ratelimit-remaining']).toBe('18');
  });

  it('Redis down: the configured answer, logged once per interval; limiting resumes when it is back', async () => {
    const lines = (t: TrestyProcess): string[] => t.errorLog().split('\n').filter((l) => l.includes('tresty/limit: redis'));
    const seenA = lines(a.t).length;
    const seenB = lines(b.t).length;
    await redis.stop();
    const ra = await Promise.all(Array.from({ length: 10 }, () => httpGet(a.port, '/count?key=k4')));
    const rb = await Promise.all(Array.from({ length: 10 }, () => httpGet(b.port, '/count?key=k4')));
    expect(ra.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(rb.map((r) => r.status)).toEqual(Array(10).fill(503));
    // 10 failed requests each, one line each (logInterval 60 s).
    await expect.poll(() => lines(a.t).slice(seenA).filter((l) => / failed: .*failing open/.test(l)).length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => lines(b.t).slice(seenB).filter((l) => / failed: .*failing closed/.test(l)).length, { timeout: 5000 }).toBe(1);
    expect(lines(a.t).slice(seenA)).toHaveLength(1);

    await redis.start();
    // The client reconnects in the background (backing off to one try per 2 s).
    const deadline = Date.now() + 15_000;
    let r: HttpResult;
    do {
      r = await httpGet(b.port, '/count?key=k5');
      if (r.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    } while (Date.now() < deadline);
    expect(r.status).toBe(200);
    expect(r.headers['x-ratelimit-remaining']).toBe('19');
    let again: HttpResult;
    do {
      again = await httpGet(a.port, '/count?key=k5'); // fails open (uncounted) until A reconnects too
      if (again.headers['x-ratelimit-remaining'] !== undefined) break;
      await new Promise((res) => setTimeout(res, 100));
    } while (Date.now() < deadline);
    expect(again.headers['x-ratelimit-remaining']).toBe('18');
    await expect.poll(() => lines(b.t).slice(seenB).some((l) => /answers again \(\d+ failures since the last report\)/.test(l)), { timeout: 5000 }).toBe(true);
  }, 60_000);
});
