// One set of checks against a server block on both tresty engines and on nginx + lua: the block's
// body for each (`js`: tresty's, else nginx's), the checks given the port to talk to.
import { afterAll, beforeAll, describe } from 'vitest';
import { ENGINES, titled } from './engines.js';
import { nginxMissing, startNginx, type Nginx } from './nginx.js';
import { freePort, startTresty, type TrestyProcess } from './server.js';

export function onEnginesAndNginx(label: string, server: (js: boolean) => string, checks: (port: () => number) => void): void {
  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, label), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    ${server(true)}\n  }\n}\n`, { env: e.env });
      });
      afterAll(async () => { await t?.stop(); });
      checks(() => port);
    });
  }
  const missing = nginxMissing();
  describe.skipIf(missing !== null)(`${label}, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let n: Nginx;
    beforeAll(async () => { n = await startNginx(server(false)); });
    afterAll(async () => { await n?.stop(); });
    checks(() => n.port);
  });
}
