// A status from 100 to 199 with a body, as nginx 1.22 + lua-nginx-module answers it (observed raw,
// a second request pipelined on the same connection):
//   return 150 "t";                    "HTTP/1.1 150 \r\n...Content-Type: text/plain\r\nContent-Length: 1\r\n
//                                       Connection: keep-alive\r\n\r\nt" (no reason; return 150; is a
//                                       Content-Length: 0; 100 and 199 alike)
//   ngx.status = 150; ngx.say("t")     "HTTP/1.1 150 \r\n...Content-Type: text/plain\r\nConnection: keep-alive\r\n\r\nt\n"
//                                       (no length, no chunks: the next answer follows the body)
//   ngx.status = 101; ngx.say("t")     "HTTP/1.1 101 Switching Protocols\r\n...Connection: upgrade\r\n\r\nt\n",
//                                       and the next request is still answered
//   ngx.status = 150; ngx.exit(ngx.OK) the head alone, no length
//   HEAD to return 150 "t"             Content-Length: 1, no body
// node follows HTTP's rule that 1xx answers carry no body; both engines answer as nginx does.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** `first` (a whole request head), then 300 ms later GET /ok on the same connection; all that came. */
function pipelined(port: number, first: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(first);
      setTimeout(() => s.write('GET /ok HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\r\n'), 300);
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => { text += d; });
    const timer = setTimeout(() => { s.destroy(); resolve(text); }, 8000);
    s.on('close', () => { clearTimeout(timer); resolve(text); });
    s.on('error', () => undefined);
  });
}

const get = (path: string, method = 'GET'): string => `${method} ${path} HTTP/1.1\r\nHost: t.test\r\n\r\n`;

/** The first answer's head (up to its blank line) and what follows it. */
function split(text: string): { head: string; rest: string } {
  const i = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, i + 2), rest: text.slice(i + 4) };
}

/** The /ok answer, framed either way (nginx chunks ngx.say's output, tresty knows the length). */
const OK_ANSWER = /^HTTP\/1\.1 200 OK\r\n(?:[^\r]+\r\n)*\r\n(?:3\r\nok\n\r\n0\r\n\r\n|ok\n)$/;

function checks(port: () => number): void {
  for (const [path, code, body] of [['/r150', 150, 't'], ['/r100', 100, 't'], ['/r199', 199, 'abc'], ['/r150e', 150, '']] as const) {
    it(`return ${code}${body ? ` "${body}"` : ''}: \`${code} \`, Content-Type, Content-Length: ${body.length}, the body, the connection kept`, async () => {
      const { head, rest } = split(await pipelined(port(), get(path)));
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${code} \\r\\n`));
      expect(head).toMatch(/\r\nContent-Type: text\/plain\r\n/);
      expect(head).toMatch(new RegExp(`\\r\\nContent-Length: ${body.length}\\r\\n`));
      expect(head).not.toMatch(/Transfer-Encoding/i);
      expect(head).toMatch(/\r\nConnection: keep-alive\r\n/);
      expect(rest.startsWith(body)).toBe(true);
      expect(rest.slice(body.length)).toMatch(OK_ANSWER);
    });
  }

  it('ngx.status = 150 then output: `150 `, no length, no chunks, the body as it is, the connection kept', async () => {
    const { head, rest } = split(await pipelined(port(), get('/s150')));
    expect(head).toMatch(/^HTTP\/1\.1 150 \r\n/);
    expect(head).toMatch(/\r\nContent-Type: text\/plain\r\n/);
    expect(head).toMatch(/\r\nX-A: 1\r\n/);
    expect(head).not.toMatch(/Content-Length|Transfer-Encoding/i);
    expect(head).toMatch(/\r\nConnection: keep-alive\r\n/);
    expect(rest.startsWith('t\n')).toBe(true);
    expect(rest.slice(2)).toMatch(OK_ANSWER);
  });

  it('ngx.status = 101 then output: `101 Switching Protocols`, Connection: upgrade, the body, the next request answered', async () => {
    const { head, rest } = split(await pipelined(port(), get('/s101')));
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toMatch(/\r\nConnection: upgrade\r\n/);
    expect(head).not.toMatch(/Content-Length|Transfer-Encoding|keep-alive/i);
    expect(rest.startsWith('t\n')).toBe(true);
    expect(rest.slice(2)).toMatch(OK_ANSWER);
  });

  it('ngx.status = 150; ngx.exit(ngx.OK): the head alone, no length', async () => {
    const { head, rest } = split(await pipelined(port(), get('/s150ok')));
    expect(head).toMatch(/^HTTP\/1\.1 150 \r\n/);
    expect(head).not.toMatch(/Content-Length|Transfer-Encoding/i);
    expect(rest).toMatch(OK_ANSWER);
  });

  it('to HTTP/1.0: ngx.status = 150 (or 99) then output, and ngx.exit(ngx.OK), have a Content-Length', async () => {
    for (const [path, body] of [['/s150', 't\n'], ['/s99', 't\n'], ['/s150ok', '']] as const) {
      const { head, rest } = split(await pipelined(port(), `GET ${path} HTTP/1.0\r\nHost: t.test\r\n\r\n`));
      expect(head, path).toMatch(new RegExp(`^HTTP/1\\.1 ${path === '/s99' ? '099' : '150'} \\r\\n`));
      expect(head, path).toMatch(new RegExp(`\\r\\nContent-Length: ${body.length}\\r\\n`));
      expect(head, path).toMatch(/\r\nConnection: close\r\n/);
      expect(rest, path).toBe(body);
    }
  });

  it('HEAD to return 150 "t": Content-Length: 1 and no body', async () => {
    const { head, rest } = split(await pipelined(port(), get('/r150', 'HEAD')));
    expect(head).toMatch(/^HTTP\/1\.1 150 \r\n(?:[^\r]+\r\n)*Content-Length: 1\r\n/);
    expect(rest).toMatch(OK_ANSWER);
  });
}

function locations(by: 'js' | 'lua'): string {
  const sep = by === 'js' ? ';' : '';
  return `keepalive_timeout 2s;
    location = /ok { content_by_${by}_block { ngx.say("ok") } }
    location = /r150 { return 150 "t"; }
    location = /r100 { return 100 "t"; }
    location = /r199 { return 199 "abc"; }
    location = /r150e { return 150; }
    location = /s150 { content_by_${by}_block { ngx.status = 150${sep} ngx.header["X-A"] = "1"${sep} ngx.say("t") } }
    location = /s99 { content_by_${by}_block { ngx.status = 99${sep} ngx.say("t") } }
    location = /s101 { content_by_${by}_block { ngx.status = 101${sep} ngx.say("t") } }
    location = /s150ok { content_by_${by}_block { ngx.status = 150${sep} ngx.exit(ngx.OK) } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a status from 100 to 199 with a body'), () => {
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
    ${locations('js')}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a status from 100 to 199 on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations('lua')); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
