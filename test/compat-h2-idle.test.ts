// An HTTP/2 connection's idle time and request count, held to nginx 1.22 (observed, `keepalive_timeout
// 1s; client_header_timeout 2s`): with no stream open, nginx sends GOAWAY (NO_ERROR) and closes,
// with no log line, after client_header_timeout before the first stream and keepalive_timeout
// after the last; a stream open longer is not cut; keepalive_requests 2 sends GOAWAY once the
// second stream came, and both are answered. tresty kept every idle HTTP/2 connection open.
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';

const certs = tlsFiles('h2idle');
if (opensslMissing === null) certs.selfSigned('c', 'a.test');
afterAll(() => certs.remove());

const tlsOf = (port: number): string => `listen 127.0.0.1:${port} ssl http2; ssl_certificate ${certs.file('c.crt')}; ssl_certificate_key ${certs.file('c.key')};`;
const servers = (idle: number, count: number, js: boolean): string => `
  server { ${tlsOf(idle)} keepalive_timeout 1s; client_header_timeout 2s;
    location = /ok { return 200 "ok\\n"; }
    location = /slow { ${js ? 'content_by_js_block { await ngx.sleep(1.5); ngx.say("slept"); }' : 'content_by_lua_block { ngx.sleep(1.5) ngx.say("slept") }'} }
  }
  server { ${tlsOf(count)} keepalive_requests 2; keepalive_timeout 10s; http2_max_concurrent_streams 3; http2_body_preread_size 32k;
    location = /ok { return 200 "ok\\n"; }
  }`;

/** A client session; `goaway` resolves with the code, ms since the connect and the time it came. */
interface Session { c: http2.ClientHttp2Session; goaway: () => Promise<{ code: number; ms: number; at: number }>; closed: () => Promise<number> }

function open(port: number): Session {
  const t0 = Date.now();
  const c = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  c.on('error', () => {});
  const goaway = new Promise<{ code: number; ms: number; at: number }>((r) => c.once('goaway', (code) => r({ code, ms: Date.now() - t0, at: Date.now() })));
  const closed = new Promise<number>((r) => c.once('close', () => r(Date.now() - t0)));
  return { c, goaway: () => goaway, closed: () => closed };
}

function get(c: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string; endMs: number }> {
  return new Promise((resolve, reject) => {
    const s = c.request({ ':path': path });
    let status = 0;
    let body = '';
    s.on('response', (h) => { status = Number(h[':status']); });
    s.setEncoding('utf8');
    s.on('data', (d: string) => { body += d; });
    s.on('end', () => resolve({ status, body, endMs: Date.now() }));
    s.on('error', reject);
  });
}

function checks(target: () => { idle: number; count: number; log: () => string }): void {
  it('SETTINGS: nginx\'s defaults (128 streams, a 64k window), and http2_max_concurrent_streams / http2_body_preread_size', async () => {
    const { idle, count } = target();
    const seen: http2.Settings[] = [];
    for (const port of [idle, count]) {
      const s = open(port);
      await new Promise((r) => s.c.once('remoteSettings', r));
      seen.push(s.c.remoteSettings);
      s.c.destroy();
    }
    expect(seen.map((x) => [x.maxConcurrentStreams, x.initialWindowSize])).toEqual([[128, 65536], [3, 32768]]);
  });

  it('no stream: GOAWAY NO_ERROR and the close after client_header_timeout (2 s), no log line', async () => {
    const { idle, log } = target();
    const s = open(idle);
    const g = await s.goaway();
    expect(g.code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(g.ms).toBeGreaterThan(1600);
    expect(g.ms).toBeLessThan(4000);
    expect(await s.closed()).toBeLessThan(g.ms + 1000);
    expect(log()).not.toMatch(/\[(info|error|warn)\][^\n]*HTTP\/2 connection/);
  });

  it('after the last stream: GOAWAY after keepalive_timeout (1 s); a stream open longer (1.5 s) is not cut', async () => {
    const { idle } = target();
    const s = open(idle);
    const slow = await get(s.c, '/slow');
    expect([slow.status, slow.body]).toEqual([200, 'slept\n']);
    const ok = await get(s.c, '/ok');
    expect([ok.status, ok.body]).toEqual([200, 'ok\n']);
    const g = await s.goaway();
    expect(g.code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    const after = g.at - ok.endMs;
    expect(after).toBeGreaterThan(600);
    expect(after).toBeLessThan(2000);
    await s.closed();
  });

  it('keepalive_requests 2: GOAWAY once the second stream came, both answered', async () => {
    const { count } = target();
    const s = open(count);
    expect((await get(s.c, '/ok')).body).toBe('ok\n');
    expect((await get(s.c, '/ok')).body).toBe('ok\n');
    const g = await s.goaway();
    expect(g.code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(g.ms).toBeLessThan(3000); // not keepalive_timeout's 10 s
    await s.closed();
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null || opensslMissing !== null)(titled(e, 'HTTP/2 idle connections'), () => {
    let t: TrestyProcess | undefined;
    let idle = 0;
    let count = 0;
    beforeAll(async () => {
      idle = await freePort();
      count = await freePort();
      t = await startTresty(`worker_processes 1; error_log logs/error.log info; events {} http { ${servers(idle, count, true)} }`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ idle, count, log: () => t!.errorLog() }));
  });
}

const missing = nginxMissing() ?? opensslMissing;
describe.skipIf(missing !== null)(`HTTP/2 idle connections, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let idle = 0;
  let count = 0;
  beforeAll(async () => {
    idle = await freePort();
    count = await freePort();
    // the helper's own server block is closed early for ours
    n = await startNginx(`location / { return 200; } } ${servers(idle, count, false)} server { listen 127.0.0.1:1;`);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ idle, count, log: () => n.errorLog() }));
});
