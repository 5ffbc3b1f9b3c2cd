// proxy_set_body: the upstream gets the value (variables expanded) as the body with its
// Content-Length (0 for an empty one, and with proxy_pass_request_body off too), whatever the
// client sent; the client's own body is read and dropped, so a kept-alive connection goes on.
// The same conf on tresty (both engines) and nginx 1.22; the upstream is a node:http echo.
// Before, tresty refused proxy_set_body as an unknown directive.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

let upstream: http.Server;
let up = 0;

const locations = (): string => `
    location /sb/ { proxy_pass http://127.0.0.1:${up}/; proxy_set_body "a=$arg_a&b=2"; }
    location /e/ { proxy_pass http://127.0.0.1:${up}/; proxy_set_body ""; }
    location /np/ { proxy_pass http://127.0.0.1:${up}/; proxy_pass_request_body off; proxy_set_body "v"; }`;

function suite(port: () => number): void {
  it('the value is the body, with its length, for GET and POST, chunked or not', async () => {
    expect((await httpGet(port(), '/sb/x?a=1')).body).toBe('GET cl=7 te=- body=a=1&b=2\n');
    expect((await httpGet(port(), '/sb/x?a=1', { method: 'POST', body: 'client=body' })).body).toBe('POST cl=7 te=- body=a=1&b=2\n');
    const chunked = await raw(port(), ['POST /sb/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nb\r\nclient=body\r\n0\r\n\r\n']);
    expect(chunked.data).toMatch(/\r\n\r\n(?:[0-9a-f]+\r\n)?POST cl=6 te=- body=a=&b=2\n/);
    expect((await httpGet(port(), '/e/x', { method: 'POST', body: 'client=body' })).body).toBe('POST cl=0 te=- body=-\n');
    expect((await httpGet(port(), '/e/x')).body).toBe('GET cl=0 te=- body=-\n');
    expect((await httpGet(port(), '/np/x', { method: 'POST', body: 'cb' })).body).toBe('POST cl=1 te=- body=v\n');
  });

  it('the client\'s body is dropped: the next request on the connection is served', async () => {
    const r = await raw(port(), ['POST /sb/x?a=9 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nclient=body', 'GET /sb/y?a=8 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
    expect(r.data.match(/HTTP\/1\.1 200/g)?.length).toBe(2);
    expect(r.data).toContain('POST cl=7 te=- body=a=9&b=2\n');
    expect(r.data).toContain('GET cl=7 te=- body=a=8&b=2\n');
  });
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      res.end(`${req.method} cl=${req.headers['content-length'] ?? '-'} te=${req.headers['transfer-encoding'] ?? '-'} body=${body === '' ? '-' : body}\n`);
    });
  });
  await new Promise<void>((res) => upstream.listen(0, '127.0.0.1', res));
  up = (upstream.address() as AddressInfo).port;
});
afterAll(async () => { await new Promise((res) => upstream.close(res)); });

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'proxy_set_body'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  server {\n    listen 127.0.0.1:${port};\n${locations()}\n  }\n}\n`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    suite(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the same on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations()); });
  afterAll(async () => { await n?.stop(); });
  suite(() => n.port);
});
