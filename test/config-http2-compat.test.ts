// nginx 1.22's other HTTP/2 directives (src/config/directives-http2-compat.ts): the obsolete ones
// and a push asked for are ignored with nginx's [warn] naming file:line (before, each was tresty's
// "unknown directive" and the conf did not load); the sizes are checked with nginx's messages.
// The warnings are printed by `tresty -t` and logged at start and at a reload, as nginx does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, loadConfText, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxConfWarnings, nginxMissing } from './helpers/nginx.js';
import { freePort, httpGet, runTresty, startTresty, type TrestyProcess } from './helpers/server.js';
import { withTempDir } from './helpers/temp-dir.js';
import fs from 'node:fs';
import path from 'node:path';

const load = (conf: string) => loadConfText(conf, { inConf: true });
const errorOf = (conf: string) => confErrorOf(conf, { inConf: true });

const OBSOLETE_HTTP = 'http2_idle_timeout 3m; http2_max_requests 100; http2_recv_timeout 5s;';
const OBSOLETE_SERVER = 'http2_max_field_size 4k; http2_max_header_size 16k;';
const TUNING = 'http2_chunk_size 8k; http2_recv_buffer_size 256k; http2_streams_index_size 32; http2_max_concurrent_pushes 10; http2_push_preload off;';
const PUSH = 'location / { http2_push /a.css; http2_push /b.js; http2_push_preload on; return 200; }';

const WARNINGS = [
  'the "http2_idle_timeout" directive is obsolete, use the "keepalive_timeout" directive instead',
  'the "http2_max_requests" directive is obsolete, use the "keepalive_requests" directive instead',
  'the "http2_recv_timeout" directive is obsolete, use the "client_header_timeout" directive instead',
  'the "http2_max_field_size" directive is obsolete, use the "large_client_header_buffers" directive instead',
  'the "http2_max_header_size" directive is obsolete, use the "large_client_header_buffers" directive instead',
  'the "http2_push" directive is obsolete, ignored',
  'the "http2_push" directive is obsolete, ignored',
  'the "http2_push_preload" directive is obsolete, ignored',
];

describe('HTTP/2 directives nginx 1.22 takes', () => {
  it('load, with nginx\'s [warn] for the obsolete ones and a push, each naming file:line', () => {
    const c = load(serverConf(`${OBSOLETE_SERVER}\n${PUSH}`, `${OBSOLETE_HTTP} ${TUNING}`));
    expect(c.warnings.map((w) => w.replace(/ in \S+:\d+$/, ''))).toEqual(WARNINGS);
    expect(c.warnings[0]).toMatch(/ in \S+\/conf\/nginx\.conf:1$/);
    expect(c.warnings[3]).toMatch(/ in \S+\/conf\/nginx\.conf:3$/);
    expect(c.warnings[5]).toMatch(/ in \S+\/conf\/nginx\.conf:4$/);
  });

  it('`off` asks for no push: no warning', () => {
    expect(load(serverConf('location / { http2_push off; http2_push_preload off; }')).warnings).toEqual([]);
  });

  it('bad values and places are nginx\'s errors', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['', 'http2_chunk_size 0;', /^the http2 chunk size cannot be zero in .*:1$/],
      ['', 'http2_chunk_size abc;', /^"http2_chunk_size" directive invalid value in /],
      ['', 'http2_recv_buffer_size 10;', /^"http2_recv_buffer_size" directive value is too small in /],
      ['http2_recv_buffer_size 256k;', '', /^"http2_recv_buffer_size" directive is not allowed here in .*:3$/],
      ['', 'http2_streams_index_size 33;', /^"http2_streams_index_size" directive must be a power of two in /],
      ['', 'http2_streams_index_size x;', /^"http2_streams_index_size" directive invalid number in /],
      ['location / { http2_streams_index_size 32; }', '', /^"http2_streams_index_size" directive is not allowed here in /],
      ['', 'http2_push_preload maybe;', /^invalid value "maybe" in "http2_push_preload" directive, it must be "on" or "off" in /],
      ['', 'http2_max_concurrent_pushes x;', /^"http2_max_concurrent_pushes" directive invalid number in /],
      ['location / { http2_idle_timeout 5s; }', '', /^"http2_idle_timeout" directive is not allowed here in /],
      ['', 'http2_idle_timeout a b;', /^invalid number of arguments in "http2_idle_timeout" directive in /],
    ];
    for (const [body, http, re] of cases) expect(errorOf(serverConf(body, http)).message, `${http}${body}`).toMatch(re);
  });
});

describe.skipIf(nginxMissing() !== null)(`the same conf on nginx -t${nginxMissing() ? ` (skipped: ${nginxMissing()})` : ''}`, () => {
  it('gives the same warnings, in the same order', () => {
    expect(nginxConfWarnings(`${OBSOLETE_SERVER}\n${PUSH.replace('http2_push_preload on;', '')}`, `${OBSOLETE_HTTP} ${TUNING}`))
      .toEqual(WARNINGS.filter((w) => !w.includes('push')));
  });

  it('refuses what tresty refuses', () => {
    for (const http of ['http2_chunk_size 0;', 'http2_recv_buffer_size 10;', 'http2_streams_index_size 33;', 'http2_push_preload maybe;']) {
      expect(nginxConfError('', http), http).toMatch(/\[emerg\]/);
    }
  });
});

describe('the warnings on the real binary', () => {
  let t: TrestyProcess;
  let port: number;
  const conf = (extra: string): string => `error_log logs/error.log info;
events {}
http {
  ${OBSOLETE_HTTP}
  server { listen 127.0.0.1:${port}; ${extra} location / { return 200 "ok\\n"; } }
}
`;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(''));
  });
  afterAll(async () => { await t?.stop(); });

  it('tresty -t prints them before "syntax is ok" and exits 0', async () => {
    await withTempDir('tresty-h2w-', async (dir) => {
      fs.writeFileSync(path.join(dir, 'c.conf'), conf(''));
      fs.mkdirSync(path.join(dir, 'logs'));
      const r = await runTresty(['-t', '-p', dir, '-c', 'c.conf']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/tresty: \[warn\] the "http2_idle_timeout" directive is obsolete, use the "keepalive_timeout" directive instead in \S+c\.conf:4\n[^]*tresty: \[warn\] the "http2_recv_timeout"[^]*syntax is ok/);
    });
  });

  it('are logged at start and at a reload, and the server serves', async () => {
    expect(t.errorLog()).toMatch(/\[warn\] \d+#\d+: the "http2_max_requests" directive is obsolete, use the "keepalive_requests" directive instead in \S+nginx\.conf:4\n/);
    const reloaded = t.waitFor((e) => e.tresty === 'reloaded', { timeoutMs: 30_000 });
    t.writeConf(conf('http2_max_field_size 4k;'));
    const r = await t.cli(['-s', 'reload']);
    expect(r.code, r.stderr).toBe(0);
    await reloaded;
    expect(t.errorLog()).toMatch(/\[warn\] \d+#\d+: the "http2_max_field_size" directive is obsolete, use the "large_client_header_buffers" directive instead in \S+nginx\.conf:5\n/);
    expect((await httpGet(port, '/')).body).toBe('ok\n');
  });
});
