// $request_completion in the access log, as nginx 1.22 + lua-nginx-module writes it (observed):
// "OK" for a request that ended normally (a `return`, a handler's output, ngx.exit(404), a static
// file, a refused request's 400), empty for one cut short (the client went mid-answer), for
// `return 444`, and for one that read the variable before its end (nginx caches the "" it gave:
// `return 200 "[$request_completion]"` answers `[]` and logs an empty field).
// The same checks run on both engines and on nginx.
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

/** Sends the bytes, stops reading at the answer's first bytes, and resets the connection once the
 *  server is held by the full buffers (200 ms later): an answer cut in the middle. */
function cutAnswer(port: number, bytes: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    s.once('data', () => { s.pause(); setTimeout(() => { s.resetAndDestroy(); resolve(); }, 200); });
    s.on('error', () => resolve());
  });
}

interface Target { port: number; access: () => string }

const FORMAT = `log_format rc '$arg_t [$request_completion] $status' ' $body_bytes_sent';`;

// big enough that the kernel's buffers cannot take it all before the client goes
const FILES = { 'html/f/x.txt': 'static!\n', 'html/f/big.bin': 'x'.repeat(20_000_000) };

const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`;

function checks(target: () => Target): void {
  // the tag, the variable and the status ($body_bytes_sent follows, for a failure's message)
  const line = async (tag: string): Promise<string> => (await lineFor(target().access, tag)).split(' ').slice(0, 3).join(' ');

  it('"OK" for a request that ended normally', async () => {
    const { port } = target();
    for (const t of ['ret', 'say', 'exit404', 'f/x.txt']) await exchange(port, get(`/${t}?t=${t.replace('/', '_')}`));
    await exchange(port, 'GET /bad line\r\nHost: h\r\n\r\n');
    expect(await line('ret')).toBe('ret [OK] 200');
    expect(await line('say')).toBe('say [OK] 200');
    expect(await line('exit404')).toBe('exit404 [OK] 404');
    expect(await line('f_x.txt')).toBe('f_x.txt [OK] 200');
  });

  it('empty when read before the end: the answer and the log both say so', async () => {
    const { port } = target();
    expect(await exchange(port, get('/retvar?t=rv'))).toMatch(/\r\n\r\n\[\]$/);
    expect(await exchange(port, get('/sayvar?t=sv'))).toMatch(/\r\n\r\n(?:[0-9a-f]+\r\n)?\[\]\n/);
    expect(await line('rv')).toBe('rv [] 200');
    expect(await line('sv')).toBe('sv [] 200');
  });

  it('empty for return 444 and for an answer the client cut', async () => {
    const { port } = target();
    await exchange(port, get('/r444?t=c444'));
    await cutAnswer(port, get('/f/big.bin?t=cfile'));
    await cutAnswer(port, get('/big?t=cbig'));
    expect(await line('c444')).toBe('c444 [] 444');
    expect(await line('cfile')).toBe('cfile [] 200');
    expect(await line('cbig')).toBe('cbig [] 200');
  });
}

function locations(lua: boolean): string {
  const common = `location /f/ { root __ROOT__; }
    location /ret { return 200 "x"; }
    location /retvar { return 200 "[$request_completion]"; }
    location /r444 { return 444; }`;
  return common + (lua
    ? `
    location /say { content_by_lua_block { ngx.say("ok") } }
    location /sayvar { content_by_lua_block { ngx.say("[", ngx.var.request_completion, "]") } }
    location /exit404 { content_by_lua_block { ngx.exit(404) } }
    location /big { content_by_lua_block { local s = string.rep("x", 65536) for i = 1, 300 do ngx.print(s) ngx.flush(true) end } }`
    : `
    location /say { content_by_js_block { ngx.say("ok"); } }
    location /sayvar { content_by_js_block { ngx.say("[", ngx.var.request_completion, "]"); } }
    location /exit404 { content_by_js_block { ngx.exit(404); } }
    location /big { content_by_js_block { const s = "x".repeat(65536); for (let i = 0; i < 300; i++) { ngx.print(s); await ngx.flush(true); } } }`);
}

const readLog = (file: string) => (): string => { try { return fs.readFileSync(file, 'latin1'); } catch { return ''; } };

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, '$request_completion'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  ${FORMAT}
  access_log logs/access.log rc;
  server {
    listen 127.0.0.1:${port};
    ${locations(false).replace('__ROOT__', 'html')}
  }
}
`, { env: e.env, files: FILES });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, access: readLog(path.join(t.prefix, 'logs/access.log')) }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`$request_completion on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`access_log __PREFIX__/access.log rc;\n    ${locations(true).replace('__ROOT__', '__PREFIX__/html')}`, FORMAT, FILES);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: readLog(path.join(n.prefix, 'access.log')) }));
});
