// A regex server_name's captures, on both tresty engines and on nginx 1.22 + lua with the same
// expectations. Observed on nginx + lua: the regex that chose the server sets $1.. (and its named
// groups) for the server's directives (return, set, rewrite, proxy_pass, ngx.var[N]), until a
// regex location or a rewrite's regex replaces the numbered ones; a server chosen by an exact name
// has none. tresty's $1.. were empty there (only named groups were set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

/** The first server of the port (the default): the proxy_pass target. */
const OTHER = `server { listen 127.0.0.1:__PORT__; location /echo/ { return 200 "echo [$uri]\\n"; } }`;

const server = (js: boolean): string => `
    server_name www.exact.test ~^(www)\\.(.+)$ ~^(?<sub>\\w+)\\.named\\.test$;
    location /r { return 200 "[$1|$2|$sub]\\n"; }
    location ~ ^/loc(.*)$ { return 200 "[$1|$2]\\n"; }
    location ~ ^/n/(?<x>\\w+)$ { return 200 "[$x|$1|$2]\\n"; }
    location /p/ { location ~ ^/p/(.)(.)$ { return 200 "[$1|$2]\\n"; } }
    location /set { set $x "$2-$1"; return 200 "[$x]\\n"; }
    location /rw { rewrite ^/rw(.*)$ /r-$2$1 redirect; }
    location /px { proxy_pass http://127.0.0.1:__PORT__/echo/$2; }
    location /var { ${js
    ? 'content_by_js_block { const v = (x) => x === undefined || x === null ? "nil" : x; ngx.say("[", v(ngx.var[1]), "|", v(ngx.var[2]), "]"); }'
    : 'content_by_lua_block { ngx.say("[", tostring(ngx.var[1]), "|", tostring(ngx.var[2]), "]") }'} }`;

/** [Host, path, status, body (or Location)] */
const CASES: Array<[string, string, number, string]> = [
  ['www.ex.test', '/r', 200, '[www|ex.test|]\n'],
  ['www.ex.test', '/loc-x', 200, '[-x|]\n'],
  ['www.ex.test', '/n/zz', 200, '[zz|zz|]\n'],
  ['www.ex.test', '/p/ab', 200, '[a|b]\n'],
  ['www.ex.test', '/set', 200, '[ex.test-www]\n'],
  ['www.ex.test', '/rw-y', 302, '/r--y'],
  ['www.ex.test', '/px', 200, 'echo [/echo/ex.test]\n'],
  ['www.ex.test', '/var', 200, '[www|ex.test]\n'],
  ['abc.named.test', '/r', 200, '[abc||abc]\n'],
  ['www.exact.test', '/r', 200, '[||]\n'],
  ['www.exact.test', '/var', 200, '[nil|nil]\n'],
];

function checks(port: () => number): void {
  for (const [host, path, status, want] of CASES) {
    it(`Host ${host}, GET ${path}`, async () => {
      const r = await httpGet(port(), path, { headers: { Host: host } });
      expect(r.status).toBe(status);
      if (status === 302) expect(new URL(String(r.headers.location)).pathname).toBe(want);
      else expect(r.body).toBe(want);
    });
  }
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'server_name ~regex captures as $1..'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      const conf = `worker_processes 1;\nevents {}\nhttp {\n  access_log off;\n  ${OTHER}\n  server {\n    listen 127.0.0.1:${port};\n${server(true)}\n  }\n}\n`;
      t = await startTresty(conf.replaceAll('__PORT__', String(port)), { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`server_name ~regex captures as $1.., on nginx + lua${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(server(false), OTHER); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port);
});
