// A plugin's doorbell when the worker's native HTTP engine, which reads it in its epoll
// (src/ffi/bell.ts), stops first. In a separate process (test/fixtures/ffi-bell-detach.mjs) the
// real engine is shut down while the slow test runtime holds calls: the channel moves the
// doorbell to a socket, the calls in flight and every later one are answered (a plugin first
// called after the stop included: before the fix the engine took its doorbell and its answers
// never came), and the process then ends on its own. Through the real binary, a graceful quit
// (`-s quit`) with a handler's call, a running timer's and a premature timer's call in flight
// answers all of them before the worker exits, on both engines. Skipped when native/ is not built.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, ROOT, slowGet, startTresty, stopAll } from './helpers/server.js';

const build = path.join(ROOT, 'native', 'build');
const slowLib = path.join(build, 'test-runtimes', 'libtresty_test_slow.so');
const built = fs.existsSync(slowLib) && fs.existsSync(path.join(build, 'libtresty_host.so'));
const fixture = path.join(ROOT, 'test', 'fixtures', 'ffi-bell-detach.mjs');

(built && ENGINE_BUILT ? describe : describe.skip)('the engine stops while FFI calls are in flight', () => {
  it('moves the doorbell to a socket; in-flight, later and first-after-stop calls are all answered', async () => {
    const port = await freePort();
    const { stdout } = await promisify(execFile)(process.execPath, [fixture, ROOT, String(port)], { timeout: 20_000 });
    const out = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(out.before).toBe('engine');
    expect(out.after).toBe('socket');
    expect(out.inFlightAtStop).toBeGreaterThanOrEqual(1); // the engine really stopped first
    expect(out.inflight).toEqual(['sleep:1000', 'sleep:1500', 'now']);
    expect(out.later).toEqual(['sleep:200', 'later']);
    expect(out.fresh).toEqual(['sleep:200', 'fresh']);
    expect(out.freshBell).toBe('socket');
    expect(out.doorbells).toBeGreaterThan(0); // answers came by the doorbell, not only by looks
  }, 30_000);
});

for (const engine of ENGINES) {
  (built && !engine.skip ? describe : describe.skip)(titled(engine, 'a graceful quit with FFI calls in flight'), () => {
    afterEach(stopAll);

    it('answers the handler\'s, a running timer\'s and a premature timer\'s calls before the worker exits', async () => {
      const port = await freePort();
      const t = await startTresty(`worker_processes 1;
error_log logs/error.log notice;
events {}
http {
  ffi_plugin slow { library ${slowLib}; format string; timeout 10s; }
  server {
    listen 127.0.0.1:${port};
    location = /go {
      content_by_js_block {
        ngx.timer.at(0, async (premature) => {
          ngx.log(ngx.NOTICE, 'running timer got ', await ngx.ffi.slow.call('sleep:1500'), ' premature ', premature);
        });
        ngx.timer.at(60, async (premature) => {
          ngx.log(ngx.NOTICE, 'pending timer got ', await ngx.ffi.slow.call('sleep:300'), ' premature ', premature);
        });
        ngx.say('started');
        await ngx.flush(true);
        ngx.say(await ngx.ffi.slow.call('sleep:1200'));
      }
    }
  }
}`, { env: engine.env });
      const req = slowGet(port, '/go');
      await req.started; // the handler's and the running timer's calls are in flight
      expect((await t.cli(['-s', 'quit'])).code).toBe(0);
      expect(await req.done).toBe('started\nsleep:1200\n');
      expect(await t.exited).toBe(0);
      const log = t.errorLog();
      expect(log).toMatch(/running timer got sleep:1500 premature false/);
      expect(log).toMatch(/pending timer got sleep:300 premature true/);
      expect(log).not.toMatch(/TRESTY_ERR_FFI/);
    }, 30_000);
  });
}
