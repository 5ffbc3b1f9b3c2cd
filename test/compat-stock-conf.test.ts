// What a stock nginx.conf (Debian's: gzip on, sites-enabled/default's try_files) with charset,
// expires, etag off, if_modified_since off and security headers answers: the native engine now
// answers these locations itself (engine-plan.test.ts) and hands a request to JS only where gzip
// would compress. The same cases run on the native engine, on node:http and on real nginx 1.22.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { expectHeaders, fetchRaw, type Raw } from './helpers/fetch-raw.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const TEXT = 'a text long enough for gzip_min_length\n';
const files: Record<string, string> = {
  'html/index.html': '<p>the home page, long enough to compress</p>\n',
  'html/a.txt': TEXT,
  'html/tiny.txt': 'tiny\n',
  'html/d.json': `{"a": "${'x'.repeat(40)}"}`,
  'html/sub/index.html': '<p>sub</p>\n',
  'html/noindex/x.bin': 'x',
  'html/static/s.css': `body { color: red; } ${'/* pad */ '.repeat(5)}\n`,
  'html/app/index.html': '<p>the app</p>\n',
  'html/noetag/n.txt': TEXT,
  'html/imsoff/i.txt': TEXT,
};

const server = `charset utf-8; index index.html;
    gzip on; gzip_vary on; gzip_types text/plain text/css; gzip_min_length 20;
    add_header X-Frame-Options SAMEORIGIN;
    location / { try_files $uri $uri/ =404; }
    location /static/ { expires 1h; }
    location /epoch/ { expires epoch; }
    location /app/ { try_files $uri /app/index.html; }
    location /noetag/ { etag off; }
    location /imsoff/ { if_modified_since off; }
    location = /ret { return 200 "${TEXT.trim()}"; }
    location = /short { return 200 "short"; }
    location = /moved { return 302 /elsewhere; }
    location = /moved307 { return 307 /elsewhere; }`;

const GZ = { 'Accept-Encoding': 'gzip' };
const HTML = 'text/html; charset=utf-8';
const PLAIN = 'text/plain; charset=utf-8';

interface Case {
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string> | ((dir: string) => Record<string, string>);
  status?: number;
  gzip?: boolean;
  body?: string | RegExp;
  resHeaders?: Record<string, string | RegExp | undefined>;
}

const cases: Case[] = [
  { name: 'a file of gzip_types without Accept-Encoding: plain, charset, Vary, add_header', path: '/a.txt', body: TEXT,
    resHeaders: { 'Content-Type': PLAIN, Vary: 'Accept-Encoding', 'X-Frame-Options': 'SAMEORIGIN', 'Content-Length': String(TEXT.length), ETag: /^"/, 'Accept-Ranges': 'bytes' } },
  { name: 'the same with Accept-Encoding: gzip: compressed', path: '/a.txt', headers: GZ, gzip: true, body: TEXT, resHeaders: { 'Content-Type': PLAIN, Vary: 'Accept-Encoding', ETag: /^W\/"/ } },
  { name: 'gzip;q=0: plain, with Vary', path: '/a.txt', headers: { 'Accept-Encoding': 'gzip;q=0' }, body: TEXT, resHeaders: { Vary: 'Accept-Encoding' } },
  { name: 'through a proxy (Via) with gzip_proxied off: plain', path: '/a.txt', headers: { ...GZ, Via: '1.1 proxy' }, body: TEXT, resHeaders: { Vary: 'Accept-Encoding' } },
  { name: 'shorter than gzip_min_length: plain, no Vary', path: '/tiny.txt', headers: GZ, body: 'tiny\n', resHeaders: { Vary: undefined, 'Content-Type': PLAIN } },
  { name: 'a type in neither gzip_types nor charset_types: as it is', path: '/d.json', headers: GZ, resHeaders: { Vary: undefined, 'Content-Type': 'application/json' } },
  { name: '/ through try_files $uri/ and index', path: '/', body: files['html/index.html'], resHeaders: { 'Content-Type': HTML, Vary: 'Accept-Encoding', 'X-Frame-Options': 'SAMEORIGIN' } },
  { name: '/ with Accept-Encoding: gzip: compressed', path: '/', headers: GZ, gzip: true, body: files['html/index.html'] },
  { name: 'a directory without its slash: try_files $uri/, then 301', path: '/sub', status: 301, resHeaders: { Location: /\/sub\/$/, 'Content-Type': 'text/html', 'X-Frame-Options': 'SAMEORIGIN' } },
  { name: 'a directory: its index', path: '/sub/', body: '<p>sub</p>\n', resHeaders: { 'Content-Type': HTML } },
  { name: 'a directory without an index: 403', path: '/noindex/', status: 403, body: /403 Forbidden/, resHeaders: { 'Content-Type': HTML, 'X-Frame-Options': undefined } },
  { name: 'no such file: try_files =404, the page with charset and Vary', path: '/missing.txt', status: 404, body: /404 Not Found/,
    resHeaders: { 'Content-Type': HTML, Vary: 'Accept-Encoding', 'X-Frame-Options': undefined } },
  { name: 'the 404 page with Accept-Encoding: gzip: compressed', path: '/missing.txt', headers: GZ, status: 404, gzip: true, body: /404 Not Found/ },
  { name: 'HEAD of a missing file', path: '/missing.txt', method: 'HEAD', status: 404, body: '', resHeaders: { 'Content-Type': HTML } },
  { name: 'expires 1h: Expires and Cache-Control (text/css gets no charset)', path: '/static/s.css',
    body: files['html/static/s.css'], resHeaders: { 'Content-Type': 'text/css', 'Cache-Control': 'max-age=3600', Expires: /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/, 'X-Frame-Options': 'SAMEORIGIN' } },
  { name: 'expires leaves a 404 alone', path: '/static/none.css', status: 404, resHeaders: { 'Cache-Control': undefined, Expires: undefined } },
  { name: 'try_files with a URI fallback: an internal redirect', path: '/app/deep/link', body: '<p>the app</p>\n', resHeaders: { 'Content-Type': HTML } },
  { name: 'etag off: Last-Modified, no ETag', path: '/noetag/n.txt', body: TEXT, resHeaders: { ETag: undefined, 'Last-Modified': /GMT$/ } },
  { name: 'etag off: an If-None-Match is no match', path: '/noetag/n.txt', headers: { 'If-None-Match': '"x"' }, status: 200, body: TEXT },
  { name: 'if_modified_since off: the file again', path: '/imsoff/i.txt', headers: (dir) => ({ 'If-Modified-Since': new Date(Math.floor(fs.statSync(path.join(dir, 'html/imsoff/i.txt')).mtimeMs / 1000) * 1000).toUTCString() }),
    status: 200, body: TEXT },
  { name: 'return with a text: charset on the default type, Vary', path: '/ret', body: TEXT.trim(), resHeaders: { 'Content-Type': PLAIN, Vary: 'Accept-Encoding' } },
  { name: 'return with a text and Accept-Encoding: gzip: compressed', path: '/ret', headers: GZ, gzip: true, body: TEXT.trim() },
  { name: 'return with a short text: plain', path: '/short', headers: GZ, body: 'short', resHeaders: { Vary: undefined } },
  // nginx's charset leaves a 301's and a 302's type alone, not a 303's, 307's or 308's.
  { name: 'a 302: no charset', path: '/moved', status: 302, resHeaders: { Location: /\/elsewhere$/, 'Content-Type': 'text/html', 'X-Frame-Options': 'SAMEORIGIN' } },
  { name: 'a 307: charset', path: '/moved307', status: 307, resHeaders: { Location: /\/elsewhere$/, 'Content-Type': HTML } },
];

async function check(port: number, dir: string, c: Case): Promise<void> {
  const headers = typeof c.headers === 'function' ? c.headers(dir) : c.headers;
  const res = await fetchRaw(port, c.path, headers, c.method);
  expect(res.status, `${c.path} status`).toBe(c.status ?? 200);
  expect(res.headers['content-encoding'], `${c.path} Content-Encoding`).toBe(c.gzip ? 'gzip' : undefined);
  const body = c.gzip ? zlib.gunzipSync(res.body).toString() : res.body.toString();
  if (typeof c.body === 'string') expect(body, `${c.path} body`).toBe(c.body);
  else if (c.body) expect(body, `${c.path} body`).toMatch(c.body);
  expectHeaders(res, c.resHeaders ?? {}, c.path);
}

/** Compressed and plain answers in turn on one kept connection (the chunks' framing holds). */
async function keptConnection(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const get = (p: string, headers: Record<string, string>): Promise<Raw> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers, agent }, (res) => {
      sockets.add(res.socket);
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
  try {
    for (const [p, gz] of [['/', true], ['/a.txt', true], ['/a.txt', false], ['/missing.txt', true], ['/ret', true]] as const) {
      const r = await get(p, gz ? GZ : {});
      expect(r.headers['content-encoding'], p).toBe(gz ? 'gzip' : undefined);
      const body = (gz ? zlib.gunzipSync(r.body) : r.body).toString();
      if (p === '/missing.txt') expect(body, p).toMatch(/404 Not Found/);
      else expect(body, p).toBe(p === '/' ? files['html/index.html'] : p === '/ret' ? TEXT.trim() : TEXT);
    }
    expect(sockets.size).toBe(1);
  } finally {
    agent.destroy();
  }
}

/** gzip_http_version 1.1 (the default): an HTTP/1.0 request gets the file plain. */
async function http10(port: number): Promise<void> {
  const r = await raw(port, ['GET /a.txt HTTP/1.0\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n']);
  expect(r.data).toMatch(/^HTTP\/1\.1 200 /);
  expect(r.data).not.toMatch(/Content-Encoding/i);
  expect(r.data.endsWith(TEXT)).toBe(true);
}

const TYPES = 'types { text/plain txt; text/css css; application/json json; text/html html; }';

for (const engine of ['native', 'node']) {
  describe(`a stock conf's filters (${engine})`, () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1; error_log logs/error.log info; events {}
http { http_engine ${engine}; ${TYPES} default_type text/plain;
  server { listen 127.0.0.1:${port}; server_name localhost; root html; ${server} } }`, { files });
    });
    afterAll(async () => { await t?.stop(); });
    for (const c of cases) it(c.name, () => check(port, t.prefix, c));
    it('compressed and plain answers on one kept connection', () => keptConnection(port));
    it('HTTP/1.0 with Accept-Encoding: gzip: plain (gzip_http_version 1.1)', () => http10(port));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a stock conf's filters: the same cases on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`server_name localhost; root __PREFIX__/html; default_type text/plain; ${server}`, TYPES, files);
  });
  afterAll(async () => { await n?.stop(); });
  for (const c of cases) it(c.name, () => check(n.port, n.prefix, c));
  it('compressed and plain answers on one kept connection', () => keptConnection(n.port));
  it('HTTP/1.0 with Accept-Encoding: gzip: plain (gzip_http_version 1.1)', () => http10(n.port));
});
