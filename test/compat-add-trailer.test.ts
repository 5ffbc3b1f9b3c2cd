// add_trailer on both engines and on nginx 1.22 + lua with the same expectations (observed there
// first): an answer that expects trailers (a line for its status, or `always`, whose value as
// written is not empty) is chunked on HTTP/1.1, its length cleared, and ends with the lines whose
// value is not empty then; HEAD and HTTP/1.0 keep their length and get none; a status off nginx's
// list gets only the `always` lines (none: the length stays); a location with its own add_trailer
// drops the server's. HTTP/2 keeps the length and sends the lines as trailers. conf errors as nginx -t.
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxConfError, nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles, type TlsFiles } from './helpers/tls-files.js';

const HANDLERS = {
  chunk: ['ngx.say("a"); await ngx.flush(true); ngx.say("b");', 'ngx.say("a") ngx.flush(true) ngx.say("b")'],
  cl: ['ngx.header["Content-Length"] = 2; ngx.print("a\\n");', 'ngx.header["Content-Length"] = 2 ngx.print("a\\n")'],
} as const;

function locations(lang: 0 | 1): string {
  const by = lang === 0 ? 'js' : 'lua';
  return `
    add_trailer X-Srv outer;
    location /inh { return 200 "inh\\n"; }
    location = /ret { add_trailer X-T "v $uri"; add_trailer X-E ""; return 200 "ret\\n"; }
    location = /404 { add_trailer X-T v; add_trailer X-A a always; return 404; }
    location = /404n { add_trailer X-T v; return 404; }
    location = /chunk { add_trailer X-T $arg_v; content_by_${by}_block { ${HANDLERS.chunk[lang]} } }
    location = /cl { add_trailer X-T v; content_by_${by}_block { ${HANDLERS.cl[lang]} } }
    location /f/ { add_trailer X-F file; }
    location = /if { if ($arg_x) { add_trailer X-If yes; } return 200 "if\\n"; }`;
}

const FILES = { 'html/f/a.txt': 'hello\n' };
/** [request line target, version, method, the answer without Date, Server, Last-Modified, ETag];
 *  `sw`: the name server_tokens off puts in the error page. */
const cases = (sw: string): ReadonlyArray<readonly [string, string, string, string]> => {
  const page = `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>${sw}</center>\r\n</body>\r\n</html>\r\n`;
  return [
  ['/inh', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\ninh\n\r\n0\r\nX-Srv: outer\r\n\r\n'],
  ['/ret', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nret\n\r\n0\r\nX-T: v /ret\r\n\r\n'],
  ['/ret', '1.1', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\n'],
  ['/ret', '1.0', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nret\n'],
  ['/404', '1.1', 'GET', `HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${page.length.toString(16)}\r\n${page}\r\n0\r\nX-A: a\r\n\r\n`],
  ['/404n', '1.1', 'GET', `HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\nConnection: close\r\n\r\n${page}`],
  ['/chunk?v=1', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\na\n\r\n2\r\nb\n\r\n0\r\nX-T: 1\r\n\r\n'],
  // the value is empty at the end: no line, but the answer was chunked for it
  ['/chunk', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\na\n\r\n2\r\nb\n\r\n0\r\n\r\n'],
  ['/cl', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\na\n\r\n0\r\nX-T: v\r\n\r\n'],
  ['/cl', '1.0', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 2\r\n\r\na\n'],
  ['/f/a.txt', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nAccept-Ranges: bytes\r\n\r\n6\r\nhello\n\r\n0\r\nX-F: file\r\n\r\n'],
  ['/f/a.txt', '1.1', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\nAccept-Ranges: bytes\r\n\r\n'],
  ['/if?x=1', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nif\n\r\n0\r\nX-If: yes\r\n\r\n'],
  ['/if', '1.1', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nif\n\r\n0\r\nX-Srv: outer\r\n\r\n'],
  ];
};

function checks(port: () => number, software: string): void {
  for (const [target, v, m, want] of cases(software)) {
    it(`${m} ${target} HTTP/${v}`, async () => {
      const r = await raw(port(), [`${m} ${target} HTTP/${v}\r\nHost: h\r\nConnection: close\r\n\r\n`]);
      expect(r.data.replace(/^(Date|Server|Last-Modified|ETag): [^\r]*\r\n/gm, '')).toBe(want);
    });
  }
}

/** One HTTP/2 request: the head (no date, server), the trailers and the body. */
function h2Get(port: number, p: string): Promise<{ head: Record<string, unknown>; trailers: Record<string, unknown> | null; body: string }> {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    c.on('error', reject);
    const req = c.request({ ':path': p });
    let head: Record<string, unknown> = {};
    let trailers: Record<string, unknown> | null = null;
    let body = '';
    req.on('response', (h) => { const { date: _d, server: _s, 'last-modified': _l, etag: _e, ...rest } = h; head = Object.fromEntries(Object.entries(rest)); });
    req.on('trailers', (t) => { trailers = Object.fromEntries(Object.entries(t)); });
    req.setEncoding('latin1');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => { c.close(); resolve({ head, trailers, body }); });
    req.on('error', reject);
  });
}

function h2Checks(port: () => number): void {
  it('HTTP/2: the length stays, the lines come as trailers', async () => {
    expect(await h2Get(port(), '/ret')).toEqual({ head: { ':status': 200, 'content-type': 'text/plain', 'content-length': '4' }, trailers: { 'x-t': 'v /ret' }, body: 'ret\n' });
    expect(await h2Get(port(), '/chunk?v=2')).toEqual({ head: { ':status': 200, 'content-type': 'text/plain' }, trailers: { 'x-t': '2' }, body: 'a\nb\n' });
    expect(await h2Get(port(), '/f/a.txt')).toMatchObject({ head: { ':status': 200, 'content-length': '6' }, trailers: { 'x-f': 'file' }, body: 'hello\n' });
    const none = await h2Get(port(), '/chunk');
    expect(none.trailers === null || Object.keys(none.trailers).length === 0).toBe(true);
    expect(none.body).toBe('a\nb\n');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'add_trailer'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(oneServerConf(port, `root html; default_type text/plain; server_tokens off;${locations(0)}`), { env: e.env, files: FILES });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port, 'tresty');
  });
}

describe.skipIf(opensslMissing !== null)(`add_trailer over HTTP/2 (node:http2)${opensslMissing ? ` (skipped: ${opensslMissing})` : ''}`, () => {
  let t: TrestyProcess;
  let port = 0;
  let files: TlsFiles;
  beforeAll(async () => {
    files = tlsFiles('trailer');
    files.selfSigned('c', 'localhost');
    port = await freePort();
    t = await startTresty(oneServerConf(port, `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')}; root html; default_type text/plain;${locations(0)}`, { listen: ' ssl http2' }), { env: ENGINES[1]!.env, files: FILES });
  });
  afterAll(async () => { await t?.stop(); files?.remove(); });
  h2Checks(() => port);
});

const missing = nginxMissing() ?? opensslMissing;
describe.skipIf(missing !== null)(`add_trailer on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let h2port = 0;
  let files: TlsFiles;
  beforeAll(async () => {
    files = tlsFiles('trailer-ngx');
    files.selfSigned('c', 'localhost');
    h2port = await freePort();
    const body = `root __PREFIX__/html; default_type text/plain; server_tokens off;${locations(1)}`;
    n = await startNginx(body, `server { listen 127.0.0.1:${h2port} ssl http2; ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')}; ${body} }`, FILES);
  });
  afterAll(async () => { await n?.stop(); files?.remove(); });
  checks(() => n.port, 'nginx');
  h2Checks(() => h2port);
});

describe('add_trailer: conf errors as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { add_trailer X; }', /invalid number of arguments in "add_trailer" directive/],
    ['location / { add_trailer X v sometimes; }', /invalid parameter "sometimes"/],
    ['location / { add_trailer X $nosuchvar; }', /unknown "nosuchvar" variable/],
  ];
  const fine = ['location / { add_trailer X v always; }', 'add_trailer X v; location / { if ($arg_a) { add_trailer Y w; } }'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(re);
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
