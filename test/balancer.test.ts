// balancer_by_js through the real server: a handler picks the peer of every try with
// tresty/balancer (lua-resty-core's ngx.balancer), from data loaded in init_worker_by_js and
// refreshed by a timer (a new upstream list without a reload), after awaiting a lookup; retries
// call it again with get_last_failure() saying why; set_timeouts, keepalive to its peers, and a
// handler that throws.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { eventually, startRaw, startUpstream, type Upstream } from './helpers/upstream.js';

let t: TrestyProcess;
let port: number;
let refused: number;
const ups: Array<{ close(): Promise<void> }> = [];
let a: Upstream;
let b: Upstream;
let hang: { port: number };

afterAll(async () => {
  await stopAll();
  await Promise.all(ups.map((u) => u.close()));
});

const peersFile = (): string => path.join(t.prefix, 'peers.json');

beforeAll(async () => {
  a = await startUpstream(undefined, { name: 'a' });
  b = await startUpstream(undefined, { name: 'b' });
  hang = await startRaw(() => { /* never answers */ });
  ups.push(a, b, hang as { port: number; close(): Promise<void> });
  refused = await freePort();
  port = await freePort();
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  init_worker_by_js_file js/init.mjs;
  upstream dynamic {
    balancer_by_js_file js/pick.mjs;
  }
  upstream byheader {
    server 127.0.0.1:${a.port};
    keepalive 4;
    balancer_by_js_block {
      const { balancer } = await import('tresty/balancer');
      await new Promise((r) => setTimeout(r, Number(ngx.var.arg_wait ?? 0)));
      const [ok, err] = balancer.set_current_peer(ngx, '127.0.0.1', Number(ngx.var.http_x_port));
      if (!ok) throw new Error(err);
    }
  }
  upstream retry {
    balancer_by_js_block {
      const { balancer } = await import('tresty/balancer');
      const ports = [${refused}, ${refused}, ${b.port}];
      const [state, status] = balancer.get_last_failure(ngx);
      if (state === null) balancer.set_more_tries(ngx, 2);
      ngx.ctx.log = (ngx.ctx.log ?? []).concat(state === null ? 'first' : state + ':' + status);
      ngx.ctx.n = (ngx.ctx.n ?? 0) + 1;
      balancer.set_current_peer(ngx, '127.0.0.1', ports[ngx.ctx.n - 1]);
    }
  }
  upstream capped {
    balancer_by_js_block {
      const { balancer } = await import('tresty/balancer');
      const [, err] = balancer.set_more_tries(ngx, 5);
      if (err) ngx.ctx.capped = err;
      balancer.set_current_peer(ngx, '127.0.0.1', ${refused});
    }
  }
  upstream timeouts {
    balancer_by_js_block {
      const { balancer } = await import('tresty/balancer');
      balancer.set_timeouts(ngx, 1, 1, 0.2);
      balancer.set_current_peer(ngx, '127.0.0.1:${hang.port}');
    }
  }
  upstream throws {
    balancer_by_js_block { throw new Error('no peer for you'); }
  }
  upstream nopeer {
    balancer_by_js_block { }
  }
  server {
    listen 127.0.0.1:${port};
    location /dyn/ { proxy_pass http://dynamic; }
    location /hdr/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://byheader; }
    location /retry/ {
      proxy_pass http://retry;
      header_filter_by_js_block { ngx.header['X-Tries'] = ngx.ctx.log.join(','); }
    }
    location /capped/ {
      proxy_next_upstream_tries 3;
      proxy_pass http://capped;
      header_filter_by_js_block { ngx.header['X-Capped'] = ngx.ctx.capped; }
    }
    location /timeouts/ { proxy_pass http://timeouts; }
    location /throws/ { proxy_pass http://throws; }
    location /nopeer/ { proxy_pass http://nopeer; }
    location = /outside {
      content_by_js_block {
        const { balancer } = await import('tresty/balancer');
        try { balancer.set_current_peer(ngx, '127.0.0.1', 1); } catch (e) { ngx.say(e.code, ': ', e.message); }
      }
    }
  }
}
`, {
    files: {
      'peers.json': JSON.stringify([{ host: '127.0.0.1', port: a.port }]),
      'js/peers.mjs': `
import fs from 'node:fs';
export const peers = { list: [], i: 0, file: '' };
export function load() { peers.list = JSON.parse(fs.readFileSync(peers.file, 'utf8')); }
`,
      'js/init.mjs': `
import { peers, load } from './peers.mjs';
export default (ngx) => {
  peers.file = ngx.config.prefix() + 'peers.json';
  load();
  // Service discovery: the list is read again every 50 ms, no reload needed.
  ngx.timer.every(0.05, () => { try { load(); } catch { /* keep the last good list */ } });
};
`,
      'js/pick.mjs': `
import { balancer } from 'tresty/balancer';
import { peers } from './peers.mjs';
export default async (ngx) => {
  const p = peers.list[peers.i++ % peers.list.length];
  balancer.set_current_peer(ngx, p.host, p.port);
};
`,
    },
  });
});

const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

describe('balancer_by_js', () => {
  it('picks peers from data loaded in init_worker_by_js, and follows a new list without a reload', async () => {
    for (let i = 0; i < 3; i++) expect(nameOf((await httpGet(port, `/dyn/${i}`)).body)).toBe('a');
    fs.writeFileSync(peersFile(), JSON.stringify([{ host: '127.0.0.1', port: b.port }]));
    const deadline = Date.now() + 5000;
    let name = 'a';
    while (name !== 'b' && Date.now() < deadline) name = nameOf((await httpGet(port, '/dyn/x')).body);
    expect(name).toBe('b');
    fs.writeFileSync(peersFile(), JSON.stringify([{ host: '127.0.0.1', port: a.port }, { host: '127.0.0.1', port: b.port }]));
    while (name !== 'a' && Date.now() < deadline) name = nameOf((await httpGet(port, '/dyn/y')).body);
    expect(name).toBe('a');
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(nameOf((await httpGet(port, '/dyn/z')).body));
    expect([...names].sort()).toEqual(['a', 'b']);
  });

  it('awaits before choosing, each request keeping its own choice (concurrent requests)', async () => {
    const reqs = Array.from({ length: 20 }, (_, i) => {
      const up = i % 2 === 0 ? a : b;
      return httpGet(port, `/hdr/${i}?wait=${(20 - i) * 2}`, { headers: { 'X-Port': String(up.port) } }).then((r) => [nameOf(r.body), up.name]);
    });
    for (const [got, want] of await Promise.all(reqs)) expect(got).toBe(want);
  });

  it('keeps connections to the peers it chose (keepalive)', async () => {
    const before = a.connections;
    for (let i = 0; i < 5; i++) await httpGet(port, `/hdr/k${i}`, { headers: { 'X-Port': String(a.port) } });
    expect(a.connections - before).toBeLessThanOrEqual(1);
  });

  it('is called again for each retry, get_last_failure() saying why the last try failed', async () => {
    const r = await httpGet(port, '/retry/x');
    expect(r.status).toBe(200);
    expect(nameOf(r.body)).toBe('b');
    expect(r.headers['x-tries']).toBe('first,failed:502,failed:502');
  });

  it('set_more_tries is capped by proxy_next_upstream_tries', async () => {
    const r = await httpGet(port, '/capped/x');
    expect(r.status).toBe(502);
    expect(r.headers['x-capped']).toBe('reduced tries due to limit');
    const log = await eventually(() => t.errorLog(), /(connect\(\) failed .*\/capped\/x[^]*){3}/);
    expect(log.match(/connect\(\) failed .*\/capped\/x/g)).toHaveLength(3);
  });

  it('set_timeouts applies to the try (a 0.2 s read timeout on a server that never answers)', async () => {
    const t0 = Date.now();
    const r = await httpGet(port, '/timeouts/x');
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a handler that throws gives 500 and an error line; one that sets no peer gives 502', async () => {
    const r = await httpGet(port, '/throws/x');
    expect(r.status).toBe(500);
    expect(await eventually(() => t.errorLog(), /no peer for you/)).toMatch(/failed to run balancer_by_js\*: .*nginx\.conf:\d+: Error: no peer for you \(TRESTY_ERR_HANDLER\)/);
    expect((await httpGet(port, '/nopeer/x')).status).toBe(502);
    expect(await eventually(() => t.errorLog(), /set no peer/)).toMatch(/balancer_by_js set no peer for upstream "nopeer"/);
  });

  it('refuses to act outside balancer_by_js', async () => {
    const r = await httpGet(port, '/outside');
    expect(r.body).toMatch(/^TRESTY_ERR_API_DISABLED: tresty\/balancer: set_current_peer is only allowed in balancer_by_js\*/);
  });
});
