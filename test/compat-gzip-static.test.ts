// gzip_static as nginx 1.22's on locations the native engine serves (root, no alias): FILE.gz in
// FILE's place with its own length, time and ETag and FILE's type; `on` by gzip's client rules,
// `always` for any client; Vary with gzip_vary whenever FILE.gz is there (once, with the gzip
// filter's too); HEAD, a 304 on the .gz's ETag, HTTP/1.0 and Via. The same cases run on the
// native engine, on node:http and on real nginx.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { expectHeaders, fetchRaw } from './helpers/fetch-raw.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const PLAIN = 'the plain version of the file\n';
const GZ_TEXT = 'the precompressed version\n';
const GZ_FILE = zlib.gzipSync(Buffer.from(GZ_TEXT));
const files: Record<string, string> = {
  'html/s/p.txt': PLAIN, 'html/s/only.txt': PLAIN, 'html/s/d.txt': PLAIN,
  'html/a/p.txt': PLAIN, 'html/f/p.txt': PLAIN, 'html/f/only.txt': PLAIN,
  'html/s/d.txt.gz/keep': 'a directory named like a .gz\n',
};
/** The .gz files (binary) written after the server's prefix is made. */
function writeGz(prefix: string): void {
  for (const d of ['s', 'a', 'f']) fs.writeFileSync(path.join(prefix, `html/${d}/p.txt.gz`), GZ_FILE);
}

const server = `root html; default_type text/plain; gzip_vary on;
    location /s/ { gzip_static on; }
    location /a/ { gzip_static always; }
    location /f/ { gzip_static on; gzip on; gzip_types text/plain; gzip_min_length 1; }`;
const TYPES = 'types { text/plain txt; }';
const GZ = { 'Accept-Encoding': 'gzip' };

function cases(port: () => number, prefix: () => string): void {
  const etagOf = (rel: string): string => {
    const st = fs.statSync(path.join(prefix(), rel));
    return `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
  };
  const gzHeaders = (): Record<string, string | RegExp | undefined> => ({
    'Content-Encoding': 'gzip', 'Content-Length': String(GZ_FILE.length), 'Content-Type': 'text/plain', 'Accept-Ranges': undefined,
    ETag: etagOf('html/s/p.txt.gz'), 'Last-Modified': /GMT$/,
  });

  it('on, the client takes gzip: FILE.gz with its length, its ETag, FILE\'s type, Vary', async () => {
    const res = await fetchRaw(port(), '/s/p.txt', GZ);
    expect(res.status).toBe(200);
    expectHeaders(res, { ...gzHeaders(), Vary: 'Accept-Encoding' }, '/s/p.txt');
    expect(zlib.gunzipSync(res.body).toString()).toBe(GZ_TEXT);
  });
  it('on, without Accept-Encoding: FILE, with Vary and ranges', async () => {
    const res = await fetchRaw(port(), '/s/p.txt');
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: 'Accept-Encoding', 'Content-Length': String(PLAIN.length), 'Accept-Ranges': 'bytes' }, '/s/p.txt');
    expect(res.body.toString()).toBe(PLAIN);
  });
  it('on, no FILE.gz: FILE, no Vary', async () => {
    const res = await fetchRaw(port(), '/s/only.txt', GZ);
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: undefined }, '/s/only.txt');
    expect(res.body.toString()).toBe(PLAIN);
  });
  it('on, FILE.gz is a directory: FILE, but Vary (nginx says it once FILE.gz opens)', async () => {
    const res = await fetchRaw(port(), '/s/d.txt', GZ);
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: 'Accept-Encoding' }, '/s/d.txt');
    expect(res.body.toString()).toBe(PLAIN);
  });
  it('HEAD: FILE.gz\'s head, its length, no body', async () => {
    const res = await fetchRaw(port(), '/s/p.txt', GZ, 'HEAD');
    expectHeaders(res, gzHeaders(), 'HEAD /s/p.txt');
    expect(res.body.length).toBe(0);
  });
  it('If-None-Match with FILE.gz\'s ETag: 304, with Vary and no Content-Encoding (as nginx 1.22)', async () => {
    const res = await fetchRaw(port(), '/s/p.txt', { ...GZ, 'If-None-Match': etagOf('html/s/p.txt.gz') });
    expect(res.status).toBe(304);
    expectHeaders(res, { Vary: 'Accept-Encoding', ETag: etagOf('html/s/p.txt.gz'), 'Content-Length': undefined, 'Content-Encoding': undefined }, '304 /s/p.txt');
  });
  it('through a proxy (Via, gzip_proxied off): FILE, with Vary', async () => {
    const res = await fetchRaw(port(), '/s/p.txt', { ...GZ, Via: '1.1 proxy' });
    expectHeaders(res, { 'Content-Encoding': undefined, Vary: 'Accept-Encoding' }, 'Via /s/p.txt');
    expect(res.body.toString()).toBe(PLAIN);
  });
  it('HTTP/1.0 (gzip_http_version 1.1): FILE', async () => {
    const r = await raw(port(), ['GET /s/p.txt HTTP/1.0\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n']);
    expect(r.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.data).not.toMatch(/Content-Encoding/i);
    expect(r.data.endsWith(PLAIN)).toBe(true);
  });
  it('always: FILE.gz for a client that did not ask, no Vary', async () => {
    const res = await fetchRaw(port(), '/a/p.txt');
    expectHeaders(res, { 'Content-Encoding': 'gzip', 'Content-Length': String(GZ_FILE.length), Vary: undefined }, '/a/p.txt');
    expect(zlib.gunzipSync(res.body).toString()).toBe(GZ_TEXT);
  });
  it('always over HTTP/1.0: FILE.gz', async () => {
    const r = await raw(port(), ['GET /a/p.txt HTTP/1.0\r\nHost: localhost\r\n\r\n']);
    expect(r.data).toMatch(/\r\nContent-Encoding: gzip\r\n/i);
  });
  it('with gzip on too: FILE.gz as it is, one Vary line', async () => {
    const r = await raw(port(), ['GET /f/p.txt HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n']);
    expect(r.data.match(/\r\nVary: /gi)?.length).toBe(1);
    expect(r.data).toMatch(new RegExp(`\r\nContent-Length: ${GZ_FILE.length}\r\n`, 'i'));
  });
  it('with gzip on too, no Accept-Encoding: FILE plain, one Vary line', async () => {
    const r = await raw(port(), ['GET /f/p.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
    expect(r.data.match(/\r\nVary: /gi)?.length).toBe(1);
    expect(r.data.endsWith(PLAIN)).toBe(true);
  });
  it('with gzip on too, no FILE.gz: the filter compresses FILE', async () => {
    const res = await fetchRaw(port(), '/f/only.txt', GZ);
    expectHeaders(res, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': undefined }, '/f/only.txt');
    expect(zlib.gunzipSync(res.body).toString()).toBe(PLAIN);
  });
}

for (const engine of ['native', 'node']) {
  describe(`gzip_static (${engine})`, () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1; error_log logs/error.log info; events {}
http { http_engine ${engine}; ${TYPES} server { listen 127.0.0.1:${port}; server_name localhost; ${server} } }`, { files });
      writeGz(t.prefix);
    });
    afterAll(async () => { await t?.stop(); });
    cases(() => port, () => t.prefix);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`gzip_static: the same cases on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`server_name localhost; ${server.replace('root html;', 'root __PREFIX__/html;')}`, TYPES, files);
    writeGz(n.prefix);
  });
  afterAll(async () => { await n?.stop(); });
  cases(() => n.port, () => n.prefix);
});
