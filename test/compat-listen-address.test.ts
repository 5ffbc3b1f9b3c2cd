// A port listened on both by address and by wildcard (`listen P` in one server, `listen
// 127.0.0.1:P` in others): nginx binds the wildcard only and names, before the Host is read, the
// default server of the address the connection came in on. nginx 1.22 + lua-nginx-module,
// observed (star.test listens on P, one.test and two.test on 127.0.0.1:P):
//   to 127.0.0.1: client sent invalid method while reading client request line, client: 127.0.0.1,
//       server: one.test, request: "GARBAGE"
//   to 127.0.0.2: ... server: star.test, request: "GARBAGE2"
//   a bad header after `Host: two.test`: server: two.test; before it: one.test
//   no request begun: server: 0.0.0.0:P (the listen socket's address, for either address)
// tresty's native engine named the wildcard's default server (star.test) for every address;
// node:http's HTTP/0.9 refusal too. Checked on both engines and on nginx with the same
// expectations (127.0.0.2 is the loopback interface's on Linux).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** Sends bytes to host:port; resolves when the server closes (or after `ms`). */
function send(host: string, port: number, bytes: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, host, () => { if (bytes) s.write(bytes); });
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, ms);
    s.on('close', done);
    s.on('error', done);
  });
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface Target { port: number; log: () => string }

function checks(get: () => Target): void {
  it('a bad request line: the default server of the address it came in on', async () => {
    const { port, log } = get();
    await send('127.0.0.1', port, 'GARBAGE\r\n\r\n');
    await send('127.0.0.2', port, 'GARBAGE2\r\n\r\n');
    const text = await eventually(log, /request: "GARBAGE2"/);
    expect(text).toMatch(/client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: one\.test, request: "GARBAGE"\n/);
    expect(text).toMatch(/client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: star\.test, request: "GARBAGE2"\n/);
  });

  it('an HTTP/0.9 POST: the same', async () => {
    const { port, log } = get();
    await send('127.0.0.1', port, 'POST /x\r\n');
    await send('127.0.0.2', port, 'POST /y\r\n');
    const text = await eventually(log, /request: "POST \/y"/);
    expect(text).toMatch(/in HTTP\/0\.9 request while reading client request line, client: 127\.0\.0\.1, server: one\.test, request: "POST \/x"\n/);
    expect(text).toMatch(/in HTTP\/0\.9 request while reading client request line, client: 127\.0\.0\.1, server: star\.test, request: "POST \/y"\n/);
  });

  it('a bad header: before the Host the address\'s default, after it the server the Host chose', async () => {
    const { port, log } = get();
    await send('127.0.0.1', port, 'GET /b1 HTTP/1.1\r\nBad Header: x\r\nHost: two.test\r\n\r\n');
    await send('127.0.0.1', port, 'GET /b2 HTTP/1.1\r\nHost: two.test\r\nBad Header: x\r\n\r\n');
    const text = await eventually(log, /GET \/b2 /);
    expect(text).toMatch(/invalid header line: "Bad\\x20\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: one\.test, request: "GET \/b1 HTTP\/1\.1"\n/);
    expect(text).toMatch(/invalid header line: "Bad\\x20\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: two\.test, request: "GET \/b2 HTTP\/1\.1", host: "two\.test"\n/);
  });

  it('the answer is the address\'s default server\'s', async () => {
    const { port } = get();
    expect(await send('127.0.0.1', port, 'GET / HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n')).toMatch(/\r\n\r\none\n$/);
    expect(await send('127.0.0.2', port, 'GET / HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n')).toMatch(/\r\n\r\nstar\n$/);
  });

  it('no request begun: the listen socket\'s address, 0.0.0.0:P', async () => {
    const { port, log } = get();
    await send('127.0.0.1', port, '', 4000);
    const text = await eventually(log, /while waiting for request/);
    expect(text).toMatch(new RegExp(`client timed out \\(110: Connection timed out\\) while waiting for request, client: 127\\.0\\.0\\.1, server: ${esc(`0.0.0.0:${port}`)}\\n`));
  });
}

const star = (port: string): string => `server { listen ${port}; server_name star.test; location / { return 200 "star\\n"; } }`;
/** one.test's body (its listen line is the caller's), then two.test on the same address. */
const oneAndTwo = (port: string): string => `server_name one.test;
    location / { return 200 "one\\n"; }
  }
  server {
    listen 127.0.0.1:${port};
    server_name two.test;
    location / { return 200 "two\\n"; }`;

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a port on an address and on the wildcard'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  client_header_timeout 1s;
  ${star(String(port))}
  server {
    listen 127.0.0.1:${port};
    ${oneAndTwo(String(port))}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, log: () => t.errorLog() }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a port on an address and on the wildcard, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(oneAndTwo('__PORT__'), `client_header_timeout 1s;\n  ${star('__PORT__')}`); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, log: () => n.errorLog() }));
});
