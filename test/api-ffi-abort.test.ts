// A client that disconnects while its handler waits on a native call: the call is abandoned at
// once with TRESTY_ERR_FFI_ABORTED (the runtime's late answer is freed by the host), and the
// worker goes on serving. Skipped when the native test runtimes are not built.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';

const build = path.join(ROOT, 'native', 'build');
const slowLib = path.join(build, 'test-runtimes', 'libtresty_test_slow.so');
const fnLib = path.join(build, 'test-runtimes', 'libtresty_test_fnlib.so');
const built = fs.existsSync(slowLib) && fs.existsSync(fnLib) && fs.existsSync(path.join(build, 'libtresty_host.so'));

(built ? describe : describe.skip)(`an FFI call whose client goes away${built ? '' : ' (skipped: native/build not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ffi_plugin slow { library ${slowLib}; format string; timeout 10s; }
  ffi_plugin zh { kind function; library ${fnLib}; symbol tresty_test_upper; blocking off; format string; }
  server {
    listen 127.0.0.1:${port};
    location = /slow {
      content_by_js_block {
        const t0 = Date.now();
        try {
          ngx.say(await ngx.ffi.slow.call('sleep:3000'));
        } catch (e) {
          ngx.log(ngx.ERR, 'ffi call ended: ', e.code, ' after ', Date.now() - t0, ' ms');
          // A zero-hop call makes no hook of its own, but the request's, once fired, refuses it.
          await ngx.ffi.zh.call('late').then((v) => ngx.log(ngx.ERR, 'zero hop after abort: ', v),
            (e2) => ngx.log(ngx.ERR, 'zero hop after abort: ', e2.code));
        }
      }
    }
    location = /fast { content_by_js_block { ngx.say(await ngx.ffi.slow.call('quick'), ' ', await ngx.ffi.zh.call('zh')) } }
  }
}`);
  });
  afterAll(async () => { await t?.stop(); });

  it('is abandoned as soon as the client disconnects, and the worker serves the next request', async () => {
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/slow', agent: false });
      req.on('error', () => resolve());
      setTimeout(() => { req.destroy(); resolve(); }, 200);
    });
    await expect.poll(() => t.errorLog(), { timeout: 2500 }).toMatch(/ffi call ended: TRESTY_ERR_FFI_ABORTED after \d+ ms/);
    const ms = Number(/ffi call ended: TRESTY_ERR_FFI_ABORTED after (\d+) ms/.exec(t.errorLog())![1]);
    expect(ms).toBeLessThan(2000); // well before the runtime's 3 s answer
    await expect.poll(() => t.errorLog(), { timeout: 2500 }).toMatch(/zero hop after abort: TRESTY_ERR_FFI_ABORTED/);
    const next = await httpGet(port, '/fast');
    expect(next.status).toBe(200);
    expect(next.body).toBe('quick ZH\n');
  });
});
