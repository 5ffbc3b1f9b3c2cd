// For the compat tests over TLS: tresty's HTTP/1 over TLS served each way it can be (the node:tls
// front with `listen ... ssl http2` and with TRESTY_TLS_ENGINE=node; the native engine's TLS), one
// describe per way on a free port with error_log at info, running the same checks.
import { afterAll, beforeAll, describe } from 'vitest';
import { ENGINE_BUILT } from './engine.js';
import { nginxMissing, startNginx, type Nginx } from './nginx.js';
import { freePort, startTresty, type TrestyProcess } from './server.js';

type Front = readonly [label: string, listen: string, env: Record<string, string>, skip: string | null];

/** The node:tls front, both ways. */
export const NODE_TLS: readonly Front[] = [
  ['ssl http2 (node:tls)', 'ssl http2', {}, null],
  ['ssl, TRESTY_TLS_ENGINE=node', 'ssl', { TRESTY_TLS_ENGINE: 'node' }, null],
];
/** The node:tls front and the native engine's TLS. */
export const ALL_TLS: readonly Front[] = [
  ...NODE_TLS,
  ['ssl (native engine)', 'ssl', { TRESTY_HTTP_ENGINE: 'native' }, ENGINE_BUILT ? null : 'the native engine is not built'],
];

/** `checks` on each front of `fronts`, one server with `server` as its body; `missing`: why none can run. */
export function onTlsFronts(title: string, fronts: readonly Front[], missing: string | null, server: string,
  checks: (port: () => number, log: () => string) => void): void {
  for (const [label, listen, env, skip] of fronts) {
    const why = missing ?? skip;
    describe.skipIf(why !== null)(`${title}: ${label}${why ? ` (skipped: ${why})` : ''}`, () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port} ${listen};\n    ${server}\n  }\n}\n`, { env });
      });
      afterAll(async () => { await t?.stop(); });
      checks(() => port, () => t.errorLog());
    });
  }
}

/** `checks` on nginx 1.22 + lua with a `listen ... ssl http2` server of body `server`. */
export function onNginxTls(title: string, missing: string | null, server: string, checks: (port: () => number, log: () => string) => void): void {
  const why = nginxMissing() ?? missing;
  describe.skipIf(why !== null)(`${title}, on nginx + lua-nginx-module${why ? ` (skipped: ${why})` : ''}`, () => {
    let n: Nginx;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      n = await startNginx('location / { return 200 "plain"; }', `server { listen 127.0.0.1:${port} ssl http2; ${server} }`);
    });
    afterAll(async () => { await n?.stop(); });
    checks(() => port, () => n.errorLog());
  });
}
