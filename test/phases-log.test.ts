// The log phase and the worker's lifetime: access logs (combined by default, log_format
// templates, variables set in log_by_js), HEAD, and timers fired prematurely on graceful quit.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, errorLogOf } from './helpers/phases-harness.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

describe('log phase', () => {
  let t: TrestyProcess;
  let port: number;
  const read = (f: string): string => {
    try { return fs.readFileSync(path.join(t.prefix, 'logs', f), 'utf8'); } catch { return ''; }
  };
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(confFor(port, {
      http: `log_format custom '$request_method $uri $status $body_bytes_sent [$logged] "$http_x_q"';`,
    }, [{
      name: 'x', requests: [],
      conf: `location = /combined { access_log logs/combined.log; content_by_js_block { ngx.say("c") } }
      location = /custom {
        set $logged "";
        access_log logs/custom.log custom;
        content_by_js_block { ngx.print("12345") }
        log_by_js_block { ngx.var.logged = "from-log " + ngx.status }
      }
      location = /etag.txt { access_log off; root html; }
      location = /head { access_log off; content_by_js_block { ngx.header["X-H"] = "1"; ngx.say("not sent on HEAD") } }`,
    }]), { files: { 'html/etag.txt': 'tagged\n' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('a static file answers 304 to a matching If-None-Match, without type or body', async () => {
    const first = await httpGet(port, '/etag.txt');
    expect(first.body).toBe('tagged\n');
    const etag = String(first.headers.etag);
    const again = await httpGet(port, '/etag.txt', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers['content-type']).toBeUndefined();
    expect(again.body).toBe('');
    const since = await httpGet(port, '/etag.txt', { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } });
    expect(since.status).toBe(304);
  });

  // $body_bytes_sent counts the chunks' framing, as nginx's: `ngx.say("c")` logs 12
  // (`2\r\nc\n\r\n0\r\n\r\n`), `ngx.print("12345")` 15 (nginx 1.22 + lua-nginx-module, observed).
  it('the combined format by default', async () => {
    for (let round = 0; round < 2; round++) {
      await httpGet(port, '/combined?a=1', { headers: { 'User-Agent': 'ua-test', Referer: 'http://r/' } });
      await expect.poll(() => read('combined.log').split('\n').filter(Boolean).length, { timeout: 3000 }).toBe(round + 1);
    }
    expect(read('combined.log')).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/combined\?a=1 HTTP\/1\.1" 200 12 "http:\/\/r\/" "ua-test"\n/);
  });

  it('log_format with variables, one set in log_by_js; quotes escaped as nginx does', async () => {
    await httpGet(port, '/custom', { headers: { 'X-Q': 'say "hi"' } });
    await expect.poll(() => read('custom.log'), { timeout: 3000 }).toBe('GET /custom 200 15 [from-log 200] "say \\x22hi\\x22"\n');
  });

  it('HEAD gets the headers and no body', async () => {
    const r = await httpGet(port, '/head', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['x-h']).toBe('1');
    // nginx + lua-nginx-module sends neither a length nor chunks to HEAD for a handler's output
    // (observed: `HEAD` of `ngx.say("x")` answers `Content-Type` and `Connection` only).
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.body).toBe('');
  });
});

describe('timers on shutdown', () => {
  it('a graceful quit runs pending timers at once with premature = true', async () => {
    const port = await freePort();
    const t = await startTresty(confFor(port, {
      http: `init_worker_by_js_block {
        ngx.timer.at(3600, function (premature, tag) { this.log(ngx.NOTICE, "timer ", tag, " premature=", premature) }, "t1");
      }`,
    }, []));
    try {
      expect((await httpGet(port, '/')).status).toBe(404);
      t.child.kill('SIGQUIT');
      await t.exited;
      expect(errorLogOf(t)).toContain('timer t1 premature=true');
    } finally {
      await t.stop();
    }
  });
});
