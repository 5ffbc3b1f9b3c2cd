// Through the real server: a runtime that answers every task twice is logged once in the error
// log and its worker goes on serving; max_response_size (conf) refuses a longer answer with
// TRESTY_ERR_FFI_RESPONSE_TOO_LARGE; a `blocking off` function plugin is served from the conf.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, ROOT, startTresty, type TrestyProcess } from './helpers/server.js';

const rt = path.join(ROOT, 'native', 'build', 'test-runtimes');
const built = fs.existsSync(path.join(rt, 'libtresty_test_badrt.so')) && fs.existsSync(path.join(ROOT, 'native', 'build', 'libtresty_host.so'));

(built ? describe : describe.skip)(`an FFI runtime that breaks the contract, in a worker${built ? '' : ' (skipped: native/build not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ffi_library_path ${rt};
  ffi_plugin twice { library tresty_test_badrt; config double; timeout 5s; }
  ffi_plugin big { library tresty_test_badrt; config big; max_response_size 2k; timeout 5s; }
  ffi_plugin up { kind function; library tresty_test_fnlib; symbol tresty_test_upper; blocking off; }
  server {
    listen 127.0.0.1:${port};
    location = /twice { content_by_js_block { ngx.say(await ngx.ffi.twice.call(ngx.var.arg_q)); } }
    location = /big {
      content_by_js_block {
        try { ngx.say((await ngx.ffi.big.call('big:' + ngx.var.arg_n)).length); }
        catch (e) { ngx.say(e.code); }
      }
    }
    location = /up { content_by_js_block { ngx.say(await ngx.ffi.up.call(ngx.var.arg_q)); } }
  }
}`);
  });
  afterAll(async () => { await t?.stop(); });

  it('serves the first answer of a runtime that answers twice, and logs it once', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await httpGet(port, `/twice?q=a${i}`);
      expect([r.status, r.body]).toEqual([200, `a${i}\n`]);
    }
    await expect.poll(() => t.errorLog(), { timeout: 3000 }).toMatch(/\[warn\].*ffi plugin \S*tresty_test_badrt: the runtime answered a task twice/);
    expect(t.errorLog().match(/answered a task twice/g)).toHaveLength(1);
  });

  it('refuses an answer over max_response_size with TRESTY_ERR_FFI_RESPONSE_TOO_LARGE', async () => {
    expect((await httpGet(port, '/big?n=2048')).body).toBe('2048\n');
    expect((await httpGet(port, '/big?n=2049')).body).toBe('TRESTY_ERR_FFI_RESPONSE_TOO_LARGE\n');
  });

  it('calls a blocking-off function plugin on the event loop', async () => {
    expect((await httpGet(port, '/up?q=abc')).body).toBe('ABC\n');
  });
});
