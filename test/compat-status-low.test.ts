// A status below 100 (and ngx.exit(N), 0 < N < 200), as nginx 1.22 + lua-nginx-module answers
// it, on both engines and on nginx itself with the same expectations:
//   ngx.status = 99; ngx.say(...)  `HTTP/1.1 099 ` (three digits, no reason), no length and no
//                                  chunks (nginx frames no body below 200), connection kept;
//   return 99 ["text"];            the same line, with Content-Type and an exact Content-Length;
//   ngx.exit(99) / ngx.exit(150)   nothing at all is sent (output not flushed is dropped), no
//                                  error-log line, the connection waits for the next request and
//                                  closes at keepalive_timeout; $status is "000".
// Each answer is read raw, with a second request pipelined on the same connection. keepalive_timeout
// is 500ms (the close is all that is checked of it: the reader gives up at 8 s), and the cases of a
// test run on connections of their own at once, so each waits for it only once.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

interface Raw { text: string; closed: boolean }

/** GET `first`, then (100 ms later) GET /ok on the same connection; all that came until the close. */
function pipelined(port: number, first: string): Promise<Raw> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET ${first} HTTP/1.1\r\nHost: t.test\r\n\r\n`);
      setTimeout(() => s.write('GET /ok HTTP/1.1\r\nHost: t.test\r\n\r\n'), 100);
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => { text += d; });
    // keepalive_timeout is 500ms: a kept connection closes by itself well before this.
    const timer = setTimeout(() => { s.destroy(); resolve({ text, closed: false }); }, 8000);
    s.on('close', () => { clearTimeout(timer); resolve({ text, closed: true }); });
    s.on('error', () => undefined);
  });
}

/** The /ok answer, framed either way (nginx chunks ngx.say's output, tresty knows the length). */
const OK_ANSWER = /HTTP\/1\.1 200 OK\r\n(?:[^\r]+\r\n)*\r\n(?:3\r\nok\n\r\n0\r\n\r\n|ok\n)$/;

function heads(text: string): number {
  return text.split('HTTP/1.1 ').length - 1;
}

/** The first answer's head (up to its blank line) and what follows it. */
function split(text: string): { head: string; rest: string } {
  const i = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, i + 2), rest: text.slice(i + 4) };
}

function checks(get: () => { port: number; statusLog: () => string; errorLog: () => string }): void {
  it('ngx.status = 99 then output: `099 `, no length, no chunks, the connection kept', async () => {
    const r = await pipelined(get().port, '/status99');
    const { head, rest } = split(r.text);
    expect(head).toMatch(/^HTTP\/1\.1 099 \r\n/);
    expect(head).toMatch(/\r\nContent-Type: text\/plain\r\n/);
    expect(head).not.toMatch(/Content-Length|Transfer-Encoding/i);
    expect(head).toMatch(/\r\nConnection: keep-alive\r\n/);
    expect(rest.startsWith('body99\nHTTP/1.1 200 OK\r\n')).toBe(true);
    expect(rest).toMatch(OK_ANSWER);
    expect(r.closed).toBe(true);
  });

  it('return 99 "text" and return 99: `099 ` with Content-Type and an exact Content-Length', async () => {
    const [t, e] = await Promise.all([pipelined(get().port, '/ret99t'), pipelined(get().port, '/ret99')]);
    expect(split(t.text).head).toMatch(/^HTTP\/1\.1 099 \r\n(?:[^\r]+\r\n)*Content-Length: 6\r\n/);
    expect(split(t.text).head).toMatch(/\r\nContent-Type: text\/plain\r\n/);
    expect(split(t.text).rest).toMatch(/^text99HTTP\/1\.1 200 OK\r\n/);
    expect(split(e.text).head).toMatch(/^HTTP\/1\.1 099 \r\n(?:[^\r]+\r\n)*Content-Length: 0\r\n/);
    expect(split(e.text).head).toMatch(/\r\nContent-Type: text\/plain\r\n/);
    expect(split(e.text).rest).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('ngx.status = 99; ngx.exit(ngx.OK): the head alone, no length', async () => {
    const r = await pipelined(get().port, '/st99ok');
    const { head, rest } = split(r.text);
    expect(head).toMatch(/^HTTP\/1\.1 099 \r\n/);
    expect(head).not.toMatch(/Content-Length|Transfer-Encoding/i);
    expect(rest).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('ngx.exit(99), ngx.exit(150), and ngx.exit(99) after unflushed output: nothing sent, the next request answered, then the keepalive close', async () => {
    const from = get().errorLog().length;
    const paths = ['/exit99', '/exit150', '/say-exit99'];
    const got = await Promise.all(paths.map((p) => pipelined(get().port, p)));
    for (const [i, p] of paths.entries()) {
      const r = got[i]!;
      expect(heads(r.text), `${p}: ${JSON.stringify(r.text)}`).toBe(1);
      expect(r.text).toMatch(new RegExp(`^${OK_ANSWER.source}`));
      expect(r.closed, `${p}: closed at keepalive_timeout`).toBe(true);
    }
    // No line about it (only the info lines of closing kept connections).
    expect(get().errorLog().slice(from)).not.toMatch(/\[(error|warn|alert|crit)\]/);
  });

  it('$status: "000" after ngx.exit(99), "099" after ngx.status = 99', async () => {
    await Promise.all([pipelined(get().port, '/exit99?st'), pipelined(get().port, '/status99?st')]);
    const deadline = Date.now() + 5000;
    let log = '';
    while (Date.now() < deadline) {
      log = get().statusLog();
      if (/\/exit99\?st /.test(log) && /\/status99\?st /.test(log)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(log).toMatch(/^\/exit99\?st 000$/m);
    expect(log).toMatch(/^\/status99\?st 099$/m);
  });
}

function locations(by: 'js' | 'lua'): string {
  const sep = by === 'js' ? ';' : '';
  return `keepalive_timeout 500ms;
    log_format st '$request_uri $status';
    access_log __LOGS__/status.log st;
    location = /ok { content_by_${by}_block { ngx.say("ok") } }
    location = /status99 { content_by_${by}_block { ngx.status = 99${sep} ngx.say("body99") } }
    location = /st99ok { content_by_${by}_block { ngx.status = 99${sep} ngx.exit(ngx.OK) } }
    location = /ret99 { return 99; }
    location = /ret99t { return 99 "text99"; }
    location = /exit99 { content_by_${by}_block { ngx.exit(99) } }
    location = /exit150 { content_by_${by}_block { ngx.exit(150) } }
    location = /say-exit99 { content_by_${by}_block { ngx.say("a")${sep} ngx.exit(99) } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a status below 100'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      const server = locations('js').replace('log_format st \'$request_uri $status\';\n', '').replace(/__LOGS__/g, 'logs');
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  log_format st '$request_uri $status';
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({
      port,
      statusLog: () => { try { return fs.readFileSync(path.join(t.prefix, 'logs', 'status.log'), 'utf8'); } catch { return ''; } },
      errorLog: () => t.errorLog(),
    }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a status below 100 on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    const server = locations('lua').replace('log_format st \'$request_uri $status\';\n', '').replace(/__LOGS__/g, '__PREFIX__');
    n = await startNginx(server, "log_format st '$request_uri $status';");
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({
    port: n.port,
    statusLog: () => { try { return fs.readFileSync(path.join(n.prefix, 'status.log'), 'utf8'); } catch { return ''; } },
    errorLog: () => n.errorLog(),
  }));
});
