// A handler's answer through `gzip on` (the JS gzip filter, compressed at once when the whole
// body comes with its end, through a stream when it is flushed before): the gunzipped body is
// what the handler wrote for 0, 1, 700 B, 20 KB and 1 MB and for a body flushed in parts, with
// the headers nginx 1.22's gzip sets (Content-Encoding, chunked, no Content-Length, a strong ETag
// made weak, Vary). The same cases run on the native engine, on node:http, on node:http with the
// addon's compressor absent (zlib.gzipSync then) and on real nginx with lua-nginx-module.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHeaders, fetchRaw, type Raw } from './helpers/fetch-raw.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const P = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
/** n bytes of the pattern, as both handlers make them. */
const body = (n: number): string => P.repeat(Math.ceil(n / P.length)).slice(0, n);
const SIZES = [0, 1, 700, 20 * 1024, 1024 * 1024];

const js = (code: string): string => `content_by_js_block { const P = "${P.replace('\n', '\\n')}"; const body = (n) => P.repeat(Math.ceil(n / P.length)).slice(0, n); ${code} }`;
const lua = (code: string): string => `content_by_lua_block { local P = "${P.replace('\n', '\\n')}"; local function body(n) return string.rep(P, math.ceil(n / #P)):sub(1, n) end ${code} }`;

function locations(h: (code: string) => string, flush: string, etag: string, len: string): string {
  return `gzip on; gzip_vary on; default_type text/html;
    ${SIZES.map((n) => `location = /z/${n} { ${h(`ngx.print(body(${n}))`)} }`).join('\n    ')}
    location = /z/stream { ${h(`ngx.print(body(5000)); ${flush}; ngx.print(body(3000)); ${flush}; ngx.say("end")`)} }
    location = /z/etag { ${h(`${etag}; ngx.print(body(700))`)} }
    location = /z/sent { ${h('ngx.send_headers(); ngx.print(body(700))')} }
    location = /z/length { ${h(`${len}; ngx.print(body(700))`)} }
    location /idx/ { autoindex on; }
    location = /z/level { gzip_comp_level 9; gzip_buffers 4 1k; ${h(`ngx.print(body(20000)); ${flush}; ngx.print(body(20000))`)} }`;
}
const jsServer = locations(js, 'ngx.flush()', 'ngx.header.ETag = \'"v1"\'', 'ngx.header["Content-Length"] = "700"');
const luaServer = locations(lua, 'ngx.flush(true)', 'ngx.header.ETag = \'"v1"\'', 'ngx.header["Content-Length"] = "700"');

const GZ = { 'Accept-Encoding': 'gzip' };
const FILES = { 'html/idx/a.txt': 'a file to list\n' };
const COMPRESSED = { 'Content-Encoding': 'gzip', 'Content-Length': undefined, 'Transfer-Encoding': 'chunked', Vary: 'Accept-Encoding' };

function gunzipped(res: Raw, label: string): string {
  expect(res.status, `${label} status`).toBe(200);
  expectHeaders(res, COMPRESSED, label);
  return zlib.gunzipSync(res.body).toString();
}

/** The cases, against a server on `port`. */
function cases(port: () => number): void {
  for (const n of SIZES) {
    it(`${n} bytes: compressed, the gunzipped body is the handler's`, async () => {
      expect(gunzipped(await fetchRaw(port(), `/z/${n}`, GZ), `/z/${n}`)).toBe(body(n));
    });
  }
  it('a body flushed in three parts: one gzip stream, the whole body', async () => {
    expect(gunzipped(await fetchRaw(port(), '/z/stream', GZ), '/z/stream')).toBe(`${body(5000)}${body(3000)}end\n`);
  });
  it('gzip_comp_level 9 and gzip_buffers 4 1k on a streamed body', async () => {
    expect(gunzipped(await fetchRaw(port(), '/z/level', GZ), '/z/level')).toBe(body(20000).repeat(2));
  });
  it('a strong ETag the handler set goes out weak', async () => {
    const res = await fetchRaw(port(), '/z/etag', GZ);
    expect(gunzipped(res, '/z/etag')).toBe(body(700));
    expectHeaders(res, { ETag: 'W/"v1"' }, '/z/etag');
  });
  it('a Content-Length the handler set is dropped', async () => {
    expect(gunzipped(await fetchRaw(port(), '/z/length', GZ), '/z/length')).toBe(body(700));
  });
  it('after ngx.send_headers: compressed too', async () => {
    expect(gunzipped(await fetchRaw(port(), '/z/sent', GZ), '/z/sent')).toBe(body(700));
  });
  // lua-nginx-module makes a HEAD header-only when output sends its head, before gzip sees it.
  it('HEAD, the head sent by the output: no gzip, no Vary, no length', async () => {
    const res = await fetchRaw(port(), '/z/700', GZ, 'HEAD');
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: undefined, 'Content-Length': undefined }, 'HEAD /z/700');
    expect(res.body.length).toBe(0);
  });
  it('HEAD after ngx.send_headers: Content-Encoding gzip and Vary, no length', async () => {
    const res = await fetchRaw(port(), '/z/sent', GZ, 'HEAD');
    expectHeaders(res, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': undefined }, 'HEAD /z/sent');
    expect(res.body.length).toBe(0);
  });
  it('HEAD of an autoindex page (its head goes out alone): gzip and Vary', async () => {
    const res = await fetchRaw(port(), '/idx/', GZ, 'HEAD');
    expectHeaders(res, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': undefined }, 'HEAD /idx/');
  });
  it('without Accept-Encoding: plain, with Vary', async () => {
    const res = await fetchRaw(port(), '/z/700');
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: 'Accept-Encoding' }, '/z/700');
    expect(res.body.toString()).toBe(body(700));
  });
  it('compressed answers one after another on a kept connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const p of ['/z/700', '/z/stream', '/z/0', '/z/20480', '/z/1']) {
        const res = await new Promise<Raw>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: port(), path: p, headers: GZ, agent }, (r) => {
            const parts: Buffer[] = [];
            r.on('data', (d: Buffer) => parts.push(d));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(parts) }));
          }).on('error', reject);
        });
        expect(gunzipped(res, p)).toBe(p === '/z/stream' ? `${body(5000)}${body(3000)}end\n` : body(Number(p.slice(3))));
      }
    } finally {
      agent.destroy();
    }
  });
  const curl = spawnSync('sh', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!curl)(`curl --compressed decodes the answers${curl ? '' : ' (skipped: curl is not installed)'}`, () => {
    for (const p of ['/z/20480', '/z/stream']) {
      const r = spawnSync('curl', ['-sS', '--compressed', `http://127.0.0.1:${port()}${p}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(p === '/z/stream' ? `${body(5000)}${body(3000)}end\n` : body(20480));
    }
  });
}

const engines: Array<[string, Record<string, string>]> = [['native', {}], ['node', {}], ['node', { TRESTY_NO_NATIVE_ENGINE: '1' }]];
for (const [engine, env] of engines) {
  describe(`a handler's answer through gzip (${engine}${env.TRESTY_NO_NATIVE_ENGINE ? ', no addon: zlib.gzipSync' : ''})`, () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1; error_log logs/error.log info; events {}
http { http_engine ${engine}; server { listen 127.0.0.1:${port}; root html; ${jsServer} } }`, { env, files: FILES });
    });
    afterAll(async () => { await t?.stop(); });
    cases(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a handler's answer through gzip: the same cases on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`root __PREFIX__/html; ${luaServer}`, '', FILES); });
  afterAll(async () => { await n?.stop(); });
  cases(() => n.port);
});
