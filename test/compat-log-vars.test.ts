// $bytes_sent, $request_length and variables with no value in the access log, as nginx writes
// them. nginx 1.22 + lua-nginx-module, observed (each request with Connection: close):
//   $bytes_sent: every byte of the answer, head (status line to blank line) and body (chunk
//     framing too): 164 for a 151-byte head and `ok\n` in chunks; $body_bytes_sent 13 of them.
//   $request_length: the head as received (its blank line too) and the body bytes read: a
//     POST of 68 head bytes + 5 body bytes gives 73 when the handler reads the body, 68 when not.
//   $args, $query_string with no query (`/a`, `/a?`): `-` (not found); `?q=`: `q=`; $is_args
//     empty: an empty field (not `-`); $http_x_missing: `-`; $arg_q of `q=`: empty.
// The same expectations run on both engines and on nginx; the expected counts are taken from
// the bytes each server sent and received, so the servers' own header sets do not matter.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { lineFor } from './helpers/upstream.js';

/** Sends the bytes, resolves with the whole answer once the server closes (or after 5 s). */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, 5000);
    s.on('close', done);
    s.on('error', done);
  });
}

interface Target { port: number; access: () => string }

const FORMAT = `log_format vars '$arg_t $bytes_sent $body_bytes_sent $request_length [$args] [$query_string] [$is_args] [$http_x_missing] [$arg_q]';
  log_format none '$uri [$args] [$query_string] [$is_args] [$http_x_missing] [$arg_q] [$request_body]';`;

const FILES = { 'html/f/x.txt': 'static!\n' };

function checks(get: () => Target): void {
  async function run(target: string, rest: string, body = ''): Promise<{ answer: string; line: string; head: number }> {
    const { port, access } = get();
    const head = `${target} HTTP/1.1\r\nHost: h\r\n${rest}Connection: close\r\n\r\n`;
    const answer = await exchange(port, head + body);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const tag = /[?&]t=(\w+)/.exec(target)![1]!;
    return { answer, line: await lineFor(access, tag), head: head.length };
  }

  it('$bytes_sent is the head and the body as sent; $request_length the head as received', async () => {
    const { answer, line, head } = await run('GET /say?t=a1', 'X-Pad: 1234567\r\n');
    const body = answer.length - answer.indexOf('\r\n\r\n') - 4;
    expect(line).toBe(`a1 ${answer.length} ${body} ${head} [t=a1] [t=a1] [?] [-] [-]`);
  });

  it('a body the handler reads counts in $request_length; an unread one does not', async () => {
    const read = await run('POST /read?t=b1', 'Content-Length: 5\r\n', 'hello');
    expect(read.line).toBe(`b1 ${read.answer.length} ${read.answer.length - read.answer.indexOf('\r\n\r\n') - 4} ${read.head + 5} [t=b1] [t=b1] [?] [-] [-]`);
    const unread = await run('POST /say?t=b2', 'Content-Length: 5\r\n', 'hello');
    expect(unread.line).toMatch(new RegExp(`^b2 ${unread.answer.length} \\d+ ${unread.head} `));
  });

  it('no query: $args and $query_string are `-`, $is_args an empty field; ngx.var.args is nil', async () => {
    const { port, access } = get();
    for (const [target, uri] of [['/none/a', '/none/a'], ['/none/b?', '/none/b']]) {
      const answer = await exchange(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
      expect(answer).toMatch(/\r\n\r\n(?:[0-9a-f]+\r\n)?args nil\n/);
      expect(await lineFor(access, uri)).toBe(`${uri} [-] [-] [] [-] [-] [-]`);
    }
  });

  it('a static file (the engine\'s own answer): $bytes_sent counts its head too', async () => {
    const { answer, line, head } = await run('GET /f/x.txt?t=d1', '');
    expect(answer.endsWith('\r\n\r\nstatic!\n')).toBe(true);
    expect(line).toBe(`d1 ${answer.length} 8 ${head} [t=d1] [t=d1] [?] [-] [-]`);
  });

  it('a known length: $bytes_sent is the head and the Content-Length body', async () => {
    const { answer, line, head } = await run('GET /len?t=c1&q=', '');
    expect(answer).toMatch(/\r\nContent-Length: 6\r\n/i); // nginx writes `content-length` as the handler set it
    expect(line).toBe(`c1 ${answer.length} 6 ${head} [t=c1&q=] [t=c1&q=] [?] [-] []`);
  });
}

function locations(lua: boolean): string {
  return lua
    ? `location /f/ { root __ROOT__; }
    location /none { access_log __LOG__ none; content_by_lua_block { ngx.say("args ", ngx.var.args == nil and "nil" or ngx.var.args) } }
    location /say { content_by_lua_block { ngx.say("ok") } }
    location /read { content_by_lua_block { ngx.req.read_body() ngx.say("ok") } }
    location /len { content_by_lua_block { ngx.header.content_length = 6 ngx.print("fixed!") } }`
    : `location /f/ { root __ROOT__; }
    location /none { access_log __LOG__ none; content_by_js_block { ngx.say("args ", ngx.var.args === undefined ? "nil" : ngx.var.args); } }
    location /say { content_by_js_block { ngx.say("ok"); } }
    location /read { content_by_js_block { await ngx.req.read_body(); ngx.say("ok"); } }
    location /len { content_by_js_block { ngx.header.content_length = 6; ngx.print("fixed!"); } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, '$bytes_sent, $request_length and values not found in the access log'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  ${FORMAT}
  access_log logs/access.log vars;
  server {
    listen 127.0.0.1:${port};
    ${locations(false).replace('__LOG__', 'logs/access.log').replace('__ROOT__', 'html')}
  }
}
`, { env: e.env, files: FILES });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, access: () => { try { return fs.readFileSync(path.join(t.prefix, 'logs/access.log'), 'latin1'); } catch { return ''; } } }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`$bytes_sent, $request_length and values not found in the access log, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`access_log __PREFIX__/access.log vars;\n    ${locations(true).replace('__LOG__', '__PREFIX__/access.log').replace('__ROOT__', '__PREFIX__/html')}`, FORMAT, FILES);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: () => { try { return fs.readFileSync(path.join(n.prefix, 'access.log'), 'latin1'); } catch { return ''; } } }));
});
