// The connection's variables ($connection, $connection_requests, $connection_time, $pipe, $http2,
// $request_id, $nginx_version), held to nginx 1.22 + lua (observed): three requests pipelined in
// one write are requests 1, 2, 3 of one connection, the last two `p`; two sent one after the other
// are both `.`; HTTP/2 streams count as their connection's requests, `h2`; $request_id is 32 hex
// digits, new per request and the same in the access log. tresty knew none of them (each read as
// empty, `-` in the log).
import http2 from 'node:http2';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';

const certs = tlsFiles('connvars');
if (opensslMissing === null) certs.selfSigned('c', 'a.test');
afterAll(() => certs.remove());

const VARS = ['request_id', 'connection', 'connection_requests', 'connection_time', 'pipe', 'http2', 'nginx_version'];
const FORMAT = `log_format cv '$request_uri ${VARS.map((v) => `$${v}`).join(' ')}';`;
const body = (js: boolean): string => js
  ? `content_by_js_block { ngx.say(${VARS.map((v) => `ngx.var.${v}`).join(', " ", ')}); }`
  : `content_by_lua_block { ngx.say(${VARS.map((v) => `ngx.var.${v}`).join(', " ", ')}) }`;
const servers = (tls: number, js: boolean, log: string): string => `
    access_log ${log} cv;
    location / { ${body(js)} }
  }
  server { listen 127.0.0.1:${tls} ssl http2; ssl_certificate ${certs.file('c.crt')}; ssl_certificate_key ${certs.file('c.key')};
    access_log ${log} cv;
    location / { ${body(js)} }`;

type Row = { id: string; conn: string; reqs: string; time: string; pipe: string; h2: string; ver: string };
const row = (line: string): Row => {
  const [id, conn, reqs, time, pipe, h2, ver] = line.trim().split(' ');
  return { id: id!, conn: conn!, reqs: reqs!, time: time!, pipe: pipe!, h2: h2 === undefined || h2 === '' ? '' : h2, ver: ver! };
};

/** `requests` written at once on one connection; the bodies of the answers, in order. */
function raw(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(requests.join('')));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    s.on('error', reject);
    s.on('close', () => resolve([...got.matchAll(/\r\n\r\n(?:[0-9a-f]+\r\n)?([0-9a-f]{32} [^\r\n]*)\n/g)].map((m) => m[1]!)));
  });
}
const get = (p: string, close = false): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

function h2get(port: number, paths: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    c.on('error', reject);
    const out: string[] = [];
    const next = (i: number): void => {
      if (i === paths.length) { c.close(); resolve(out); return; }
      const s = c.request({ ':path': paths[i]! });
      let b = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => { b += d; });
      s.on('end', () => { out.push(b.replace(/\n$/, '')); next(i + 1); });
      s.on('error', reject);
    };
    next(0);
  });
}

function checks(target: () => { port: number; tls: number; access: () => string }): void {
  it('three requests pipelined in one write: requests 1, 2, 3 of one connection, the last two `p`', async () => {
    const rows = (await raw(target().port, [get('/p1'), get('/p2'), get('/p3', true)])).map(row);
    expect(rows.map((r) => [r.reqs, r.pipe, r.h2, r.ver])).toEqual([['1', '.', '', '1.22.1'], ['2', 'p', '', '1.22.1'], ['3', 'p', '', '1.22.1']]);
    expect(new Set(rows.map((r) => r.conn)).size).toBe(1);
    expect(rows[0]!.conn).toMatch(/^[1-9]\d*$/);
    for (const r of rows) expect(r.time).toMatch(/^\d+\.\d{3}$/);
  });

  it('one request 300 ms after the other\'s answer: `.` both, requests 1 and 2, $connection_time from the connection\'s start; a new connection has another number', async () => {
    const s = net.connect(target().port, '127.0.0.1');
    s.setEncoding('latin1');
    let got = '';
    s.on('data', (d: string) => { got += d; });
    await new Promise((r) => s.once('connect', r));
    s.write(get('/s1'));
    for (let i = 0; i < 100 && !/[0-9a-f]{32} [^\n]*\n/.test(got); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    s.write(get('/s2', true));
    await new Promise((r) => s.once('close', r));
    const rows = [...got.matchAll(/([0-9a-f]{32} [^\r\n]*)\n/g)].map((m) => row(m[1]!));
    expect(rows.map((r) => [r.reqs, r.pipe])).toEqual([['1', '.'], ['2', '.']]);
    // $connection_time counts from the connection's start: the second request came 300 ms later
    expect(Number(rows[1]!.time)).toBeGreaterThanOrEqual(0.29);
    expect(Number(rows[1]!.time)).toBeLessThan(5);
    const other = row((await raw(target().port, [get('/s3', true)]))[0]!);
    expect(other.conn).not.toBe(rows[0]!.conn);
    expect(other.reqs).toBe('1');
  });

  it.skipIf(opensslMissing !== null)('HTTP/2: streams are requests 1 and 2 of their connection, `h2`, `.`', async () => {
    const rows = (await h2get(target().tls, ['/h1', '/h2'])).map(row);
    expect(rows.map((r) => [r.reqs, r.pipe, r.h2])).toEqual([['1', '.', 'h2'], ['2', '.', 'h2']]);
    expect(rows[0]!.conn).toBe(rows[1]!.conn);
  });

  it('$request_id: 32 hex digits, new per request, the same in the access log', async () => {
    const rows = (await raw(target().port, [get('/i1'), get('/i2', true)])).map(row);
    expect(rows[0]!.id).not.toBe(rows[1]!.id);
    const log = await eventually(target().access, /^\/i2 /m);
    expect(log).toContain(`/i1 ${rows[0]!.id} ${rows[0]!.conn} 1 `);
    expect(log).toContain(`/i2 ${rows[1]!.id} ${rows[1]!.conn} 2 `);
  });
}

async function eventually(read: () => string, re: RegExp): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const t = read();
    if (re.test(t)) return t;
    await new Promise((r) => setTimeout(r, 30));
  }
  return read();
}
const readOr = (file: string): string => { try { return fs.readFileSync(file, 'utf8'); } catch { return ''; } };

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the connection\'s variables'), () => {
    let t: TrestyProcess | undefined;
    let port = 0;
    let tls = 0;
    beforeAll(async () => {
      port = await freePort();
      tls = await freePort();
      const h2 = opensslMissing === null ? servers(tls, true, 'logs/cv.log') : 'access_log logs/cv.log cv; location / { ' + body(true) + ' }';
      t = await startTresty(`worker_processes 1; events {} http { ${FORMAT} server { listen 127.0.0.1:${port}; ${h2} } }`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, tls, access: () => readOr(path.join(t!.prefix, 'logs/cv.log')) }));
  });
}

const missing = nginxMissing() ?? opensslMissing;
describe.skipIf(missing !== null)(`the connection's variables, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let tls = 0;
  beforeAll(async () => {
    tls = await freePort();
    n = await startNginx(servers(tls, false, '__PREFIX__/cv.log'), FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, tls, access: () => readOr(path.join(n.prefix, 'cv.log')) }));
});
