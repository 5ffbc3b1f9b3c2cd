// ngx.flush puts the bytes on the wire at once, as nginx's does, not when the handler's JS next
// yields: a handler that flushes and then computes has been heard meanwhile. The handler below
// flushes "first" and then spins (no await) until the client, having read "first", creates a
// file; if the bytes stayed queued it gives up after 5 s and says so. Same check on nginx + lua.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { withTempDir } from './helpers/temp-dir.js';

const JS = `
    location = /busy { content_by_js_block {
      const fs = require('node:fs');
      const flag = ngx.var.arg_flag;
      ngx.say("first");
      await ngx.flush(true);
      const until = Date.now() + 5000;
      while (!fs.existsSync(flag) && Date.now() < until) {}
      ngx.say(fs.existsSync(flag) ? "heard" : "not heard");
    } }
`;

const LUA = `
    location = /busy { content_by_lua_block {
      local flag = ngx.var.arg_flag
      ngx.say("first")
      ngx.flush(true)
      local function exists() local f = io.open(flag) if f then f:close() return true end return false end
      local until_ = os.time() + 5
      while not exists() and os.time() < until_ do end
      ngx.say(exists() and "heard" or "not heard")
    } }
`;

/** GET /busy; creates the flag file once "first" has arrived; the whole answer. */
function busy(port: number): Promise<string> {
  return withTempDir('tresty-flush-', (dir) => {
    fs.chmodSync(dir, 0o755); // nginx's workers may run as another user (root starts them as nobody)
    const flag = path.join(dir, 'flag');
    return new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`GET /busy?flag=${flag} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        data += d;
        if (data.includes('first\n') && !fs.existsSync(flag)) fs.writeFileSync(flag, '');
      });
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
  });
}

function checks(port: () => number): void {
  it('the flushed bytes reach the client while the handler computes', async () => {
    const a = await busy(port());
    expect(a).toMatch(/^HTTP\/1\.1 200/);
    expect(a).toContain('first\n');
    expect(a).toContain('heard\n');
    expect(a).not.toContain('not heard');
  }, 15_000);
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'ngx.flush writes at once'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(oneServerConf(port, JS), { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`ngx.flush writes at once, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(LUA); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
