// The `*N` of error-log lines, on both engines and on nginx with the same expectations. nginx
// 1.22 + lua-nginx-module, observed: every line about a connection carries its number, one more
// per connection; a handler's ngx.log line and the `client 127.0.0.1 closed keepalive
// connection` line of the same connection carry the same number:
//   [error] 1#1: *3 [lua] content_by_lua(nginx.conf:20):1: mark-a, client: 127.0.0.1, ...
//   [info] 1#1: *3 client 127.0.0.1 closed keepalive connection
//   [info] 1#1: *4 client prematurely closed connection while reading client request line, ...
// node:http wrote its own lines with no `*N`, and request lines with a per-request count.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** Sends `bytes`; closes once `until` was received (or 200 ms after sending); resolves on close. */
function exchange(port: number, bytes: string, until?: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(bytes);
      if (!until) setTimeout(() => s.end(), 200);
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      if (until?.test(got)) s.end();
    });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(); };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

const num = (text: string, re: RegExp): number => {
  const m = new RegExp(`\\d+#\\d+: \\*(\\d+) ${re.source}`).exec(text);
  expect(m, `${re} in ${text}`).not.toBeNull();
  return Number(m![1]);
};

function checks(get: () => { port: number; log: () => string }): void {
  it('a handler\'s line and its connection\'s keep-alive close: one number; the next connection: a higher one', async () => {
    const { port, log } = get();
    await exchange(port, 'GET /mark HTTP/1.1\r\nHost: h\r\n\r\n', /ok\n/);
    await eventually(log, /closed keepalive connection/);
    await exchange(port, 'GET /partial');
    const text = await eventually(log, /request: "GET \/partial"/);
    const a = num(text, /[^\n]*mark-a/);
    expect(num(text, /client 127\.0\.0\.1 closed keepalive connection/)).toBe(a);
    expect(num(text, /client prematurely closed connection while reading client request line/)).toBeGreaterThan(a);
  });

  it('two requests on one connection: the same number', async () => {
    const { port, log } = get();
    await exchange(port, 'GET /mark2 HTTP/1.1\r\nHost: h\r\n\r\nGET /mark3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', /ok\n[^]*ok\n/);
    const text = await eventually(log, /mark-c/);
    expect(num(text, /[^\n]*mark-c/)).toBe(num(text, /[^\n]*mark-b/));
  });
}

function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const sep = lua ? ' ' : '; ';
  return ['a', 'b', 'c'].map((k, i) => `location = /mark${i === 0 ? '' : i + 1} { content_by_${by}_block { ngx.log(ngx.ERR, "mark-${k}")${sep}ngx.say("ok") } }`).join('\n    ');
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the connection number of error-log lines'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, log: () => t.errorLog() }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the connection number of error-log lines, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations(true)); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, log: () => n.errorLog() }));
});
