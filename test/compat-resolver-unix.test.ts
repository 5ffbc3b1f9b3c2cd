// `resolver unix:PATH` on both tresty engines and on nginx 1.22 + lua with the same expectations.
// Observed on nginx: the conf loads (tresty refused it: `invalid host`); a name a cosocket or a
// proxy_pass with variables looks up through it logs, for each query (A, AAAA), `[crit] connect()
// failed (2: No such file or directory) while resolving, resolver: unix:PATH` (no request
// context), and the lookup fails after resolver_timeout: `NAME could not be resolved (110:
// Operation timed out)` (a proxy_pass logs it and answers 502).
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

const SOCK = path.join(os.tmpdir(), `tresty-no-dns-${process.pid}.sock`);
const NAME = 'svc.tresty.invalid';
const FAILED = `${NAME} could not be resolved (110: Operation timed out)`;
const CRIT = new RegExp(`\\[crit\\] \\d+#\\d+: connect\\(\\) failed \\(2: No such file or directory\\) while resolving, resolver: unix:${SOCK.replace(/[.]/g, '\\.')}\\n`, 'g');

const server = (js: boolean): string => {
  const block = js ? 'content_by_js_block' : 'content_by_lua_block';
  const tcp = js
    ? `const s = ngx.socket.tcp(); const [ok, err] = await s.connect("${NAME}", 80); ngx.say(String(ok), " ", String(err));`
    : `local s = ngx.socket.tcp() local ok, err = s:connect("${NAME}", 80) ngx.say(tostring(ok), " ", tostring(err))`;
  const udp = js
    ? `const u = ngx.socket.udp(); const [ok, err] = await u.setpeername("${NAME}", 53); ngx.say(String(ok), " ", String(err));`
    : `local u = ngx.socket.udp() local ok, err = u:setpeername("${NAME}", 53) ngx.say(tostring(ok), " ", tostring(err))`;
  return `resolver unix:${SOCK};
    resolver_timeout 1s;
    location = /tcp { ${block} { ${tcp} } }
    location = /udp { ${block} { ${udp} } }
    location = /proxy { set $h ${NAME}; proxy_pass http://$h:80; }`;
};

const nils = (js: boolean): string => (js ? 'null' : 'nil');

function checks(js: boolean, port: () => number, log: () => string): void {
  it('a cosocket\'s name: the lookup fails after resolver_timeout, each query\'s connect() failure logged at crit', async () => {
    const t0 = Date.now();
    expect((await httpGet(port(), '/tcp')).body).toBe(`${nils(js)} ${FAILED}\n`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await httpGet(port(), '/udp')).body).toBe(`${nils(js)} ${FAILED}\n`);
    await new Promise((r) => setTimeout(r, 200));
    // one line a query: A and AAAA of each lookup
    expect(log().split(CRIT).length - 1).toBe(4);
  }, 20_000);
  it('a proxy_pass with variables: 502, the failure logged', async () => {
    expect((await httpGet(port(), '/proxy')).status).toBe(502);
    await new Promise((r) => setTimeout(r, 200));
    expect(log()).toMatch(new RegExp(`\\[error\\] \\d+#\\d+: \\*\\d+ ${FAILED.replace(/[.()]/g, '\\$&')}, client: 127\\.0\\.0\\.1`));
  }, 20_000);
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'resolver unix:PATH'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(oneServerConf(port, server(true)).replace('worker_processes 1;', 'worker_processes 1; error_log logs/error.log;'), { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(true, () => port, () => t.errorLog());
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`resolver unix:PATH, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(server(false)); });
  afterAll(async () => { await n?.stop(); });
  checks(false, () => n.port, () => n.errorLog());
});
