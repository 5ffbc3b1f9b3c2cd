// $request_length of a chunked request body, as nginx counts it: the bytes as received, chunk
// framing included. nginx 1.22 + lua-nginx-module, observed (a 77-byte head + `Transfer-Encoding:
// chunked`): `5\r\nhello\r\n006;ext=1\r\n world\r\n0\r\n\r\n` read by the handler gives 111 (every
// byte: size lines, the extension, CRLFs, the last chunk); with a trailer (`0\r\nX-T: 1\r\n\r\n`)
// 100; a body the handler does not read is not counted (the head alone); a body read into a temp
// file counts the same. tresty counted the data only (10 + head).
// Same expectations on both engines and on nginx, also for a chunked request that follows
// another request on a keep-alive connection.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { lineFor } from './helpers/upstream.js';

/** Sends each request once the previous answer is complete (a client that waits); resolves at close. */
function converse(port: number, requests: string[]): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    let i = 0;
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(requests[i++]!, 'latin1')));
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      // Answers here are chunked: one ends with its last chunk.
      if (i < requests.length && got.split('\r\n0\r\n\r\n').length - 1 === i) s.write(Buffer.from(requests[i++]!, 'latin1'));
    });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, 5000);
    s.on('close', done);
    s.on('error', done);
  });
}

const head = (p: string, close = true): string =>
  `POST ${p} HTTP/1.1\r\nHost: h\r\n${close ? 'Connection: close\r\n' : ''}Transfer-Encoding: chunked\r\n\r\n`;

function checks(get: () => { port: number; access: () => string }): void {
  const cases: Array<[string, string, string, (req: string) => number]> = [
    ['an extension and a leading zero', '/read?t=a1', '5\r\nhello\r\n006;ext=1\r\n world\r\n0\r\n\r\n', (r) => r.length],
    ['a trailer', '/read?t=a2', '5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n', (r) => r.length],
    ['one 3000-byte chunk, read into a temp file', '/file?t=a3', `bb8\r\n${'b'.repeat(3000)}\r\n0\r\n\r\n`, (r) => r.length],
    ['an unread body: the head alone', '/say?t=a4', '5\r\nhello\r\n0\r\n\r\n', (r) => r.indexOf('\r\n\r\n') + 4],
  ];
  for (const [what, target, body, expected] of cases) {
    it(`a chunked body counts as received: ${what}`, async () => {
      const req = head(target) + body;
      const answer = await converse(get().port, [req]);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      const tag = /t=(\w+)/.exec(target)![1]!;
      expect(await lineFor(get().access, tag)).toBe(`${tag} ${expected(req)}`);
    });
  }

  it('a chunked body after another request on the same connection counts its own bytes', async () => {
    const first = 'GET /say?t=k1 HTTP/1.1\r\nHost: h\r\n\r\n';
    const second = `${head('/read?t=k2')}3\r\nabc\r\n0\r\n\r\n`;
    const answer = await converse(get().port, [first, second]);
    expect(answer.split('HTTP/1.1 200 ').length - 1).toBe(2);
    expect(await lineFor(get().access, 'k1')).toBe(`k1 ${first.length}`);
    expect(await lineFor(get().access, 'k2')).toBe(`k2 ${second.length}`);
  });
}

const FORMAT = "log_format rl '$arg_t $request_length';";

function locations(lua: boolean): string {
  return lua
    ? `location /say { content_by_lua_block { ngx.say("ok") } }
    location /read { content_by_lua_block { ngx.req.read_body() ngx.say("ok") } }
    location /file { client_body_buffer_size 16; content_by_lua_block { ngx.req.read_body() ngx.say(ngx.req.get_body_file() and "file") } }`
    : `location /say { content_by_js_block { ngx.say("ok"); } }
    location /read { content_by_js_block { await ngx.req.read_body(); ngx.say("ok"); } }
    location /file { client_body_buffer_size 16; content_by_js_block { await ngx.req.read_body(); ngx.say(ngx.req.get_body_file() && "file"); } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, '$request_length of chunked bodies'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  ${FORMAT}
  access_log logs/access.log rl;
  server {
    listen 127.0.0.1:${port};
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, access: () => { try { return fs.readFileSync(path.join(t.prefix, 'logs/access.log'), 'latin1'); } catch { return ''; } } }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`$request_length of chunked bodies, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`access_log __PREFIX__/access.log rl;\n    ${locations(true)}`, FORMAT); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: () => { try { return fs.readFileSync(path.join(n.prefix, 'access.log'), 'latin1'); } catch { return ''; } } }));
});
