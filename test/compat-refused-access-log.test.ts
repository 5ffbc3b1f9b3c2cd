// The access-log line of a request refused before its head was read, on both engines and on nginx
// with the same expectations. nginx 1.22 + lua-nginx-module, observed ($request is the line as
// received, whatever it holds):
//   "GARBAGE" 400      "GET /a b HTTP/1.1" 400      "get / HTTP/1.1" 400
//   "GET  /sp  HTTP/1.1" 400 (a bad header after a line with doubled spaces)
// tresty's native engine logged "GARBAGE  HTTP/0.0", "GET /a HTTP/0.0", "GET  HTTP/1.1" (the line
// rebuilt from the parts it had cut); node:http logged nothing for a request its parser refused.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

function send(port: number, bytes: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    s.on('data', () => undefined);
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(); };
    const t = setTimeout(done, 3000);
    s.on('close', done);
    s.on('error', done);
  });
}

const FORMAT = "log_format st '[$request] $status';";

const CASES: Array<[string, string]> = [
  ['GARBAGE\r\n\r\n', '[GARBAGE] 400'],
  ['GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', '[GET /a b HTTP/1.1] 400'],
  ['get / HTTP/1.1\r\nHost: x\r\n\r\n', '[get / HTTP/1.1] 400'],
  ['GET  /sp  HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n', '[GET  /sp  HTTP/1.1] 400'],
  ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello', '[POST / HTTP/1.1] 400'],
];

function checks(get: () => { port: number; access: string }): void {
  for (const [bytes, line] of CASES) {
    it(JSON.stringify(bytes.split('\r\n')[0]), async () => {
      const { port, access } = get();
      await send(port, bytes);
      let text = '';
      for (let i = 0; i < 250 && !text.includes(`${line}\n`); i++) {
        await new Promise((r) => setTimeout(r, 20));
        text = fs.existsSync(access) ? fs.readFileSync(access, 'latin1') : '';
      }
      expect(text).toContain(`${line}\n`);
    });
  }
}

const LOCATION = 'location / { return 200 "ok\\n"; }';

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the access-log line of a refused request'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
events {}
http {
  ${FORMAT}
  access_log logs/access.log st;
  server {
    listen 127.0.0.1:${port};
    ${LOCATION}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, access: path.join(t.prefix, 'logs/access.log') }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the access-log line of a refused request, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`access_log __PREFIX__/access.log st;\n    ${LOCATION}`, FORMAT); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, access: path.join(n.prefix, 'access.log') }));
});
