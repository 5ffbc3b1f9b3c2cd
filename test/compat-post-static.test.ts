// A request body the answer does not read (a POST to a static file: 405; to a missing one: 404;
// to `return`), as nginx 1.22 answers it: the body is discarded and the connection kept for the
// next request, pipelined or sent after the body came late; a length over client_max_body_size is
// 413 and the connection closes. The native engine answers these itself (they went to JS before,
// at several times the CPU per request); the same expectations run on node:http and on nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const FILES = { 'html/p/a.txt': 'hello\n' };
const locations = (root: string): string => `root ${root};
    location /p/ { }
    location = /r { return 200 "hello r\\n"; }
    location /small/ { client_max_body_size 1k; alias ${root}/p/; }`;

const BODY = 'a'.repeat(100);
const post = (path: string, len = BODY.length): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${len}\r\n\r\n`;
const GET = 'GET /p/a.txt HTTP/1.1\r\nHost: x\r\n\r\n';

function checks(port: () => number): void {
  it('a POST with a body to a file: 405, the body dropped, the pipelined GET answered on the same connection', async () => {
    const r = await raw(port(), [post('/p/a.txt') + BODY + GET], { timeoutMs: 600 });
    expect(statuses(r.data)).toEqual([405, 200]);
    expect(r.data).toMatch(/405 Not Allowed[^]*Connection: keep-alive[^]*\r\n\r\nhello\n$/);
    expect(r.closed).toBe(false);
  });
  it('the body comes after the 405 went out: dropped as it comes, the next request answered', async () => {
    const r = await raw(port(), [post('/p/a.txt'), BODY, GET], { timeoutMs: 900, gapMs: 200 });
    expect(statuses(r.data)).toEqual([405, 200]);
    expect(r.data).toMatch(/hello\n$/);
    expect(r.closed).toBe(false);
  });
  it('a missing file and `return` drop the body too', async () => {
    const r = await raw(port(), [post('/p/none.txt') + BODY + post('/r') + BODY + GET], { timeoutMs: 600 });
    expect(statuses(r.data)).toEqual([404, 200, 200]);
    expect(r.data).toMatch(/hello r\n[^]*hello\n$/);
    expect(r.closed).toBe(false);
  });
  it('a length over client_max_body_size: 413 and the connection closes', async () => {
    const r = await raw(port(), [post('/small/a.txt', 2000) + 'a'.repeat(2000) + GET], { timeoutMs: 3000 });
    expect(statuses(r.data)).toEqual([413]);
    expect(r.data).toMatch(/Connection: close/);
    expect(r.closed).toBe(true);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'unread request bodies'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    ${locations('html')}
  }
}
`, { env: e.env, files: FILES });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`unread request bodies, on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations('__PREFIX__/html'), '', FILES); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
