// gzip as nginx 1.22's gzip filter: which answers are compressed (status, type, length, HEAD,
// an encoding already set, Accept-Encoding with q=0, gzip_proxied, gzip_disable, msie6), the
// headers it changes (Content-Encoding, no Content-Length or Accept-Ranges, weak ETag, Vary) and
// its place among the filters (header_filter_by_js does not see it, body_filter_by_js sees the
// plain body). The same cases run on the native engine, on node:http and on real nginx; bodies
// are checked after gunzip. A 20 MB file through gzip keeps the worker's memory bounded.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHeaders, fetchRaw } from './helpers/fetch-raw.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const TEXT = 'hello gzip world, '.repeat(20);
const files: Record<string, string> = {
  'html/g/t.txt': TEXT,
  'html/g/small.txt': 'tiny\n',
  'html/g/70k.txt': 'seventy kilobytes of text\n'.repeat(2800),
  'html/g/d.json': `{"a": "${'x'.repeat(200)}"}`,
  'html/gs/p.txt': 'plain version\n',
  'html/gs/only.txt': 'no gz here\n',
};
// gzip_static's precompressed file (written as binary below, as it is not text).
const GZ_FILE = zlib.gzipSync(Buffer.from('precompressed version\n'));

const common = `gzip_types text/plain; gzip_min_length 20; gzip_vary on;
    location /g/ { gzip on; }
    location = /g/ret { gzip on; return 200 "${TEXT}"; }
    location = /g/ret-small { gzip on; return 200 "short"; }
    location = /g/404 { gzip on; return 404; }
    location = /g/500 { gzip on; return 500; }
    location /gp/ { gzip on; alias html/g/; gzip_proxied any; }
    location /gpe/ { gzip on; alias html/g/; gzip_proxied expired no-cache; }
    location /gpn/ { gzip on; alias html/g/; gzip_proxied no_etag; }
    location /gd/ { gzip on; alias html/g/; gzip_disable "curl/" msie6; }
    location /gl/ { gzip on; alias html/g/; gzip_comp_level 9; gzip_types *; }
    location /goff/ { gzip off; alias html/g/; }
    location /gs/ { gzip_static on; gzip_vary on; }
    location /gsa/ { gzip_static always; alias html/gs/; }`;

const jsServer = `${common}
    location = /g/js { gzip on; header_filter_by_js_block { ngx.header["X-CE"] = ngx.header["Content-Encoding"] ?? "nil" } body_filter_by_js_block { if (ngx.arg[1]) ngx.arg[1] = String(ngx.arg[1]).toUpperCase() } content_by_js_block { ngx.header.content_type = "text/html"; ngx.print("${TEXT}") } }
    location = /g/enc { gzip on; content_by_js_block { ngx.header["Content-Encoding"] = "br"; ngx.header.content_type = "text/html"; ngx.print("${TEXT}") } }`;
const luaServer = `${common}
    location = /g/js { gzip on; header_filter_by_lua_block { ngx.header["X-CE"] = ngx.header["Content-Encoding"] or "nil" } body_filter_by_lua_block { if ngx.arg[1] then ngx.arg[1] = string.upper(ngx.arg[1]) end } content_by_lua_block { ngx.header.content_type = "text/html"; ngx.print("${TEXT}") } }
    location = /g/enc { gzip on; content_by_lua_block { ngx.header["Content-Encoding"] = "br"; ngx.header.content_type = "text/html"; ngx.print("${TEXT}") } }`;

const GZ = { 'Accept-Encoding': 'gzip' };

interface GzCase {
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  status?: number;
  /** Compressed (the body is checked after gunzip) or not. */
  gzip: boolean;
  body?: string | RegExp;
  resHeaders?: Record<string, string | RegExp | undefined>;
}

const cases: GzCase[] = [
  { name: 'a static file of gzip_types: compressed, weak ETag, no length, no Accept-Ranges, Vary', path: '/g/t.txt', headers: GZ, gzip: true, body: TEXT,
    resHeaders: { Vary: 'Accept-Encoding', ETag: /^W\/"/, 'Content-Length': undefined, 'Accept-Ranges': undefined } },
  { name: 'without Accept-Encoding: plain, but Vary', path: '/g/t.txt', gzip: false, body: TEXT, resHeaders: { Vary: 'Accept-Encoding', 'Content-Length': String(TEXT.length), ETag: /^"/ } },
  { name: 'gzip;q=0 refuses it', path: '/g/t.txt', headers: { 'Accept-Encoding': 'gzip;q=0' }, gzip: false, body: TEXT },
  { name: 'a list with GZIP in capitals', path: '/g/t.txt', headers: { 'Accept-Encoding': 'deflate, GZIP;q=0.5' }, gzip: true, body: TEXT },
  { name: 'HEAD says gzip, with no length', path: '/g/t.txt', method: 'HEAD', headers: GZ, gzip: false, body: '', resHeaders: { 'Content-Encoding': 'gzip', 'Content-Length': undefined } },
  { name: 'a file over 64 KB: compressed too', path: '/g/70k.txt', headers: GZ, gzip: true, body: files['html/g/70k.txt'],
    resHeaders: { 'Content-Length': undefined, ETag: /^W\/"/, Vary: 'Accept-Encoding', 'Transfer-Encoding': 'chunked' } },
  { name: 'HEAD of a file over 64 KB: the same head', path: '/g/70k.txt', method: 'HEAD', headers: GZ, gzip: false, body: '',
    resHeaders: { 'Content-Encoding': 'gzip', 'Content-Length': undefined, 'Transfer-Encoding': undefined, ETag: /^W\/"/, Vary: 'Accept-Encoding' } },
  { name: 'HEAD of a return text: gzip, no length', path: '/g/ret', method: 'HEAD', headers: GZ, gzip: false, body: '',
    resHeaders: { 'Content-Encoding': 'gzip', 'Content-Length': undefined, 'Transfer-Encoding': undefined, Vary: 'Accept-Encoding' } },
  { name: 'HEAD of a 404 page: gzip, no length', path: '/g/404', method: 'HEAD', headers: GZ, status: 404, gzip: false, body: '',
    resHeaders: { 'Content-Encoding': 'gzip', 'Content-Length': undefined, 'Transfer-Encoding': undefined } },
  { name: 'a Range on a file that goes gzipped: the whole file', path: '/g/t.txt', headers: { ...GZ, Range: 'bytes=0-3' }, status: 200, gzip: true, body: TEXT },
  { name: 'shorter than gzip_min_length: plain', path: '/g/small.txt', headers: GZ, gzip: false, body: 'tiny\n' },
  { name: 'a type not in gzip_types: plain, no Vary', path: '/g/d.json', headers: GZ, gzip: false, resHeaders: { Vary: undefined } },
  { name: 'gzip_types *', path: '/gl/d.json', headers: GZ, gzip: true, body: /^\{"a": "x+"\}$/ },
  { name: 'return with a text: compressed', path: '/g/ret', headers: GZ, gzip: true, body: TEXT },
  { name: 'return with a short text: plain', path: '/g/ret-small', headers: GZ, gzip: false, body: 'short' },
  { name: 'a 404 page (text/html) is compressed', path: '/g/404', headers: GZ, status: 404, gzip: true, body: /404 Not Found/ },
  { name: 'a 500 page is not', path: '/g/500', headers: GZ, status: 500, gzip: false, body: /500 Internal Server Error/ },
  { name: 'header_filter_by_js does not see Content-Encoding; body_filter_by_js sees the plain body', path: '/g/js', headers: GZ, gzip: true, body: TEXT.toUpperCase(), resHeaders: { 'X-CE': 'nil' } },
  { name: 'an answer with an encoding of its own is left alone', path: '/g/enc', headers: GZ, gzip: false, body: TEXT, resHeaders: { 'Content-Encoding': 'br' } },
  { name: 'through a proxy (Via): gzip_proxied off refuses, any allows', path: '/g/t.txt', headers: { ...GZ, Via: '1.1 proxy' }, gzip: false, body: TEXT },
  { name: 'gzip_proxied any', path: '/gp/t.txt', headers: { ...GZ, Via: '1.1 proxy' }, gzip: true, body: TEXT },
  { name: 'gzip_proxied expired no-cache: an answer with neither Expires nor Cache-Control is compressed', path: '/gpe/t.txt', headers: { ...GZ, Via: '1.1 proxy' }, gzip: true, body: TEXT },
  { name: 'gzip_proxied no_etag: an answer with an ETag is not', path: '/gpn/t.txt', headers: { ...GZ, Via: '1.1 proxy' }, gzip: false, body: TEXT },
  { name: 'gzip_disable regex on User-Agent', path: '/gd/t.txt', headers: { ...GZ, 'User-Agent': 'curl/8.0' }, gzip: false, body: TEXT },
  { name: 'gzip_disable msie6', path: '/gd/t.txt', headers: { ...GZ, 'User-Agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)' }, gzip: false, body: TEXT },
  { name: 'msie6 with SV1 is not msie6', path: '/gd/t.txt', headers: { ...GZ, 'User-Agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)' }, gzip: true, body: TEXT },
  { name: 'gzip off', path: '/goff/t.txt', headers: GZ, gzip: false, body: TEXT },
  { name: 'gzip_static on: FILE.gz with Content-Encoding and FILE\'s type, no Accept-Ranges', path: '/gs/p.txt', headers: GZ, gzip: true, body: 'precompressed version\n',
    resHeaders: { 'Content-Type': 'text/plain', Vary: 'Accept-Encoding', 'Content-Length': String(GZ_FILE.length), 'Accept-Ranges': undefined, ETag: /^"/ } },
  { name: 'gzip_static on: a Range gets FILE.gz whole', path: '/gs/p.txt', headers: { ...GZ, Range: 'bytes=0-1' }, status: 200, gzip: true, body: 'precompressed version\n' },
  { name: 'gzip_static on without Accept-Encoding: FILE, with Vary', path: '/gs/p.txt', gzip: false, body: 'plain version\n', resHeaders: { Vary: 'Accept-Encoding' } },
  { name: 'gzip_static on, no FILE.gz: FILE, no Vary', path: '/gs/only.txt', headers: GZ, gzip: false, body: 'no gz here\n', resHeaders: { Vary: undefined } },
  { name: 'gzip_static always: FILE.gz for any client', path: '/gsa/p.txt', gzip: true, body: 'precompressed version\n' },
];

async function check(port: number, c: GzCase): Promise<void> {
  const res = await fetchRaw(port, c.path, c.headers, c.method);
  expect(res.status, `${c.path} status`).toBe(c.status ?? 200);
  if (c.gzip) expect(res.headers['content-encoding'], `${c.path} Content-Encoding`).toBe('gzip');
  else if (c.method !== 'HEAD') expect(res.headers['content-encoding'], `${c.path} Content-Encoding`).not.toBe('gzip');
  const body = c.gzip ? zlib.gunzipSync(res.body).toString() : res.body.toString();
  if (typeof c.body === 'string') expect(body, `${c.path} body`).toBe(c.body);
  else if (c.body) expect(body, `${c.path} body`).toMatch(c.body);
  expectHeaders(res, c.resHeaders ?? {}, c.path);
}

function trestyConf(port: number, engine: string, extra = ''): string {
  return `worker_processes 1; error_log logs/error.log info; events {}
http { http_engine ${engine}; types { text/plain txt; application/json json; text/html html; }
  server { listen 127.0.0.1:${port}; server_name localhost; ${jsServer} ${extra} } }`;
}

for (const engine of ['native', 'node']) {
  describe(`gzip (${engine})`, () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(trestyConf(port, engine), { files });
      fs.writeFileSync(path.join(t.prefix, 'html/gs/p.txt.gz'), GZ_FILE);
    });
    afterAll(async () => { await t?.stop(); });
    for (const c of cases) it(c.name, () => check(port, c));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`gzip: the same cases on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`server_name localhost; root __PREFIX__/html; default_type text/plain; ${luaServer}`,
      'types { text/plain txt; application/json json; text/html html; }', files);
    fs.writeFileSync(path.join(n.prefix, 'html/gs/p.txt.gz'), GZ_FILE);
  });
  afterAll(async () => { await n?.stop(); });
  for (const c of cases) it(c.name, () => check(n.port, c));
});

// A handler that makes 20 MB of incompressible 64 KB chunks, each after `await ngx.flush(true)`,
// counting what it made: while the client reads nothing, the count must stop a few MB past what
// the client got (zlib, the outbox and the socket buffers), not run to 20 MB.
const GEN = `location = /gen { gzip on; gzip_types application/octet-stream; default_type application/octet-stream;
  content_by_js_block {
    const b = new Uint8Array(65536); let x = 7;
    for (let i = 0; i < b.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = x >>> 24; }
    globalThis.made = 0;
    for (let i = 0; i < 320; i++) { ngx.print(b); globalThis.made += b.length; await ngx.flush(true); }
  } }
  location = /made { content_by_js_block { ngx.say(globalThis.made ?? 0) } }`;

for (const engine of ['native', 'node']) {
  describe(`gzip: 20 MB through zlib with the worker's memory bounded (${engine})`, () => {
    const line = (i: number): string => `line ${i} ${crypto.createHash('md5').update(String(i)).digest('hex')}\n`;
    let big = '';
    for (let i = 0; big.length < 20 * 1024 * 1024; i++) big += line(i);
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(trestyConf(port, engine, GEN), { files: { ...files, 'html/g/big.txt': big } });
    });
    afterAll(async () => { await t?.stop(); });

    it('a 20 MB static file: the gunzipped body is the file', async () => {
      const hash = crypto.createHash('sha256');
      let n = 0;
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/g/big.txt', headers: GZ, agent: false }, (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          const gunzip = zlib.createGunzip();
          res.pipe(gunzip);
          gunzip.on('data', (d: Buffer) => { hash.update(d); n += d.length; });
          gunzip.on('end', resolve);
          gunzip.on('error', reject);
        }).on('error', reject);
      });
      expect(n).toBe(big.length);
      expect(hash.digest('hex')).toBe(crypto.createHash('sha256').update(big).digest('hex'));
    });

    it('a handler\'s 20 MB answer waits for a client that does not read (the body is never held whole)', async () => {
      const made = async (): Promise<number> => Number((await fetchRaw(port, '/made')).body.toString().trim());
      let got = 0;
      const gunzip = zlib.createGunzip();
      let plain = 0;
      gunzip.on('data', (d: Buffer) => { plain += d.length; });
      const stalled = await new Promise<{ made: number; got: number }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/gen', headers: GZ, agent: false }, (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          let paused = false;
          res.on('data', (d: Buffer) => {
            got += d.length;
            gunzip.write(d);
            if (paused || got < 1024 * 1024) return;
            paused = true;
            res.pause();
            // Long enough for an unbounded producer to make all 20 MB.
            setTimeout(() => { made().then((m) => { resolve({ made: m, got }); res.resume(); }, reject); }, 1500);
          });
          res.on('end', () => gunzip.end());
        }).on('error', reject);
      });
      expect(stalled.made, `made ${stalled.made} bytes while the client had ${stalled.got}`).toBeLessThan(stalled.got + 12 * 1024 * 1024);
      await new Promise((r) => gunzip.on('end', r));
      expect(plain).toBe(320 * 65536);
    });
  });
}
