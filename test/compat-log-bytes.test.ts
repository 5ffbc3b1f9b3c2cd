// Bytes above ASCII a client sent, in the logs, byte for byte as nginx writes them: raw in the
// error log's context and details (nginx does not escape there), `\xHH` (upper case) in the access
// log. nginx 1.22 + lua-nginx-module, observed (bytes shown as \xHH here, raw in the file):
//   [info] client sent invalid header line: "Bad\xE9\x20..." while reading client request headers,
//       ..., request: "GET /\xE9\xFF HTTP/1.1", host: "x"         (the first \xE9 a raw byte)
//   [lua] ...: x, client: 127.0.0.1, server: , request: "GET /log HTTP/1.1", host: "h",
//       referrer: "http://r/\xE9\xFF"                              (raw bytes)
//   access log: "GET /\xE9\xFF HTTP/1.1" ... "http://r/\xE9\xFF" (escaped, as written)
// tresty read them as latin1 and wrote them as UTF-8 (0xE9 became C3 A9). Checked on both engines
// and on nginx with the same expectations; node's parser refuses a byte above ASCII in the target
// or a header name (compat-node-refusals.test.ts), so those checks run on the native engine only.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

/** Sends latin1 bytes, resolves with the answer once the server closes (or after 3 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

/** A file's bytes, one char per byte. */
function bytesOf(file: string): string {
  try { return fs.readFileSync(file).toString('latin1'); } catch { return ''; }
}

async function until(read: () => string, re: RegExp): Promise<string> {
  const end = Date.now() + 5000;
  for (;;) {
    const text = read();
    if (re.test(text) || Date.now() > end) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Target { port: number; errors: () => string; access: () => string }

const FORMAT = `log_format bytes '$request "$http_referer" "$http_user_agent" $arg_q';`;

function checks(get: () => Target, lua: boolean, node: boolean): void {
  const said = lua ? '\\[lua\\] [^\\n]*: x' : '\\[js\\] [^\\n]*: x';
  it('a handler\'s line: the referrer\'s bytes raw; the access log escapes them', async () => {
    const { port, errors, access } = get();
    await raw(port, 'GET /log?q=a%E9 HTTP/1.1\r\nHost: h\r\nReferer: http://r/\xe9\xff\r\nUser-Agent: \xc3\xa9\r\nConnection: close\r\n\r\n');
    const e = await until(errors, /referrer: /);
    expect(e).toMatch(new RegExp(`${said}, client: 127\\.0\\.0\\.1, server: , request: "GET /log\\?q=a%E9 HTTP/1\\.1", host: "h", referrer: "http://r/\xe9\xff"\\n`));
    const a = await until(access, /GET \/log\?q=/);
    expect(a).toContain('GET /log?q=a%E9 HTTP/1.1 "http://r/\\xE9\\xFF" "\\xC3\\xA9" a%E9\n');
  });

  it.skipIf(node)(`bytes above ASCII in the target and a refused header name${node ? ' (skipped on node:http: its parser refuses the target itself)' : ''}`, async () => {
    const { port, errors, access } = get();
    const r = await raw(port, 'GET /\xe9\xff HTTP/1.1\r\nHost: x\r\nBad\xe9 Header: x\r\n\r\n');
    expect(r).toMatch(/^HTTP\/1\.1 400 /);
    const e = await until(errors, /invalid header line: "Bad/);
    expect(e).toMatch(/client sent invalid header line: "Bad\xe9\\x20\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: , request: "GET \/\xe9\xff HTTP\/1\.1", host: "x"\n/);
    const a = await until(access, /GET \/\\xE9/);
    expect(a).toContain('GET /\\xE9\\xFF HTTP/1.1 "-" "-" -\n');
  });
}

function locations(lua: boolean): string {
  const say = lua ? 'ngx.log(ngx.ERR, "x") ngx.say("ok")' : 'ngx.log(ngx.ERR, "x"); ngx.say("ok");';
  return `location / { content_by_${lua ? 'lua' : 'js'}_block { ${say} } }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'client bytes above ASCII in the logs'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ${FORMAT}
  access_log logs/access.log bytes;
  server {
    listen 127.0.0.1:${port};
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({
      port, errors: () => bytesOf(path.join(t.prefix, 'logs/error.log')), access: () => bytesOf(path.join(t.prefix, 'logs/access.log')),
    }), false, e.name === 'node:http');
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`client bytes above ASCII in the logs, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`access_log __PREFIX__/access.log bytes;\n    ${locations(true)}`, FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, errors: () => bytesOf(path.join(n.prefix, 'error.log')), access: () => bytesOf(path.join(n.prefix, 'access.log')) }), true, false);
});
