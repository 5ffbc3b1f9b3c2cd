// gunzip on both engines and on nginx 1.22 (observed there first): an answer with
// Content-Encoding: gzip (proxied, or gzip_static always) is inflated for a client gzip's rules
// refuse (no Accept-Encoding: gzip, gzip_http_version 1.1 for HTTP/1.0): no Content-Encoding,
// Content-Length, Accept-Ranges, a weak ETag, Vary with gzip_vary; a client that takes gzip gets it
// as it is. A stream cut short: what inflated goes, then the connection closes (no last chunk),
// `inflate() returned -5 on response end`; bytes that do not inflate: nothing at all, not even the
// head, `inflate() failed: 0, -3`. A 4 MB body streams through. conf errors as nginx -t.
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxConfError, nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

const LINE = 'hello gunzip world\n';
const BIG = LINE.repeat(1000);
const HUGE = LINE.repeat(220_000); // ~4 MB inflated
const bigGz = zlib.gzipSync(BIG, { level: 9 });
const FILES: Record<string, string | Buffer> = {
  'html/small.txt': 'not this\n',
  'html/small.txt.gz': zlib.gzipSync('plain one\n'),
  // the gzip files the backend sends, named .txt for one type on nginx (no mime.types) and tresty
  'html/small-gz.txt': zlib.gzipSync('plain one\n'),
  'html/trunc.txt': bigGz.subarray(0, 100),
  'html/corrupt.txt': Buffer.concat([bigGz.subarray(0, 30), Buffer.alloc(3000, 0xa5)]),
  'html/huge.txt': zlib.gzipSync(HUGE),
};

/** The server's locations; `back` is the port of the server that sends the files as gzip. */
function locations(back: number): string {
  return `
    default_type text/plain;
    location /p/ { gunzip on; proxy_pass http://127.0.0.1:${back}/raw/; }
    location /pv/ { gunzip on; gzip_vary on; gunzip_buffers 4 8k; proxy_pass http://127.0.0.1:${back}/raw/; }
    location /pn/ { proxy_pass http://127.0.0.1:${back}/raw/; }
    location /st/ { root html; rewrite ^/st/(.*)$ /$1 break; gunzip on; gzip_static always; }`;
}
const backend = (back: number): string => `
  server { listen 127.0.0.1:${back}; default_type text/plain;
    location /raw/ { root html; rewrite ^/raw/(.*)$ /$1 break; add_header Content-Encoding gzip; } }`;

const AE = 'Accept-Encoding: gzip\r\n';
/** [target, version, method, extra header lines, the answer without Date, Server, Last-Modified; ETag's value as E]. */
const CASES: ReadonlyArray<readonly [string, string, string, string, string]> = [
  ['/p/small-gz.txt', '1.1', 'GET', '', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nETag: W/"E"\r\n\r\na\r\nplain one\n\r\n0\r\n\r\n'],
  ['/pv/small-gz.txt', '1.1', 'GET', '', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nVary: Accept-Encoding\r\nETag: W/"E"\r\n\r\na\r\nplain one\n\r\n0\r\n\r\n'],
  ['/p/small-gz.txt', '1.1', 'HEAD', '', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nETag: W/"E"\r\n\r\n'],
  ['/p/small-gz.txt', '1.0', 'GET', AE, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nETag: W/"E"\r\n\r\nplain one\n'],
  ['/st/small.txt', '1.1', 'GET', '', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nETag: W/"E"\r\n\r\na\r\nplain one\n\r\n0\r\n\r\n'],
  // gunzip off: the gzip answer as it is
  ['/pn/small-gz.txt', '1.1', 'GET', '', `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${(FILES['html/small-gz.txt'] as Buffer).length}\r\nConnection: close\r\nETag: "E"\r\nContent-Encoding: gzip\r\nAccept-Ranges: bytes\r\n\r\n${(FILES['html/small-gz.txt'] as Buffer).toString('latin1')}`],
  ['/p/corrupt.txt', '1.1', 'GET', '', ''],
  // a client that takes gzip gets it as it is (with gzip_vary's Vary)
  ['/p/small-gz.txt', '1.1', 'GET', AE, `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${(FILES['html/small-gz.txt'] as Buffer).length}\r\nConnection: close\r\nETag: "E"\r\nContent-Encoding: gzip\r\nAccept-Ranges: bytes\r\n\r\n${(FILES['html/small-gz.txt'] as Buffer).toString('latin1')}`],
  ['/pv/small-gz.txt', '1.1', 'GET', AE, `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${(FILES['html/small-gz.txt'] as Buffer).length}\r\nConnection: close\r\nVary: Accept-Encoding\r\nETag: "E"\r\nContent-Encoding: gzip\r\nAccept-Ranges: bytes\r\n\r\n${(FILES['html/small-gz.txt'] as Buffer).toString('latin1')}`],
];

function normal(data: string): string {
  return data.replace(/^(Date|Server|Last-Modified): [^\r]*\r\n/gm, '').replace(/^ETag: (W\/)?"[^"]*"/m, 'ETag: $1"E"');
}

function hugeSum(port: number): Promise<{ n: number; sha: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/p/huge.txt', agent: false }, (res) => {
      const h = crypto.createHash('sha1');
      let n = 0;
      res.on('data', (d: Buffer) => { h.update(d); n += d.length; });
      res.on('end', () => resolve({ n, sha: h.digest('hex'), headers: res.headers }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function checks(port: () => number, log: () => string): void {
  for (const [target, v, m, extra, want] of CASES) {
    it(`${m} ${target} HTTP/${v}${extra ? ' (accepts gzip)' : ''}`, async () => {
      const r = await raw(port(), [`${m} ${target} HTTP/${v}\r\nHost: h\r\nConnection: close\r\n${extra}\r\n`]);
      expect(normal(r.data)).toBe(want);
    });
  }
  it('bytes that do not inflate: nginx\'s line', async () => {
    await eventually(log, /\[error\] .*inflate\(\) failed: 0, -3 while sending to client, client: 127\.0\.0\.1, .*request: "GET \/p\/corrupt\.txt HTTP\/1\.1"/);
  });
  it('a stream cut short: what inflated, then the close; nginx\'s line', async () => {
    const r = await raw(port(), ['GET /p/trunc.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n']);
    const [head, body] = normal(r.data).split('\r\n\r\n', 2) as [string, string];
    expect(head).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nETag: W/"E"');
    const rest = normal(r.data).slice(head.length + 4);
    // chunks of what inflated, no last chunk
    expect(rest.endsWith('0\r\n\r\n')).toBe(false);
    const text = rest.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '');
    expect(text.length).toBeGreaterThan(1000);
    expect(BIG.startsWith(text.replace(/\r\n$/, ''))).toBe(true);
    void body;
    await eventually(log, /\[error\] .*inflate\(\) returned -5 on response end while sending to client, client: 127\.0\.0\.1, .*request: "GET \/p\/trunc\.txt HTTP\/1\.1"/);
  });
  it('4 MB inflated streams through whole', async () => {
    const got = await hugeSum(port());
    expect(got.n).toBe(Buffer.byteLength(HUGE));
    expect(got.sha).toBe(crypto.createHash('sha1').update(HUGE).digest('hex'));
    expect(got.headers['content-encoding']).toBeUndefined();
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'gunzip'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      const back = await freePort();
      t = await startTresty(`error_log logs/error.log info;\n${oneServerConf(port, locations(back), { http: backend(back) })}`, { env: e.env, files: FILES as Record<string, string> });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port, () => t.errorLog());
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`gunzip on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    const back = await freePort();
    n = await startNginx(locations(back), backend(back), FILES as Record<string, string>);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port, () => n.errorLog());
});

describe('gunzip: conf errors as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { gunzip maybe; }', /invalid value "maybe" in "gunzip" directive, it must be "on" or "off"/],
    ['location / { gunzip_buffers 0 4k; }', /"gunzip_buffers" directive invalid value/],
    ['location / { gunzip_buffers 4 0; }', /"gunzip_buffers" directive invalid value/],
    ['location / { gunzip_buffers 4; }', /invalid number of arguments in "gunzip_buffers" directive/],
    ['location / { if ($arg_a) { gunzip on; } }', /"gunzip" directive is not allowed here/],
  ];
  const fine = ['location / { gunzip on; gunzip_buffers 32 4k; }', 'gunzip off;'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(re);
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
