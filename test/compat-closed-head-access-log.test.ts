// The access-log line of a request whose client went in the middle of its head, on both engines
// and on nginx with the same expectations. nginx 1.22 + lua-nginx-module, observed (format
// '$request_uri $status $body_bytes_sent [$request] [$uri]'):
//   "GET /h?a=1 HTTP/1.1\r\nHost: h\r\nX-A: 1", closed   /h?a=1 400 0 [GET /h?a=1 HTTP/1.1] [/h]
//   "GET /partial?b", closed                            - 400 0 [GET /partial?b] [-]
//   "GET /p2 HTTP/1.1" (no line end), closed            - 400 0 [GET /p2 HTTP/1.1] [-]
//   the same three left to client_header_timeout 1s     ... 408 ... (and the same fields)
//   closed before any byte                              no line
// and for "GET /p2 HTTP/1.1" the info line says `while reading client request line` (the line had
// not ended). tresty's native engine logged no access line for any of them; node:http none for a
// client gone in the line.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** Sends `bytes`; closes 200 ms later, or (`wait`) waits for the server to close. */
function sendThenClose(port: number, bytes: string, wait = false): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      if (bytes) s.write(Buffer.from(bytes, 'latin1'));
      if (!wait) setTimeout(() => s.end(), 200);
    });
    s.on('data', () => undefined);
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(); };
    const t = setTimeout(done, 5000);
    s.on('close', done);
    s.on('error', done);
  });
}

const FORMAT = "log_format st '$request_uri $status $body_bytes_sent [$request] [$uri]';";

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'latin1'); } catch { return ''; }
}

interface Target { port: number; slow: number; log: () => string; access: () => string }

function checks(get: () => Target, timeouts = true): void {
  it('closed in the headers: 400, the line, the URI', async () => {
    const { port, access } = get();
    await sendThenClose(port, 'GET /h?a=1 HTTP/1.1\r\nHost: h\r\nX-A: 1');
    expect(await eventually(access, /\/h\?a=1 /)).toContain('/h?a=1 400 0 [GET /h?a=1 HTTP/1.1] [/h]\n');
  });

  it('closed in the request line: 400, what came of it, no URI', async () => {
    const { port, access, log } = get();
    await sendThenClose(port, 'GET /partial?b');
    await sendThenClose(port, 'GET /p2 HTTP/1.1');
    const a = await eventually(access, /\[GET \/p2 HTTP\/1\.1\]/);
    expect(a).toContain('- 400 0 [GET /partial?b] [-]\n');
    expect(a).toContain('- 400 0 [GET /p2 HTTP/1.1] [-]\n');
    expect(log()).toMatch(/\[info\] [^\n]*client prematurely closed connection while reading client request line, client: 127\.0\.0\.1, server: , request: "GET \/p2 HTTP\/1\.1"\n/);
  });

  it('closed before any byte: no line', async () => {
    const { port, access } = get();
    await sendThenClose(port, '');
    await sendThenClose(port, 'GET /after-empty HTTP/1.1\r\nHost: h');
    const a = await eventually(access, /\/after-empty /);
    expect(a.split('\n').filter((l) => l !== '').every((l) => / \[GET /.test(l))).toBe(true);
  });

  // node:http applies client_header_timeout only until its first bytes show no HTTP/0.9 line
  // (docs/directives.md): node's parser takes the socket then, with its own headersTimeout.
  it.skipIf(!timeouts)(`client_header_timeout in the headers and in the line: 408${timeouts ? '' : ' (skipped: node:http\'s own parser has the socket by then, with its headersTimeout)'}`, async () => {
    const { slow, access } = get();
    await Promise.all([
      sendThenClose(slow, 'GET /th?x HTTP/1.1\r\nHost: h\r\n', true),
      sendThenClose(slow, 'GET /tl?x HTTP/1.1', true),
    ]);
    const a = await eventually(access, /\[GET \/tl\?x HTTP\/1\.1\]/);
    expect(a).toContain('/th?x 408 0 [GET /th?x HTTP/1.1] [/th]\n');
    expect(a).toContain('- 408 0 [GET /tl?x HTTP/1.1] [-]\n');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the access log of a client gone in the middle of a head'), () => {
    let t: TrestyProcess;
    let port: number;
    let slow: number;
    beforeAll(async () => {
      port = await freePort();
      slow = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ${FORMAT}
  access_log logs/access.log st;
  server {
    listen 127.0.0.1:${port};
    location / { return 200; }
  }
  server {
    listen 127.0.0.1:${slow};
    client_header_timeout 1s;
    location / { return 200; }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, slow, log: () => t.errorLog(), access: () => readOr(path.join(t.prefix, 'logs/access.log')) }), e.name === 'native');
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the access log of a client gone in the middle of a head, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let slow: number;
  beforeAll(async () => {
    slow = await freePort();
    n = await startNginx(`access_log __PREFIX__/access.log st;
    location / { return 200; }
  }
  server {
    listen 127.0.0.1:${slow};
    client_header_timeout 1s;
    access_log __PREFIX__/access.log st;
    location / { return 200; }`, FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, slow, log: () => n.errorLog(), access: () => readOr(path.join(n.prefix, 'access.log')) }));
});
