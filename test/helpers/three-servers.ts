// One set of checks against a server block on both tresty engines and on nginx + lua: the block's
// body for each (`js`: tresty's, else nginx's; `__PORT__` is the port on both), the checks given
// the port to talk to; `files` written in each prefix, then `prepare(prefix)`.
import { afterAll, beforeAll, describe } from 'vitest';
import { ENGINES, titled } from './engines.js';
import { nginxMissing, startNginx, type Nginx } from './nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './server.js';

export interface ThreeOptions {
  files?: Record<string, string>;
  prepare?: (prefix: string) => void;
}

export function onEnginesAndNginx(label: string, server: (js: boolean) => string, checks: (port: () => number) => void, opts: ThreeOptions = {}): void {
  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, label), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(oneServerConf(port, server(true).replaceAll('__PORT__', String(port))), { env: e.env, files: opts.files });
        opts.prepare?.(t.prefix);
      });
      afterAll(async () => { await t?.stop(); });
      checks(() => port);
    });
  }
  const missing = nginxMissing();
  describe.skipIf(missing !== null)(`${label}, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let n: Nginx;
    beforeAll(async () => {
      n = await startNginx(server(false), '', opts.files);
      opts.prepare?.(n.prefix);
    });
    afterAll(async () => { await n?.stop(); });
    checks(() => n.port);
  });
}
