// The second wave of nginx directives in one conf, run by the real bin/tresty.js on both HTTP
// engines and, in its Lua form, by nginx 1.22 + lua-nginx-module with the same expectations:
// limit_rate (conf and ngx.var.limit_rate) paces the body (a lower bound on the time, never a
// throughput) while other requests are served; recursive_error_pages; the accepted-no-effect
// directives load and change nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, makePrefix, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';

const BIG = 'y'.repeat(40 * 1024);
const K08 = 'k'.repeat(800);
const K18 = 'k'.repeat(1800);
const files = { 'html/index.html': 'home\n', 'html/slow/big.txt': BIG, 'html/slow/k08.txt': K08, 'html/slow/k18.txt': K18 };

/** The server's body; X is js or lua, and the handlers' code differs by language. */
const server = (x: 'js' | 'lua', prefix: string, port: string): string => `
    server_name localhost;
    root ${prefix}html;
    ssl_buffer_size 4k;
    location / { sendfile_max_chunk 512k; client_body_in_single_buffer on; open_log_file_cache off; }
    location /slow/ { limit_rate 20k; }
    location /raw/ { alias ${prefix}html/slow/; }
    location /r1k/ { alias ${prefix}html/slow/; limit_rate 1000; }
    location /r1ka/ { alias ${prefix}html/slow/; limit_rate 1000; limit_rate_after 800; }
    location /r1s/ { alias ${prefix}html/slow/; set $limit_rate 1000; }
    location = /proxied { limit_rate 20k; proxy_pass http://127.0.0.1:${port}/raw/big.txt; }
    location = /var {
      content_by_${x}_block { ngx.var.limit_rate = 20480; ngx.print(${x === 'js' ? '"z".repeat(40960)' : 'string.rep("z", 40960)'}) }
    }
    location = /rv {
      limit_rate 8k;
      content_by_${x}_block { ngx.say(ngx.var.limit_rate); ngx.var.limit_rate = "4k"; ngx.say(ngx.var.limit_rate); ngx.var.limit_rate = "bad"; ngx.say(ngx.var.limit_rate) }
    }
    location = /e1 { recursive_error_pages on; error_page 404 /e2; return 404; }
    location = /n1 { error_page 404 /e2; return 404; }
    location = /e2 { error_page 403 /e3; return 403; }
    location = /e3 { return 200 "e3\\n"; }
    location = /p { proxy_socket_keepalive on; proxy_temp_file_write_size 16k; return 200 "p\\n"; }`;

interface Target { port: number; errorLog: () => string }

function suite(t: () => Target): void {
  it('limit_rate 20k: a 40 KB static file takes at least 0.5 s, and another request is served meanwhile', async () => {
    const t0 = Date.now();
    const slow = httpGet(t().port, '/slow/big.txt', { timeoutMs: 20_000 }).then((r) => ({ r, ms: Date.now() - t0 }));
    await new Promise((res) => setTimeout(res, 100));
    const other = await httpGet(t().port, '/e3');
    const otherMs = Date.now() - t0;
    expect(other.body).toBe('e3\n');
    const { r, ms } = await slow;
    expect(r.body).toBe(BIG);
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(otherMs).toBeLessThan(ms);
  });

  it('limit_rate counts the head too (nginx\'s c->sent): 800 bytes of body at 1000 a second take a second', async () => {
    // The head (~200 bytes) and the body pass 1000: the rest waits for the next second, as on
    // nginx 1.22 (observed; 700 bytes go at once there). limit_rate_after 800 with 1800 bytes:
    // the head counts there too.
    // `set $limit_rate` sets the request's rate, as ngx.var does.
    // nginx counts whole seconds: a request that starts late in a second and writes in the next
    // may send 2 seconds' worth at once (nginx too). Start early in a second, so only a delay of
    // over 0.7 s on a loaded machine could cross it (a CI run saw 73 ms once, started late). The
    // three go at once (each request has its own rate), so one second is waited, not three.
    const late = Date.now() % 1000;
    if (late > 300) await new Promise((res) => setTimeout(res, 1010 - late));
    await Promise.all([['/r1k/k08.txt', K08], ['/r1ka/k18.txt', K18], ['/r1s/k08.txt', K08]].map(async ([p, body]) => {
      const t0 = Date.now();
      expect((await httpGet(t().port, p!, { timeoutMs: 20_000 })).body, p).toBe(body);
      expect(Date.now() - t0, p).toBeGreaterThanOrEqual(500);
    }));
  });

  it('limit_rate paces a proxied answer too, byte for byte', async () => {
    const t0 = Date.now();
    const r = await httpGet(t().port, '/proxied', { timeoutMs: 20_000 });
    expect(r.body).toBe(BIG);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('ngx.var.limit_rate set by a handler paces its answer', async () => {
    const t0 = Date.now();
    const r = await httpGet(t().port, '/var', { timeoutMs: 20_000 });
    expect(r.body).toBe('z'.repeat(40960));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('$limit_rate reads the request\'s rate and takes a size from ngx.var; a bad one changes nothing', async () => {
    const r = await httpGet(t().port, '/rv');
    expect(r.body).toBe('0\n4096\n4096\n');
    await expect.poll(() => t().errorLog()).toMatch(/\[error\] .*invalid \$limit_rate "bad", client: 127\.0\.0\.1/);
  });

  it('recursive_error_pages on lets the error page\'s own error use error_page; off does not', async () => {
    const on = await httpGet(t().port, '/e1');
    // The status is the last error's (nginx's err_status), the body the last page's.
    expect([on.status, on.body]).toEqual([403, 'e3\n']);
    const off = await httpGet(t().port, '/n1');
    expect(off.status).toBe(403);
    expect(off.body).toMatch(/403 Forbidden/);
  });

  it('the accepted directives change nothing', async () => {
    expect((await httpGet(t().port, '/')).body).toBe('home\n');
    expect((await httpGet(t().port, '/p')).body).toBe('p\n');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'limit_rate, recursive_error_pages and accepted directives'), () => {
    let tr: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      const conf = `worker_processes 1;
error_log logs/error.log info;
events {}
http {
  open_log_file_cache max=10 inactive=20s min_uses=1 valid=1m;
  server {
    listen 127.0.0.1:${port};
${server('js', '', String(port))}
  }
}
`;
      tr = await startTresty(conf, { env: e.env, files });
    });
    afterAll(async () => { await tr?.stop(); });
    suite(() => ({ port, errorLog: () => { try { return fs.readFileSync(path.join(tr.prefix, 'logs/error.log'), 'utf8'); } catch { return ''; } } }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the same on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(server('lua', '__PREFIX__/', '__PORT__'), 'open_log_file_cache max=10 inactive=20s min_uses=1 valid=1m;', files);
  });
  afterAll(async () => { await n?.stop(); });
  suite(() => ({ port: n.port, errorLog: () => n.errorLog() }));
});

describe('a module tresty does not have', () => {
  it('tresty -t names the directive, the module, the tresty way and file:line; the off forms pass', async () => {
    const p = makePrefix(`events {}\nhttp {\n  server {\n    listen 127.0.0.1:1;\n    autoindex off;\n    location ~ \\.php$ {\n      fastcgi_pass unix:/run/php/php-fpm.sock;\n    }\n  }\n}\n`);
    const r = await runTresty(['-p', p, '-t']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/"fastcgi_pass" directive: tresty does not have nginx's fastcgi module; .*proxy_pass.* in .*conf\/nginx\.conf:7/);
  });
});
