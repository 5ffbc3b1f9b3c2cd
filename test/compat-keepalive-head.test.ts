// The head of an answer on a kept connection, on both engines and on nginx with the same
// expectations. nginx 1.22 + lua-nginx-module, observed (keepalive_timeout 75s, Date and Server
// left out):
//   return 200 "x";   HTTP/1.1 200 OK, Content-Type: text/plain, Content-Length: 1, Connection: keep-alive
//   ngx.say("x")      HTTP/1.1 200 OK, Content-Type: text/plain, Transfer-Encoding: chunked, Connection: keep-alive
// and no `Keep-Alive: timeout=N` header (node:http added one). The connection still closes once
// idle for keepalive_timeout.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/**
 * Sends one request on a kept connection: the head (no Date, Server) and when the server closed.
 * `headOnly`: done once the head is in (closedAfterMs -1), not waiting out keepalive_timeout.
 */
function kept(port: number, p: string, headOnly = false): Promise<{ head: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    let got = '';
    let t0 = 0;
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`));
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      if (got === '') t0 = Date.now();
      got += d;
      if (headOnly && got.includes('\r\n\r\n')) { t0 = 0; done(); }
    });
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      const end = got.indexOf('\r\n\r\n');
      const head = (end < 0 ? got : got.slice(0, end + 2)).replace(/^(?:Date|Server): [^\r]*\r\n/gm, '');
      resolve({ head, closedAfterMs: t0 === 0 ? -1 : Date.now() - t0 });
    };
    const t = setTimeout(done, 15_000);
    s.on('close', done);
    s.on('error', done);
  });
}

function checks(get: () => number): void {
  it('return: a length and Connection: keep-alive, no Keep-Alive header', async () => {
    const { head } = await kept(get(), '/r', true);
    expect(head).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: keep-alive\r\n');
  });

  it('a handler\'s output: chunked and Connection: keep-alive, no Keep-Alive header; closed once idle for keepalive_timeout', async () => {
    const { head, closedAfterMs } = await kept(get(), '/say');
    expect(head).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n');
    // keepalive_timeout 2s: not before it (a timer does not fire early), well before the 15 s guard.
    expect(closedAfterMs).toBeGreaterThanOrEqual(1500);
    expect(closedAfterMs).toBeLessThan(12_000);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the head of a kept connection\'s answer'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  access_log off;
  keepalive_timeout 2s;
  server {
    listen 127.0.0.1:${port};
    location = /r { return 200 "x"; }
    location = /say { content_by_js_block { ngx.say("x"); } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the head of a kept connection's answer, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`keepalive_timeout 2s;
    location = /r { return 200 "x"; }
    location = /say { content_by_lua_block { ngx.say("x") } }`);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
