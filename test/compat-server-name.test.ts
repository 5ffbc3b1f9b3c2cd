// `server:` of an error-log line about a request, on a port with two server blocks: once the
// request's headers are read, nginx names the server the Host header chose, not the port's
// default. nginx 1.22 + lua-nginx-module, observed:
//   *13 client sent invalid chunked body, client: 127.0.0.1, server: second.test,
//       request: "POST /y HTTP/1.1", host: "second.test"
// Checked on both engines and on nginx itself with the same expectations.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** Sends bytes (`then` 300 ms later); closes after `ms` (or when the server does). */
function rawExchange(port: number, bytes: string, ms = 3000, then?: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(bytes);
      if (then !== undefined) setTimeout(() => s.write(then), 300);
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, ms);
    s.on('close', done);
    s.on('error', done);
  });
}

interface Target { port: number; log: () => string }

/** The same checks on both engines (node:http's parser refusals are logged from its
 *  `clientError`, src/http/server.ts) and on nginx. */
function checks(get: () => Target): void {
  it('a body over client_max_body_size of the second server (413)', async () => {
    const { port, log } = get();
    const r = await rawExchange(port, `POST /big HTTP/1.1\r\nHost: second.test\r\nContent-Length: 40\r\nConnection: close\r\n\r\n${'a'.repeat(40)}`);
    expect(r).toMatch(/^HTTP\/1\.1 413 /);
    const text = await eventually(log, /POST \/big /);
    expect(text).toMatch(/client intended to send too large body: 40 bytes, client: 127\.0\.0\.1, server: second\.test, request: "POST \/big HTTP\/1\.1", host: "second\.test"\n/);
  });

  it('an invalid chunked body sent to the second server', async () => {
    const { port, log } = get();
    const r = await rawExchange(port, 'POST /chunked HTTP/1.1\r\nHost: second.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(r).toMatch(/^HTTP\/1\.1 400 /);
    const text = await eventually(log, /POST \/chunked /);
    expect(text).toMatch(/\[error\] [^\n]*client sent invalid chunked body, client: 127\.0\.0\.1, server: second\.test, request: "POST \/chunked HTTP\/1\.1", host: "second\.test"\n/);
  });

  it('the default server is still named when Host picks it', async () => {
    const { port, log } = get();
    await rawExchange(port, 'POST /chunked1 HTTP/1.1\r\nHost: first.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    const text = await eventually(log, /POST \/chunked1 /);
    expect(text).toMatch(/client sent invalid chunked body, client: 127\.0\.0\.1, server: first\.test, request: "POST \/chunked1 HTTP\/1\.1", host: "first\.test"\n/);
  });

  // nginx chooses the server as soon as it has the Host, so a refusal after it names that one.
  it('a header refused after Host: the server that Host chose; before Host: the default', async () => {
    const { port, log } = get();
    await rawExchange(port, 'GET /bad1 HTTP/1.1\r\nHost: SECOND.test:80\r\nBad Header: x\r\n\r\n');
    await rawExchange(port, 'GET /bad2 HTTP/1.1\r\nBad Header: x\r\nHost: second.test\r\n\r\n');
    const text = await eventually(log, /GET \/bad2 /);
    expect(text).toMatch(/client sent invalid header line: "Bad\\x20\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: second\.test, request: "GET \/bad1 HTTP\/1\.1", host: "SECOND\.test:80"\n/);
    expect(text).toMatch(/client sent invalid header line: "Bad\\x20\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: first\.test, request: "GET \/bad2 HTTP\/1\.1"\n/);
  });

  it('the next request on the connection starts from the default server again', async () => {
    const { port, log } = get();
    // second.test answers the first request; the second one, on the same connection, is first.test's.
    const r = await rawExchange(port, 'GET /ok HTTP/1.1\r\nHost: second.test\r\n\r\n', 3000,
      'POST /chunked2 HTTP/1.1\r\nHost: first.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*second\n[^]*HTTP\/1\.1 400 /);
    const text = await eventually(log, /POST \/chunked2 /);
    expect(text).toMatch(/client sent invalid chunked body, client: 127\.0\.0\.1, server: first\.test, request: "POST \/chunked2 HTTP\/1\.1", host: "first\.test"\n/);
  });
}

function servers(lua: boolean): string {
  const read = lua ? 'ngx.req.read_body() ngx.say("second")' : 'await ngx.req.read_body(); ngx.say("second")';
  const by = lua ? 'lua' : 'js';
  return `server_name first.test;
    location / { content_by_${by}_block { ${read} } }
  }
  server {
    listen 127.0.0.1:__PORT__;
    server_name second.test;
    client_max_body_size 10;
    location / { content_by_${by}_block { ${read} } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'server: of the server Host chose'), () => {
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
    ${servers(false).replace(/__PORT__/g, String(port))}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, log: () => t.errorLog() }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`server: of the server Host chose, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    // startNginx gives the first server its listen line; the second takes the same port.
    n = await startNginx(servers(true));
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, log: () => n.errorLog() }));
});
