// nginx's own statuses, `return 304` and the Server header, on both engines and on nginx with the
// same expectations. nginx 1.22 + lua-nginx-module, observed (Date and Server left out):
// `return 494..497` (and ngx.exit) answer `HTTP/1.1 400 Bad Request` with a page that says why,
// e.g. `<head><title>400 The SSL certificate error</title></head>` ... `<center><h1>400 Bad
// Request</h1></center>\r\n<center>The SSL certificate error</center>`, and log $status 400;
// `return 498` answers `HTTP/1.1 498 ` with the 404 page and logs 498.
// tresty's native engine had the 494 page only (and not from ngx.exit); node:http had none.
// `return 304;` sends `Content-Type: text/plain` (default_type) and `Content-Length: 0`, `return
// 304 "abc";` `Content-Length: 3` and no body, ngx.exit(304) `Content-Length: 0` and no type,
// `ngx.status = 304; ngx.say()` neither, `return 204;` and ngx.exit(204) neither; tresty sent
// neither for all of them, and the native engine sent `return 304 "abc"`'s text as a body.
// Every answer starts `Server: nginx/1.22.1\r\nDate: ...` (tresty: `Server: tresty`); a handler's
// own Server replaces it. node:http sent no Server and its Date last.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** The whole answer's bytes (the connection is closed after it); `before` go first on it, kept alive. */
function raw(port: number, path: string, before: string[] = []): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const ahead = before.map((p) => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`).join('');
    const s = net.connect(port, '127.0.0.1', () => s.write(`${ahead}GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      resolve(got);
    };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

/** The answer without Date and Server, and with the server's name in pages as `NAME`. */
function plain(answer: string): string {
  return answer.replace(/^(?:Date|Server): [^\r]*\r\n/gm, '').replace(/<hr><center>[^<]*<\/center>/, '<hr><center>NAME</center>')
    .replace(/^Content-Length: \d+\r\n/m, (l) => (answer.includes('<hr><center>') ? 'Content-Length: N\r\n' : l));
}

const TAIL = '<hr><center>NAME</center>\r\n</body>\r\n</html>\r\n';
function own(why: string): string {
  return 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: N\r\nConnection: close\r\n\r\n'
    + `<html>\r\n<head><title>400 ${why}</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>${why}</center>\r\n${TAIL}`;
}

const PAGES: Record<number, string> = {
  494: own('Request Header Or Cookie Too Large'),
  495: own('The SSL certificate error'),
  496: own('No required SSL certificate was sent'),
  497: own('The plain HTTP request was sent to HTTPS port'),
  498: 'HTTP/1.1 498 \r\nContent-Type: text/html\r\nContent-Length: N\r\nConnection: close\r\n\r\n'
    + `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n${TAIL}`,
};

interface Target { port: number; access: string }

function checks(get: () => Target): void {
  for (const code of [494, 495, 496, 497, 498]) {
    it(`return ${code}; and ngx.exit(${code}): nginx's status line and page`, async () => {
      expect(plain(await raw(get().port, `/r${code}`))).toBe(PAGES[code]);
      expect(plain(await raw(get().port, `/e${code}`))).toBe(PAGES[code]);
    });
  }

  it('return 304; sends the default type and a zero length', async () => {
    expect(plain(await raw(get().port, '/r304'))).toBe('HTTP/1.1 304 Not Modified\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  it('return 304 "abc"; sends the text\'s length and no body; the connection goes on', async () => {
    const two = plain(await raw(get().port, '/r204', ['/rt304']));
    expect(two).toBe('HTTP/1.1 304 Not Modified\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n'
      + 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
  });

  it('ngx.exit(304): a zero length, no type; ngx.status = 304 with output, ngx.exit(204), return 204: neither', async () => {
    const { port } = get();
    expect(plain(await raw(port, '/e304'))).toBe('HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(plain(await raw(port, '/s304'))).toBe('HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n');
    expect(plain(await raw(port, '/e204'))).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    expect(plain(await raw(port, '/r204'))).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
  });

  it('Server, then Date, right after the status line: return, a page, a handler\'s output', async () => {
    const { port } = get();
    const lead = /^HTTP\/1\.1 \d{3} [^\r]*\r\nServer: (?:tresty|nginx\/[\d.]+)\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/;
    for (const p of ['/r200', '/r304', '/nowhere', '/r495', '/say']) {
      const got = await raw(port, p);
      expect(got, p).toMatch(lead);
      expect(got.match(/^Server:/gim), p).toHaveLength(1);
    }
  });

  it("a handler's own Server replaces tresty's", async () => {
    const got = await raw(get().port, '/own');
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\nDate: [^\r]+\r\n/);
    expect(got.match(/^Server: [^\r]*/gim)).toEqual(['Server: mine']);
  });

  it('the access log has 400 for 494-497 and 498 for 498 ($status)', async () => {
    const { port, access } = get();
    for (const c of [494, 497, 498]) await raw(port, `/l${c}`);
    let text = '';
    for (let i = 0; i < 250 && !/\/l498 /.test(text); i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = fs.existsSync(access) ? fs.readFileSync(access, 'latin1') : '';
    }
    for (const l of ['/l494 400', '/l497 400', '/l498 498']) expect(text).toContain(`${l}\n`);
  });
}

const FORMAT = "log_format st '$request_uri $status';";

function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const codes = [494, 495, 496, 497, 498];
  return [
    ...codes.map((c) => `location = /r${c} { access_log off; return ${c}; }`),
    ...codes.map((c) => `location = /e${c} { access_log off; content_by_${by}_block { ngx.exit(${c}) } }`),
    ...codes.map((c) => `location = /l${c} { return ${c}; }`),
    'location = /r304 { return 304; }',
    'location = /r200 { return 200; }',
    `location = /say { content_by_${by}_block { ngx.say("x") } }`,
    `location = /own { content_by_${by}_block { ngx.header["Server"] = "mine"${lua ? ' ' : '; '}ngx.say("x") } }`,
    'location = /rt304 { return 304 "abc"; }',
    'location = /r204 { return 204; }',
    `location = /e304 { content_by_${by}_block { ngx.exit(304) } }`,
    `location = /e204 { content_by_${by}_block { ngx.exit(204) } }`,
    `location = /s304 { content_by_${by}_block { ngx.status = 304${lua ? ' ' : '; '}ngx.say("x") } }`,
  ].join('\n    ');
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, "nginx's own statuses, return 304, the Server header"), () => {
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
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, access: path.join(t.prefix, 'logs/access.log') }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`nginx's own statuses, return 304, the Server header, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`access_log __PREFIX__/access.log st;\n    ${locations(true)}`, FORMAT); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: path.join(n.prefix, 'access.log') }));
});
