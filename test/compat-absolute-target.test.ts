// An absolute request target (`GET http://h.example/p`) names the host: nginx 1.22 picks the server
// by it and gives it as $host, whatever the Host header says (observed; the same expectations run
// on both engines and on nginx + lua).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const servers = (port: number | string): string => `
  server { listen 127.0.0.1:${port}; server_name x; location / { return 200 "x:$host:$server_name:$http_host\\n"; } }
  server { listen 127.0.0.1:${port}; server_name h.example; location / { return 200 "h:$host:$server_name:$http_host\\n"; } }`;

const body = async (port: number, target: string): Promise<string> => {
  const r = await raw(port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`], { timeoutMs: 3000 });
  return r.data.slice(r.data.indexOf('\r\n\r\n') + 4);
};

function checks(port: () => number): void {
  it('the target\'s host picks the server and is $host; $http_host is the header', async () => {
    expect(await body(port(), 'http://h.example/p')).toBe('h:h.example:h.example:x\n');
    expect(await body(port(), 'http://H.Example:99/p?q')).toBe('h:h.example:h.example:x\n');
  });
  it('an origin-form target: the Host header', async () => {
    expect(await body(port(), '/p')).toBe('x:x:x:x\n');
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'an absolute request target'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;\nevents {}\nhttp {\n  access_log off;${servers(port)}\n}\n`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`an absolute request target, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    n = await startNginx('location / { return 200 "unused"; }', servers(port));
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => port);
});
