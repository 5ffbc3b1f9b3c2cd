// How a handler's answer is framed, on both engines and on nginx with the same expectations.
// nginx 1.22 + lua-nginx-module, observed (Date and Server left out): on HTTP/1.1 the output of
// content_by_lua goes chunked whatever the status and whether or not it ended before any flush
// (ngx.say, ngx.print, ngx.exit(2xx) after output or without any, ngx.eof, ngx.flush, a handler
// that sets ngx.status only: `0\r\n\r\n`), each ngx.say / ngx.print its own chunk; a
// Content-Length the handler set is sent instead; HTTP/1.0 gets a Content-Length (lua buffers
// the answer, a flush does nothing then), but not to HEAD; HEAD gets neither. tresty sent
// `Content-Length` for an answer made in one go, and on HTTP/1.0 a flush sent the head without one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** The answer's bytes (Date and Server left out) once the server closed or after 1.5 s. */
function answer(port: number, req: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(req));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got.replace(/^(?:Date|Server): [^\r]*\r\n/gm, '')); };
    const t = setTimeout(done, 1500);
    s.on('close', done);
    s.on('error', done);
  });
}

const get11 = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`;
const CHUNKED = (status: string, body: string): string => `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`;

/** [location, js body, lua body, expected answer to HTTP/1.1 with Connection: close] */
const CASES: Array<[string, string, string, string]> = [
  ['/s299say', 'ngx.status = 299; ngx.say("x")', 'ngx.status = 299 ngx.say("x")', CHUNKED('299 ', '2\r\nx\n\r\n0\r\n\r\n')],
  ['/say', 'ngx.say("x")', 'ngx.say("x")', CHUNKED('200 OK', '2\r\nx\n\r\n0\r\n\r\n')],
  ['/s404say', 'ngx.status = 404; ngx.say("x")', 'ngx.status = 404 ngx.say("x")', CHUNKED('404 Not Found', '2\r\nx\n\r\n0\r\n\r\n')],
  ['/s500print', 'ngx.status = 500; ngx.print("x")', 'ngx.status = 500 ngx.print("x")', CHUNKED('500 Internal Server Error', '1\r\nx\r\n0\r\n\r\n')],
  ['/sayexit', 'ngx.status = 299; ngx.say("x"); ngx.exit(200)', 'ngx.status = 299 ngx.say("x") ngx.exit(200)', CHUNKED('299 ', '2\r\nx\n\r\n0\r\n\r\n')],
  ['/flush', 'ngx.status = 299; ngx.say("x"); await ngx.flush(); ngx.say("y")', 'ngx.status = 299 ngx.say("x") ngx.flush() ngx.say("y")', CHUNKED('299 ', '2\r\nx\n\r\n2\r\ny\n\r\n0\r\n\r\n')],
  ['/eof', 'ngx.status = 299; ngx.say("x"); await ngx.eof()', 'ngx.status = 299 ngx.say("x") ngx.eof()', CHUNKED('299 ', '2\r\nx\n\r\n0\r\n\r\n')],
  ['/e299', 'ngx.exit(299)', 'ngx.exit(299)', CHUNKED('299 ', '0\r\n\r\n')],
  ['/none', 'ngx.status = 299', 'ngx.status = 299', CHUNKED('299 ', '0\r\n\r\n')],
  ['/three', 'ngx.say("x"); ngx.say("y"); ngx.print("zz")', 'ngx.say("x") ngx.say("y") ngx.print("zz")', CHUNKED('200 OK', '2\r\nx\n\r\n2\r\ny\n\r\n2\r\nzz\r\n0\r\n\r\n')],
  ['/sleep', 'ngx.say("x"); await ngx.sleep(0.01); ngx.say("y")', 'ngx.say("x") ngx.sleep(0.01) ngx.say("y")', CHUNKED('200 OK', '2\r\nx\n\r\n2\r\ny\n\r\n0\r\n\r\n')],
];

function checks(get: () => number): void {
  for (const [p, , , want] of CASES) {
    it(`${p}: chunked`, async () => {
      expect(await answer(get(), get11(p))).toBe(want);
    });
  }

  it('a Content-Length the handler set: that length, no chunks', async () => {
    const got = await answer(get(), get11('/cl'));
    expect(got).toMatch(/^HTTP\/1\.1 299 \r\n/);
    expect(got).toMatch(/\r\nContent-Length: 2\r\n/);
    expect(got).not.toMatch(/Transfer-Encoding/);
    expect(got).toMatch(/\r\n\r\nx\n$/);
  });

  it('HTTP/1.0: a length (the answer buffered whole)', async () => {
    expect(await answer(get(), 'GET /three HTTP/1.0\r\nHost: h\r\n\r\n'))
      .toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nx\ny\nzz');
    expect(await answer(get(), 'GET /e299 HTTP/1.0\r\nHost: h\r\n\r\n'))
      .toBe('HTTP/1.1 299 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  it('HTTP/1.0: a flush sends nothing (lua buffers the answer whole, with its length); HEAD gets no length', async () => {
    expect(await answer(get(), 'GET /flush HTTP/1.0\r\nHost: h\r\n\r\n'))
      .toBe('HTTP/1.1 299 \r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nx\ny\n');
    expect(await answer(get(), 'HEAD /three HTTP/1.0\r\nHost: h\r\n\r\n'))
      .toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
  });

  it('HEAD: neither a length nor chunks', async () => {
    expect(await answer(get(), 'HEAD /s299say HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'))
      .toBe('HTTP/1.1 299 \r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
  });

  it('return, a static file and an error page keep their length', async () => {
    expect(await answer(get(), get11('/r'))).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx');
    expect(await answer(get(), get11('/e404'))).toMatch(/^HTTP\/1\.1 404 Not Found\r\nContent-Type: text\/html\r\nContent-Length: \d+\r\nConnection: close\r\n/);
  });
}

function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const block = (p: string, code: string): string => `location = ${p} { content_by_${by}_block { ${code} } }`;
  return [
    ...CASES.map(([p, js, l]) => block(p, lua ? l : js)),
    block('/cl', lua ? 'ngx.status = 299 ngx.header["Content-Length"] = 2 ngx.say("x")' : 'ngx.status = 299; ngx.header["Content-Length"] = 2; ngx.say("x")'),
    block('/e404', 'ngx.exit(404)'),
    'location = /r { return 200 "x"; }',
  ].join('\n    ');
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the framing of a handler\'s answer'), () => {
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
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the framing of a handler's answer, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations(true)); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
