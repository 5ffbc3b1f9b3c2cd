// Which HTTP engine serves: the native one by default when it was built (the master says so),
// `http_engine node;` on request, and node:http with a warning on stderr when the engine is not
// there (TRESTY_NO_NATIVE_ENGINE=1 acts as a machine without a C compiler), where asking for
// `http_engine native;` is a conf error at the directive, at the start and for `tresty -t`.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { engineOf, freePort, httpGet, makePrefix, runTresty, startTresty, stopAll } from './helpers/server.js';

const conf = (port: number, extra = ''): string => `
worker_processes 1;
error_log logs/error.log notice;
http { ${extra} server { listen 127.0.0.1:${port}; location / { content_by_js_block { ngx.say("hi"); } } } }
`;

afterEach(async () => { await stopAll(); });

describe.skipIf(!ENGINE_BUILT)(`the HTTP engine${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  it('is native by default, and the master logs it', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port));
    expect(engineOf(t)).toBe('native');
    expect((await httpGet(port, '/')).body).toBe('hi\n');
    expect(t.errorLog()).toMatch(/\[notice\] \d+#0: http engine: native/);
  });

  it('is node:http with http_engine node;', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port, 'http_engine node;'));
    expect(engineOf(t)).toBe('node');
    expect((await httpGet(port, '/')).body).toBe('hi\n');
    expect(t.errorLog()).toMatch(/http engine: node:http/);
  });

  it('falls back to node:http with a warning when the engine is not built', async () => {
    const port = await freePort();
    const t = await startTresty(conf(port), { env: { TRESTY_NO_NATIVE_ENGINE: '1' } });
    expect(engineOf(t)).toBe('node');
    expect((await httpGet(port, '/')).body).toBe('hi\n');
    expect(t.stderr).toMatch(/tresty: \[warn\] the native HTTP engine is not available \(.*\); serving with node:http/);
  });

  it('refuses to start with http_engine native; when the engine is not built', async () => {
    const port = await freePort();
    await expect(startTresty(conf(port, 'http_engine native;'), { env: { TRESTY_NO_NATIVE_ENGINE: '1' } }))
      .rejects.toThrow(/"http_engine native" is set, but the native engine cannot be used: TRESTY_NO_NATIVE_ENGINE=1 is set in \S+nginx\.conf:4/);
  });

  it('fails tresty -t the same way, at the directive', async () => {
    const prefix = makePrefix(conf(await freePort(), 'http_engine native;'));
    try {
      const r = await runTresty(['-p', prefix, '-t'], { env: { TRESTY_NO_NATIVE_ENGINE: '1' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tresty: \[emerg\] "http_engine native" is set, but the native engine cannot be used: TRESTY_NO_NATIVE_ENGINE=1 is set in \S+nginx\.conf:4\n/);
      expect(r.stderr).toMatch(/test failed/);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });
});
