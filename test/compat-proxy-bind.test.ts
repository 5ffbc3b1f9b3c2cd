// proxy_bind on both engines (the native engine's own upstream sockets do not bind: such a
// location's sockets are node:net's) and on nginx 1.22, with the same expectations (observed there
// first): the upstream sees the bound address; a value with variables is computed per request, an
// empty one binds nothing, one that is no address logs `invalid local address "..."` and the
// request goes on unbound; an address the host does not have logs nginx's crit line and answers
// 500; `off` stops an inherited one. conf errors as nginx -t.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxConfError, nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

let backend: http.Server;
let back = 0;

beforeAll(async () => {
  backend = http.createServer((req, res) => { res.end(`from ${req.socket.remoteAddress}\n`); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  back = (backend.address() as AddressInfo).port;
});
afterAll(async () => { await new Promise((r) => backend.close(r)); });

const HTTP = 'proxy_bind 127.0.0.3;';
const locations = (): string => `
    location /b2 { proxy_bind 127.0.0.2; proxy_pass http://127.0.0.1:${back}; }
    location /var { proxy_bind $arg_a; proxy_pass http://127.0.0.1:${back}; }
    location /off { proxy_bind off; proxy_pass http://127.0.0.1:${back}; }
    location /inh { proxy_pass http://127.0.0.1:${back}; }
    location /tr { proxy_bind 127.0.0.2 transparent; proxy_pass http://127.0.0.1:${back}; }`;

const CASES: ReadonlyArray<readonly [string, number, string]> = [
  ['/b2', 200, 'from 127.0.0.2\n'],
  ['/var?a=127.0.0.4', 200, 'from 127.0.0.4\n'],
  ['/var', 200, 'from 127.0.0.1\n'],
  ['/var?a=bad', 200, 'from 127.0.0.1\n'],
  ['/off', 200, 'from 127.0.0.1\n'],
  ['/inh', 200, 'from 127.0.0.3\n'],
  ['/tr', 200, 'from 127.0.0.2\n'],
  ['/var?a=10.9.9.9', 500, ''],
];

function checks(port: () => number, log: () => string): void {
  for (const [p, status, body] of CASES) {
    it(`${p}: ${status} ${body.trim()}`, async () => {
      const r = await httpGet(port(), p);
      expect(r.status).toBe(status);
      if (status === 200) expect(r.body).toBe(body);
    });
  }
  it('nginx\'s lines', async () => {
    await eventually(log, /\[error\] .*invalid local address "bad", client: 127\.0\.0\.1, .*request: "GET \/var\?a=bad HTTP\/1\.1"/);
    await eventually(log, /\[crit\] .*bind\(10\.9\.9\.9\) failed \(99: Cannot assign requested address\) while connecting to upstream, client: 127\.0\.0\.1, .*upstream: "http:\/\/127\.0\.0\.1:\d+\/var\?a=10\.9\.9\.9"/);
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'proxy_bind'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`error_log logs/error.log info;\n${oneServerConf(port, locations()).replace('http {', `http {\n  ${HTTP}`)}`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => port, () => t.errorLog());
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`proxy_bind on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations(), HTTP); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port, () => n.errorLog());
});

describe('proxy_bind: conf errors as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { proxy_bind bad; }', /invalid address "bad"/],
    ['location / { proxy_bind localhost; }', /invalid address "localhost"/],
    ['location / { proxy_bind [::1]; }', /invalid address "\[::1\]"/],
    ['location / { proxy_bind 127.0.0.2 foo; }', /invalid parameter "foo"/],
    ['location / { proxy_bind; }', /invalid number of arguments in "proxy_bind" directive/],
    ['location / { proxy_bind 127.0.0.2 transparent x; }', /invalid number of arguments in "proxy_bind" directive/],
  ];
  const fine = ['location / { proxy_bind 127.0.0.2:40123; }', 'proxy_bind $arg_x transparent;', 'location / { proxy_bind ::1; }', 'location / { proxy_bind [::1]:8000; }'];
  it('tresty', () => {
    for (const [c, re] of errs) expect(confErrorOf(serverConf(c)).message, c).toMatch(re);
    for (const c of fine) expect(() => confErrorOf(serverConf(c)), c).toThrow('expected a conf error');
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [c, re] of errs) expect(nginxConfError(c), c).toMatch(re);
    for (const c of fine) expect(nginxConfError(c), c).toBeNull();
  });
});
