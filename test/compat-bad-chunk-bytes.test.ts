// $body_bytes_sent of a request whose chunked body was bad, on both engines and on nginx with the
// same expectations. nginx 1.22 + lua-nginx-module, observed: `POST /garbled` with `zz\r\n` as
// its first chunk to a handler that reads the body: 400, `[error] client sent invalid chunked
// body`, and the access log `/garbled 400 157` (the page's bytes, as its Content-Length says).
// node:http logged 0: the front answered with the page itself and the pipeline counted nothing.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** The answer to `bytes` (the connection closed or 3 s passed). */
function send(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

const FORMAT = "log_format st '$request_uri $status $body_bytes_sent';";

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'latin1'); } catch { return ''; }
}

function checks(get: () => { port: number; access: () => string }): void {
  for (const [p, chunk] of [['/garbled', 'zz\r\n'], ['/garbled2', '5\r\nhelloXX\r\n']] as const) {
    it(`${p}: 400 and its page's bytes`, async () => {
      const { port, access } = get();
      const a = await send(port, `POST ${p} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
      expect(a).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      const len = Number(/\r\nContent-Length: (\d+)\r\n/.exec(a)?.[1]);
      expect(len).toBeGreaterThan(100);
      expect(await eventually(access, new RegExp(`^${p} `, 'm'))).toMatch(new RegExp(`^${p} 400 ${len}$`, 'm'));
    });
  }
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, '$body_bytes_sent after a bad chunk'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
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
    checks(() => ({ port, access: () => readOr(path.join(t.prefix, 'logs/access.log')) }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`$body_bytes_sent after a bad chunk, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`access_log __PREFIX__/access.log st;
    location / { content_by_lua_block { ngx.req.read_body() ngx.say("ok") } }`, FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: () => readOr(path.join(n.prefix, 'access.log')) }));
});
