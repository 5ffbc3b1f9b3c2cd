// The status line of statuses nginx has no text for, on both engines and on nginx with the same
// expectations. nginx 1.22 + lua-nginx-module, observed: `HTTP/1.1 599 ` (the number, a space, no
// reason) for any status outside ngx_http_status_lines (203, 226, 299, 306, 420, 509, 599, 999...),
// its own words for the others (302 Moved Temporarily, 405 Not Allowed); `return` of a 3xx that is
// no redirect (306) answers as a 2xx (text/plain, empty); of a 4xx/5xx it has no page for (420,
// 509, 599) with no body and no type; `return 408` and `return 499` close without an answer, and
// the access log's $status of 444, 408 and 499 is that code (tresty logged 000).
// tresty sent node's texts (`599 unknown`, `418 I'm a Teapot`) on node:http, `Unknown` from JS on
// the native engine, and the native engine's `return` sent a page for every status from 300.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** The answer's bytes up to the body, without Date and Server (they differ by name and time). */
function head(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      const end = got.indexOf('\r\n\r\n');
      resolve((end < 0 ? got : got.slice(0, end + 2)).replace(/^(?:Date|Server): [^\r]*\r\n/gm, ''));
    };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

const RETURNS = [203, 226, 299, 300, 306, 418, 420, 509, 599, 999, 408, 499];

/** What nginx sent for `return N;` (Date and Server left out). */
const RETURNED: Record<number, string> = {
  203: 'HTTP/1.1 203 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n',
  226: 'HTTP/1.1 226 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n',
  299: 'HTTP/1.1 299 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n',
  300: 'HTTP/1.1 300 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n',
  306: 'HTTP/1.1 306 \r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n',
  418: 'HTTP/1.1 418 \r\nContent-Length: 0\r\nConnection: close\r\n',
  420: 'HTTP/1.1 420 \r\nContent-Length: 0\r\nConnection: close\r\n',
  509: 'HTTP/1.1 509 \r\nContent-Length: 0\r\nConnection: close\r\n',
  599: 'HTTP/1.1 599 \r\nContent-Length: 0\r\nConnection: close\r\n',
  999: 'HTTP/1.1 999 \r\nContent-Length: 0\r\nConnection: close\r\n',
  408: '',
  499: '',
};

interface Target { port: number; access: string }

function checks(get: () => Target): void {
  for (const code of RETURNS) {
    it(`return ${code};`, async () => {
      expect(await head(get().port, `/r${code}`)).toBe(RETURNED[code]);
    });
  }

  it('ngx.status = 299 then output: `299 ` and the body', async () => {
    expect(await head(get().port, '/s299')).toMatch(/^HTTP\/1\.1 299 \r\nContent-Type: text\/plain\r\n/);
  });

  it('ngx.status = 599 then output: `599 `', async () => {
    expect(await head(get().port, '/s599')).toMatch(/^HTTP\/1\.1 599 \r\nContent-Type: text\/plain\r\n/);
  });

  it('ngx.exit(299): `299 ` with the default type', async () => {
    expect(await head(get().port, '/e299')).toMatch(/^HTTP\/1\.1 299 \r\nContent-Type: text\/plain\r\n/);
  });

  for (const code of [420, 509, 599]) {
    it(`ngx.exit(${code}): \`${code} \`, no body, no type`, async () => {
      expect(await head(get().port, `/e${code}`)).toBe(`HTTP/1.1 ${code} \r\nContent-Length: 0\r\nConnection: close\r\n`);
    });
  }

  it('444, 408 and 499 close without an answer; the access log has the code ($status) and the client', async () => {
    const { port, access } = get();
    for (const p of ['/r444', '/e444', '/e408', '/e499']) expect(await head(port, p)).toBe('');
    let text = '';
    for (let i = 0; i < 250 && !/\/e499 /.test(text); i++) {
      await new Promise((r) => setTimeout(r, 20));
      text = fs.existsSync(access) ? fs.readFileSync(access, 'latin1') : '';
    }
    // $remote_addr too: node:http forgot the peer of a cut connection (an empty field).
    for (const l of ['/r408 408', '/r499 499', '/r444 444', '/e444 444', '/e408 408', '/e499 499']) expect(text).toContain(`127.0.0.1 ${l}\n`);
  });

  it('a status nginx has words for keeps them (302, 405)', async () => {
    expect(await head(get().port, '/s302')).toMatch(/^HTTP\/1\.1 302 Moved Temporarily\r\n/);
    expect(await head(get().port, '/r405')).toMatch(/^HTTP\/1\.1 405 Not Allowed\r\n/);
  });
}

const FORMAT = "log_format st '$remote_addr $request_uri $status';";

function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const sep = lua ? ' ' : '; ';
  const block = (path: string, code: string): string => `location = ${path} { content_by_${by}_block { ${code} } }`;
  return [
    ...[...RETURNS, 405, 444].map((c) => `location = /r${c} { return ${c}; }`),
    block('/s299', `ngx.status = 299${sep}ngx.say("x")`),
    block('/s599', `ngx.status = 599${sep}ngx.say("x")`),
    block('/s302', `ngx.status = 302${sep}ngx.say("x")`),
    block('/e299', 'ngx.exit(299)'),
    ...[420, 509, 599, 444, 408, 499].map((c) => block(`/e${c}`, `ngx.exit(${c})`)),
  ].join('\n    ');
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the status line of unusual statuses'), () => {
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
describe.skipIf(missing !== null)(`the status line of unusual statuses, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`access_log __PREFIX__/access.log st;\n    ${locations(true)}`, FORMAT); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: path.join(n.prefix, 'access.log') }));
});
