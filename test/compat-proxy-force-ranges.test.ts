// proxy_force_ranges on both engines and on nginx 1.22, with the same expectations (observed there
// first): a proxied 200 with a length gets nginx's range filter (the upstream ignores Range):
// `Accept-Ranges: bytes` in place of the upstream's, one range as a 206 with Content-Range, If-Range
// against the answer's ETag, several ranges or a failed If-Range the whole answer, a range past the
// end nginx's 416 page with `Content-Range: bytes */N`; a 404, an answer without a length pass as they are;
// without it, the upstream's answer is the client's whatever the Range. conf errors as nginx -t.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxConfError, nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

const BODY = 'abcdefghijklmnopqrstuvwxyz';
const BIG = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
let backend: http.Server;
let back = 0;
beforeAll(async () => {
  backend = http.createServer((req, res) => {
    const h: Record<string, string | number> = { 'Content-Type': 'text/plain', 'X-Saw-Range': String(req.headers.range ?? '-'), ETag: '"v1"', 'Last-Modified': 'Thu, 01 Jan 2026 00:00:00 GMT' };
    if (req.url!.startsWith('/ar')) h['Accept-Ranges'] = 'bytes';
    if (req.url!.startsWith('/big')) { res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG.length }); res.end(BIG); return; }
    if (req.url!.startsWith('/chunked')) { res.writeHead(200, h); res.write(BODY); res.end(); return; }
    res.writeHead(req.url!.startsWith('/404') ? 404 : 200, { ...h, 'Content-Length': BODY.length });
    res.end(BODY);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  back = (backend.address() as AddressInfo).port;
});
afterAll(async () => { await new Promise((r) => backend.close(r)); });

const locations = (): string => `
    location /f/ { proxy_force_ranges on; proxy_pass http://127.0.0.1:${back}/; }
    location /n/ { proxy_pass http://127.0.0.1:${back}/; }`;

const V = 'ETag: "v1"\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n';
const ok = (saw: string, more = ''): string => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 26\r\nConnection: close\r\nX-Saw-Range: ${saw}\r\n${V}${more}\r\n${BODY}`;
const part = (saw: string, s: number, e: number): string => `HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nContent-Length: ${e - s + 1}\r\nConnection: close\r\nX-Saw-Range: ${saw}\r\n${V}Content-Range: bytes ${s}-${e}/26\r\n\r\n${BODY.slice(s, e + 1)}`;

/** [path, extra request lines, method, the answer without Date and Server ('SW' for the page's software line)]. */
const CASES: ReadonlyArray<readonly [string, string, string, string]> = [
  ['/n/x', 'Range: bytes=0-4\r\n', 'GET', ok('bytes=0-4')],
  ['/n/ar', 'Range: bytes=0-4\r\n', 'GET', ok('bytes=0-4', 'Accept-Ranges: bytes\r\n')],
  ['/f/x', '', 'GET', ok('-', 'Accept-Ranges: bytes\r\n')],
  ['/f/ar', '', 'GET', ok('-', 'Accept-Ranges: bytes\r\n')],
  ['/f/x', 'Range: bytes=0-4\r\n', 'GET', part('bytes=0-4', 0, 4)],
  ['/f/ar', 'Range: bytes=2-4\r\n', 'GET', part('bytes=2-4', 2, 4)],
  ['/f/x', 'Range: bytes=-3\r\n', 'GET', part('bytes=-3', 23, 25)],
  ['/f/x', 'Range: bytes=0-1,3-4\r\n', 'GET', ok('bytes=0-1,3-4', 'Accept-Ranges: bytes\r\n')],
  ['/f/x', 'Range: bytes=0-4\r\nIf-Range: "v2"\r\n', 'GET', ok('bytes=0-4', 'Accept-Ranges: bytes\r\n')],
  ['/f/x', 'Range: bytes=0-4\r\nIf-Range: "v1"\r\n', 'GET', part('bytes=0-4', 0, 4)],
  ['/f/x', 'Range: bytes=0-4\r\n', 'HEAD', part('bytes=0-4', 0, 4).slice(0, -5)],
  ['/f/404', 'Range: bytes=0-4\r\n', 'GET', `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 26\r\nConnection: close\r\nX-Saw-Range: bytes=0-4\r\n${V}\r\n${BODY}`],
  ['/f/x', 'Range: bytes=50-60\r\n', 'GET', 'HTTP/1.1 416 Requested Range Not Satisfiable\r\nContent-Type: text/html\r\nContent-Length: LEN\r\nConnection: close\r\nX-Saw-Range: bytes=50-60\r\nContent-Range: bytes */26\r\n\r\n<html>\r\n<head><title>416 Requested Range Not Satisfiable</title></head>\r\n<body>\r\n<center><h1>416 Requested Range Not Satisfiable</h1></center>\r\n<hr><center>SW</center>\r\n</body>\r\n</html>\r\n'],
];

function checks(port: () => number, sw: string): void {
  // (nginx frames this close-delimited answer chunked; tresty, which has it whole at once, with its
  // length: a difference of the proxy's framing, not of the range filter)
  it('a range inside a 300 KB answer read in several reads: its bytes', async () => {
    const got = await new Promise<{ status: number; range: string | undefined; body: Buffer }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: port(), path: '/f/big', agent: false, headers: { Range: 'bytes=100000-250000' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, range: res.headers['content-range'], body: Buffer.concat(parts) }));
      }).on('error', reject);
    });
    expect(got.status).toBe(206);
    expect(got.range).toBe('bytes 100000-250000/300000');
    expect(got.body.equals(BIG.subarray(100000, 250001))).toBe(true);
  });
  it('an answer without a length: whole, no ranges announced', async () => {
    const r = await raw(port(), ['GET /f/chunked HTTP/1.1\r\nHost: h\r\nConnection: close\r\nRange: bytes=0-4\r\n\r\n']);
    expect(r.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.data).not.toMatch(/Accept-Ranges|Content-Range/);
    expect(r.data).toContain(BODY);
  });
  for (const [p, extra, m, want] of CASES) {
    it(`${m} ${p} ${extra.replace(/\r\n/g, ' ').trim()}`, async () => {
      const r = await raw(port(), [`${m} ${p} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n${extra}\r\n`]);
      const w = want.replace('SW', sw);
      const got = r.data.replace(/^(Date|Server): [^\r]*\r\n/gm, '');
      if (want.includes('LEN')) {
        expect(got.replace(/Content-Length: \d+/, 'Content-Length: LEN')).toBe(w);
        const body = got.slice(got.indexOf('\r\n\r\n') + 4);
        expect(got).toContain(`Content-Length: ${body.length}\r\n`);
      } else {
        expect(got).toBe(w);
      }
    });
  }
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'proxy_force_ranges'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(oneServerConf(port, `server_tokens off;${locations()}`), { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port, 'tresty');
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`proxy_force_ranges on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`server_tokens off;${locations()}`); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port, 'nginx');
});

describe('proxy_force_ranges: conf errors as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { proxy_force_ranges maybe; }', /invalid value "maybe" in "proxy_force_ranges" directive, it must be "on" or "off"/],
    ['location / { proxy_force_ranges; }', /invalid number of arguments in "proxy_force_ranges" directive/],
  ];
  const fine = ['location / { proxy_force_ranges on; }', 'proxy_force_ranges off;'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(re);
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
