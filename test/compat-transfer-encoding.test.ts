// A request whose Transfer-Encoding is not `chunked`, on both engines and on nginx with the same
// expectations. nginx 1.22 + lua-nginx-module, observed: 501 Not Implemented (its page, then the
// close) for any value but `chunked` in any case (`identity`, `gzip`, `gzip, chunked`,
// `chunked, gzip`, `xchunked`, `chunked;q=1`), `[info] client sent unknown "Transfer-Encoding":
// "gzip, chunked" while reading client request headers, client: ..., server: , request: "POST
// /te HTTP/1.1", host: "h"`, and the access log `/te 501 165` ($body_bytes_sent the page).
// node:http took `gzip, chunked` (llhttp reads the last coding) and logged 400 0 for the others.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** The status line of the answer to `bytes` (the connection closed or 3 s passed). */
function statusLine(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got.split('\r\n', 1)[0]!); };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

const FORMAT = "log_format st '$request_uri $status $body_bytes_sent';";
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'latin1'); } catch { return ''; }
}

interface Target { port: number; log: () => string; access: () => string }

function checks(get: () => Target): void {
  const refused = ['identity', 'gzip', 'gzip, chunked', 'chunked, gzip', 'xchunked'];
  refused.forEach((te, i) => {
    it(`Transfer-Encoding: ${te}: 501, nginx's line, the access log`, async () => {
      const { port, log, access } = get();
      const p = `/te${i}`;
      const body = te.endsWith('chunked') ? '0\r\n\r\n' : '';
      expect(await statusLine(port, `POST ${p} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n${body}`)).toBe('HTTP/1.1 501 Not Implemented');
      const text = await eventually(log, new RegExp(`"${esc(te)}" while`));
      expect(text).toMatch(new RegExp(`\\[info\\] [^\\n]*client sent unknown "Transfer-Encoding": "${esc(te)}" while reading client request headers, client: 127\\.0\\.0\\.1, server: , request: "POST ${esc(p)} HTTP/1\\.1", host: "h"\\n`));
      const a = await eventually(access, new RegExp(`^${esc(p)} `, 'm'));
      const sent = new RegExp(`^${esc(p)} 501 (\\d+)$`, 'm').exec(a);
      expect(sent, a).not.toBeNull();
      expect(Number(sent![1])).toBeGreaterThan(100); // the page
    });
  });

  it('Transfer-Encoding: Chunked (any case) is chunked', async () => {
    const { port } = get();
    expect(await statusLine(port, 'POST /ok HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n')).toBe('HTTP/1.1 200 OK');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a Transfer-Encoding other than chunked'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ${FORMAT}
  access_log logs/access.log st;
  server {
    listen 127.0.0.1:${port};
    location / { content_by_js_block { await ngx.req.read_body(); ngx.say("ok"); } }
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, log: () => t.errorLog(), access: () => readOr(path.join(t.prefix, 'logs/access.log')) }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a Transfer-Encoding other than chunked, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`access_log __PREFIX__/access.log st;
    location / { content_by_lua_block { ngx.req.read_body() ngx.say("ok") } }`, FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, log: () => n.errorLog(), access: () => readOr(path.join(n.prefix, 'access.log')) }));
});
