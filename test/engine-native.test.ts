// The native engine's own answers, through the real server: static files from `root`, `return`
// with a constant text, and the error pages of both, with nginx's headers, logs and access-log
// lines. (Which locations the engine answers alone is tested in engine-plan.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

describe.skipIf(!ENGINE_BUILT)(`native answers${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  const logs = (f: string): string => fs.readFileSync(path.join(t.prefix, 'logs', f), 'utf8');

  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
http {
  access_log logs/access.log;
  types { text/x-custom cus; }
  server {
    listen 127.0.0.1:${port};
    server_name www.test;
    root html;
    location / { }
    location = /ret { return 200 "constant\\n"; }
    location = /redir { return 301 /elsewhere; }
    location = /gone { return 410; }
    location = /empty { return 204; }
    location /js/ { log_by_js_block { } }
  }
}
`, { files: {
      'html/index.html': '<p>home</p>\n',
      'html/a.txt': 'alpha\n',
      'html/b.cus': 'custom type\n',
      'html/noext': 'no extension\n',
      'html/sub/index.html': 'sub index\n',
      'html/private/x.txt': 'x\n',
      'html/js/a.txt': 'through JS\n',
    } });
  });
  afterAll(async () => { await t?.stop(); });

  it('serves a file with nginx headers: type by extension, length, Last-Modified, ETag', async () => {
    const r = await httpGet(port, '/a.txt');
    expect(r.status).toBe(200);
    expect(r.body).toBe('alpha\n');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['content-length']).toBe('6');
    expect(r.headers.server).toBe('tresty');
    const st = fs.statSync(path.join(t.prefix, 'html/a.txt'));
    const sec = Math.floor(st.mtimeMs / 1000);
    expect(r.headers['last-modified']).toBe(new Date(sec * 1000).toUTCString());
    expect(r.headers.etag).toBe(`"${sec.toString(16)}-6"`);
    expect((await httpGet(port, '/b.cus')).headers['content-type']).toBe('text/x-custom');
    expect((await httpGet(port, '/noext')).headers['content-type']).toBe('text/plain'); // default_type
  });

  it('answers HEAD with the headers only, and conditional GETs with 304', async () => {
    const head = await raw(port, ['HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(head.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.data).toMatch(/\r\nContent-Length: 6\r\n/);
    expect(head.data.endsWith('\r\n\r\n')).toBe(true);
    const first = await httpGet(port, '/a.txt');
    const inm = await httpGet(port, '/a.txt', { headers: { 'If-None-Match': String(first.headers.etag) } });
    expect(inm.status).toBe(304);
    expect(inm.body).toBe('');
    const ims = await httpGet(port, '/a.txt', { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } });
    expect(ims.status).toBe(304);
    const stale = await httpGet(port, '/a.txt', { headers: { 'If-None-Match': '"nope"', 'If-Modified-Since': String(first.headers['last-modified']) } });
    expect(stale.status).toBe(200); // If-None-Match decides when both are sent
  });

  it('index files, 301 for a directory (with its args), 403 for a directory without index, 404, 405', async () => {
    expect((await httpGet(port, '/')).body).toBe('<p>home</p>\n');
    expect((await httpGet(port, '/sub/')).body).toBe('sub index\n');
    const dir = await httpGet(port, '/sub?x=1');
    expect(dir.status).toBe(301);
    expect(dir.headers.location).toBe(`http://127.0.0.1:${port}/sub/?x=1`);
    expect(dir.body).toContain('<title>301 Moved Permanently</title>');
    const forbidden = await httpGet(port, '/private/');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('<center><h1>403 Forbidden</h1></center>\r\n<hr><center>tresty</center>');
    expect((await httpGet(port, '/missing')).status).toBe(404);
    const post = await httpGet(port, '/a.txt', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.body).toContain('405 Not Allowed');
    await expect.poll(() => logs('error.log')).toMatch(/\[error\] \d+#0: \*\d+ directory index of ".*\/html\/private\/" is forbidden, client: 127\.0\.0\.1, server: www\.test, request: "GET \/private\/ HTTP\/1\.1", host: "127\.0\.0\.1:\d+"/);
    expect(logs('error.log')).toMatch(/\[error\] \d+#0: \*\d+ open\(\) ".*\/html\/missing" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: www\.test, request: "GET \/missing HTTP\/1\.1"/);
  });

  it('return: a constant text, a redirect made absolute, an error page, an empty 204', async () => {
    const r = await httpGet(port, '/ret');
    expect([r.status, r.body, r.headers['content-type']]).toEqual([200, 'constant\n', 'text/plain']);
    const red = await httpGet(port, '/redir', { headers: { Host: 'example.org:8080' } });
    expect(red.status).toBe(301);
    // nginx (1.22 + lua, tried): the Host's name, the port the request came in on (port_in_redirect).
    expect(red.headers.location).toBe(`http://example.org:${port}/elsewhere`);
    const gone = await httpGet(port, '/gone');
    expect(gone.status).toBe(410);
    expect(gone.body).toContain('<title>410 Gone</title>');
    const empty = await raw(port, ['GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(statuses(empty.data)).toEqual([204]);
    expect(empty.data).not.toMatch(/Content-Length|Content-Type/);
  });

  it('writes the access log lines of its own answers (combined format)', async () => {
    await httpGet(port, '/a.txt', { headers: { 'User-Agent': 'engine-test/1', Referer: 'http://ref/' } });
    await expect.poll(() => logs('access.log')).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/a\.txt HTTP\/1\.1" 200 6 "http:\/\/ref\/" "engine-test\/1"$/m);
    expect(logs('access.log')).toMatch(/"GET \/missing HTTP\/1\.1" 404 \d+ /);
  });

  it('access-logs the requests it refuses, as nginx does (the 494 is logged as 400)', async () => {
    const bad = await raw(port, ['GET /x HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n']);
    expect(statuses(bad.data)).toEqual([400]);
    const dotdot = await raw(port, ['GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(statuses(dotdot.data)).toEqual([400]);
    // Both lines are written by the log's batched writer, each when its own batch goes out.
    await expect.poll(() => logs('access.log')).toMatch(/"GET \/x HTTP\/1\.1" 400 \d+ "-" "-"$/m);
    await expect.poll(() => logs('access.log')).toMatch(/"GET \/\.\.\/etc\/passwd HTTP\/1\.1" 400 /);
  });

  it('keeps the connection for the next request, also pipelined', async () => {
    const r = await raw(port, ['GET /ret HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(statuses(r.data)).toEqual([200, 200, 404]);
    expect(r.closed).toBe(true);
  });

  it('a pipelined request behind an answer JS made from a file read is served (no new event comes for it)', async () => {
    // /js/ has a log_by_js handler, so JS serves its files: the answer ends in a poll callback.
    const r = await raw(port, ['GET /js/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /js/a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /js/missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(statuses(r.data)).toEqual([200, 200, 404]);
    expect(r.data.split('through JS\n')).toHaveLength(3);
    expect(r.closed).toBe(true);
  });
});
