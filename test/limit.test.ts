// tresty/limit with the local policy, through the real server with 2 workers: limits are exact
// across the workers (one shared dict), enforce() answers with the configured status and
// headers, limit_req delays or rejects, limit_conn counts requests in flight until the log phase.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinConns } from './helpers/pinned.js';
import { freePort, httpGet, startTresty, stopAll, type HttpResult } from './helpers/server.js';
import { NO_SHDICT } from './helpers/shdict.js';

let port: number;

const LIMITS = `
import { limit_req, limit_conn, limit_count } from 'tresty/limit';
export const count = limit_count.new('limits', 100, 60, { status: 429, headers: true });
export const req = limit_req.new('limits', 0.01, 10, { headers: true, nodelay: true });
export const slow = limit_req.new('limits', 1, 5);
export const wait = limit_req.new('limits', 4, 5);
export const conn = limit_conn.new('limits', 1, 0, 0.5);
`;

beforeAll(async () => {
  if (NO_SHDICT) return;
  port = await freePort();
  await startTresty(`
worker_processes 2;
error_log logs/error.log info;
events {}
http {
  access_log off;
  js_shared_dict limits 1m;
  server {
    listen 127.0.0.1:${port};
    # X-Pid on every answer (rejections too): which worker decided.
    header_filter_by_js_block { ngx.header['X-Pid'] = String(ngx.worker.pid()); }
    location = /count {
      access_by_js_block { const { count } = await import('./limits.mjs'); await count.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { ngx.say(ngx.worker.pid()); }
    }
    location = /req {
      access_by_js_block { const { req } = await import('./limits.mjs'); await req.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { ngx.say(ngx.worker.pid()); }
    }
    location = /wait {
      access_by_js_block { const { wait } = await import('./limits.mjs'); await wait.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { ngx.say('ok'); }
    }
    location = /conn {
      access_by_js_block { const { conn } = await import('./limits.mjs'); await conn.enforce(ngx, ngx.var.arg_key); }
      content_by_js_block { await ngx.sleep(Number(ngx.var.arg_hold ?? 0)); ngx.say('ok'); }
      log_by_js_block { const { conn } = await import('./limits.mjs'); conn.leave(ngx); }
    }
    location = /api { content_by_js_file conf/api.mjs; }
    location = /state { content_by_js_block { ngx.say(JSON.stringify(ngx.shared.limits.get(ngx.var.arg_key)[0])); } }
  }
}`, {
    files: {
      // Blocks import relative to the conf file; handler files to their own folder.
      'conf/limits.mjs': LIMITS,
      'conf/api.mjs': `
import { slow, conn, count } from './limits.mjs';
import { limit_req } from 'tresty/limit';
export default (ngx) => {
  const k = ngx.var.arg_key;
  const out = {};
  out.peek = slow.incoming(k, false);
  out.first = slow.incoming(k, true);
  out.second = slow.incoming(k, true);
  out.uncommit = slow.uncommit(k);
  out.third = slow.incoming(k, true);
  // Limiters sharing a dict need keys of their own (as with lua-resty-limit-traffic).
  out.connIn = conn.incoming(k + ':conn', true);
  out.committed = conn.is_committed();
  out.connOver = conn.incoming(k + ':conn', true);
  out.committedOver = conn.is_committed();
  out.left = conn.leaving(k + ':conn');
  out.countPeek = count.incoming(k + ':count', false);
  out.count1 = count.incoming(k + ':count', true);
  out.countUncommit = count.uncommit(k + ':count');
  out.abused = count.incoming(k, true);
  try { limit_req.new('nope', 1, 1); } catch (e) { out.noDict = [e.code, e.message]; }
  try { limit_req.new('limits', 0, 1); } catch (e) { out.badRate = e.message; }
  try { limit_req.new('limits', 1, 1, { policy: 'x' }); } catch (e) { out.badPolicy = e.message; }
  ngx.say(JSON.stringify(out));
};`,
    },
  });
});

afterAll(async () => { await stopAll(); });

const all = (n: number, path: string): Promise<HttpResult[]> => Promise.all(Array.from({ length: n }, () => httpGet(port, path)));

/** `n` requests at once, half on each worker: each on its own connection, opened beforehand. */
async function spread(n: number, path: string): Promise<HttpResult[]> {
  const conns = await pinConns(port, {
    workers: 2, perWorker: Math.ceil(n / 2),
    probe: async (request) => Number((await request('/state?key=probe')).headers['x-pid']),
  });
  try {
    return await Promise.all(conns.slice(0, n).map((c) => c.request(path)));
  } finally {
    for (const c of conns) c.close();
  }
}

describe.skipIf(Boolean(NO_SHDICT))(`tresty/limit, local policy, 2 workers${NO_SHDICT}`, () => {
  it('limit_count is exact across the workers, with X-RateLimit-* and Retry-After', async () => {
    for (const run of ['a', 'b']) {
      const rs = await spread(150, `/count?key=${run}`);
      const ok = rs.filter((r) => r.status === 200);
      const over = rs.filter((r) => r.status === 429);
      expect(ok).toHaveLength(100);
      expect(over).toHaveLength(50);
      expect(rs.every((r) => /^\d+$/.test(String(r.headers['x-pid'])))).toBe(true);
      expect(new Set(rs.map((r) => r.headers['x-pid'])).size, 'both workers decided').toBe(2);
      // Every place of the window was given once: remaining 99 .. 0, each exactly once.
      expect(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      for (const r of [...ok, ...over]) expect(r.headers['x-ratelimit-limit']).toBe('100');
      for (const r of over) {
        expect(r.headers['x-ratelimit-remaining']).toBe('0');
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
      }
    }
  });

  it('limit_req with nodelay lets exactly rate + burst through at once, then 503', async () => {
    const rs = await spread(30, '/req?key=r1');
    const ok = rs.filter((r) => r.status === 200);
    expect(ok).toHaveLength(11); // the first, and the burst of 10 (rate 0.01/s leaks nothing meanwhile)
    expect(rs.every((r) => /^\d+$/.test(String(r.headers['x-pid'])))).toBe(true);
    expect(new Set(rs.map((r) => r.headers['x-pid'])).size, 'both workers decided').toBe(2);
    const over = rs.filter((r) => r.status === 503);
    expect(over).toHaveLength(19);
    // (excess - burst) / rate = (11 - 10) / 0.01 s
    for (const r of over) expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(99);
  });

  it('limit_req delays requests within the burst (enforce sleeps the delay)', async () => {
    const t0 = Date.now();
    const rs = await all(3, '/wait?key=w1'); // rate 4/s: the third waits about 0.5 s
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });

  it('incoming, uncommit, is_committed, leaving keep lua-resty-limit-traffic\'s results', async () => {
    const r = await httpGet(port, '/api?key=api1');
    const out = JSON.parse(r.body) as Record<string, unknown>;
    expect(out.peek).toEqual([0, 0]);
    expect(out.first).toEqual([0, 0]);
    const [delay, excess] = out.second as [number, number];
    expect(delay).toBeCloseTo(1, 1); // rate 1/s: the second waits a second
    expect(excess).toBeCloseTo(1, 1);
    expect(out.uncommit).toEqual([true, null]);
    expect((out.third as number[])[0]).toBeCloseTo(1, 1); // the second was taken back
    expect(out.connIn).toEqual([0, 1]);
    expect(out.committed).toBe(true);
    expect(out.connOver).toEqual([null, 'rejected']);
    expect(out.committedOver).toBe(false);
    expect(out.left).toEqual([0, null]);
    expect(out.countPeek).toEqual([0, 99]);
    expect(out.count1).toEqual([0, 99]);
    expect(out.countUncommit).toEqual([100, null]);
    expect(out.abused).toEqual([null, 'not a number']); // the key holds limit_req's bucket
    expect(out.noDict).toEqual(['TRESTY_ERR_API_ARGS', 'tresty/limit: js_shared_dict "nope" not found (declare it in http {})']);
    expect(out.badRate).toMatch(/"rate" must be a positive number/);
    expect(out.badPolicy).toMatch(/unknown policy "x"/);
  });

  it('limit_conn counts requests in flight until their log phase', async () => {
    const state = async (): Promise<unknown> => JSON.parse((await httpGet(port, '/state?key=c1')).body);
    const until = async (want: unknown): Promise<void> => {
      const deadline = Date.now() + 5000;
      while ((await state()) !== want) {
        if (Date.now() > deadline) throw new Error(`connections never became ${String(want)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const held = httpGet(port, '/conn?key=c1&hold=1');
    await until(1); // counted from its access phase on
    const second = await httpGet(port, '/conn?key=c1');
    expect(second.status).toBe(503);
    expect((await held).status).toBe(200);
    await until(0); // its log phase took it back
    expect((await httpGet(port, '/conn?key=c1')).status).toBe(200);
  });
});
