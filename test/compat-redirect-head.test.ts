// The head of a redirect byte for byte (Date and the server's name set aside) on the native engine
// and on nginx 1.22 + lua with the same expectations. Observed on nginx: a Location given as a URL
// (error_page's `http://...`, with `=301` or the 302 default, `return 301 http://...`) is written
// in its header list, after Connection; one it makes absolute (`return 301 /rel`) goes before
// Connection, after Content-Length. Its 302 page's title says "302 Found" where the status line
// says "Moved Temporarily". Both engines (node:http's own Connection line is moved to nginx's
// place: head-order.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const SERVER = `client_max_body_size 10;
    location = /ep301 { error_page 404 =301 http://e.example/nf; }
    location = /ep302 { error_page 404 http://e.example/nf; }
    location = /ep413 { error_page 413 http://e.example/big; return 200 "x"; }
    location = /ret-url { return 301 http://e.example/r; }
    location = /ret-rel { return 302 /rel; }`;

/** The head with Date and Server's value set aside, the body's length checked against its header. */
function head(data: string): string {
  const at = data.indexOf('\r\n\r\n');
  const h = data.slice(0, at + 4);
  const body = data.slice(at + 4);
  expect(h).toContain(`\r\nContent-Length: ${body.length}\r\n`);
  return h.replace(/\r\nServer: [^\r]*\r\n/, '\r\nServer: S\r\n').replace(/\r\nDate: [^\r]*\r\n/, '\r\nDate: D\r\n')
    .replace(/\r\nContent-Length: \d+\r\n/, '\r\nContent-Length: N\r\n');
}

const get = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`;

function checks(port: () => number): void {
  it('error_page 404 =301 URL: Location after Connection', async () => {
    const r = await raw(port(), [get('/ep301')], { timeoutMs: 600, answers: 1 });
    expect(head(r.data)).toBe('HTTP/1.1 301 Moved Permanently\r\nServer: S\r\nDate: D\r\nContent-Type: text/html\r\nContent-Length: N\r\n'
      + 'Connection: keep-alive\r\nLocation: http://e.example/nf\r\n\r\n');
  });

  it('error_page 404 URL (302): Location after Connection, the page titled "302 Found"', async () => {
    const r = await raw(port(), [get('/ep302')], { timeoutMs: 600, answers: 1 });
    expect(head(r.data)).toBe('HTTP/1.1 302 Moved Temporarily\r\nServer: S\r\nDate: D\r\nContent-Type: text/html\r\nContent-Length: N\r\n'
      + 'Connection: keep-alive\r\nLocation: http://e.example/nf\r\n\r\n');
    expect(r.data).toMatch(/\r\n\r\n<html>\r\n<head><title>302 Found<\/title><\/head>\r\n<body>\r\n<center><h1>302 Found<\/h1><\/center>\r\n/);
  });

  it('error_page 413 URL for a body over the limit: Connection: close, then Location', async () => {
    const r = await raw(port(), [`POST /ep413 HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n${'b'.repeat(20)}`], { timeoutMs: 2500 });
    expect(head(r.data)).toBe('HTTP/1.1 302 Moved Temporarily\r\nServer: S\r\nDate: D\r\nContent-Type: text/html\r\nContent-Length: N\r\n'
      + 'Connection: close\r\nLocation: http://e.example/big\r\n\r\n');
  });

  it('return with a URL: Location after Connection; with a path made absolute: before it', async () => {
    const a = await raw(port(), [get('/ret-url')], { timeoutMs: 600, answers: 1 });
    expect(head(a.data)).toBe('HTTP/1.1 301 Moved Permanently\r\nServer: S\r\nDate: D\r\nContent-Type: text/html\r\nContent-Length: N\r\n'
      + 'Connection: keep-alive\r\nLocation: http://e.example/r\r\n\r\n');
    const b = await raw(port(), [get('/ret-rel')], { timeoutMs: 600, answers: 1 });
    expect(head(b.data)).toBe('HTTP/1.1 302 Moved Temporarily\r\nServer: S\r\nDate: D\r\nContent-Type: text/html\r\nContent-Length: N\r\n'
      + `Location: http://h:${port()}/rel\r\nConnection: keep-alive\r\n\r\n`);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a redirect\'s head'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    ${SERVER}\n  }\n}\n`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a redirect's head, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(SERVER); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
