// Workers run with V8's allocation-site pretenuring off (src/master/worker-flags.ts: with it on,
// requests waiting on an FFI answer made V8 allocate the request path straight into the old
// generation, and GC took a fifth of a core). Checked in the worker itself, on both ways a master
// forks (its own sockets: child_process.fork; without the addon: node:cluster), and that
// TRESTY_V8_PRETENURING=1 gives V8's default back.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const conf = (port: number): string => `worker_processes 1;
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location = /flags { content_by_js_block { ngx.print(JSON.stringify(process.execArgv)); } }
  }
}`;

describe('worker Node flags', () => {
  let t: TrestyProcess | undefined;
  afterEach(async () => { await t?.stop(); t = undefined; });

  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['forked with the master\'s sockets', {}, true],
    ['forked by node:cluster', { TRESTY_NO_NATIVE_ENGINE: '1', TRESTY_HTTP_ENGINE: 'node' }, true],
    ['TRESTY_V8_PRETENURING=1', { TRESTY_V8_PRETENURING: '1' }, false],
  ];
  for (const [name, env, off] of cases) {
    it(`${name}: pretenuring ${off ? 'off' : 'as V8 has it'}`, async () => {
      const port = await freePort();
      t = await startTresty(conf(port), { env });
      const r = await httpGet(port, '/flags');
      expect(r.status).toBe(200);
      const argv = JSON.parse(r.body) as string[];
      expect(argv.includes('--no-allocation-site-pretenuring')).toBe(off);
    });
  }
});
