// proxy_cookie_domain / proxy_cookie_path / proxy_cookie_flags: one upstream (a node:http server in the test) sends the
// same Set-Cookie lines to every location; tresty on both engines and nginx 1.22 proxy it with the
// same conf, and must answer the same rewritten lines.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { type Nginx, nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const COOKIES = [
  'a=1; Domain=.Backend.Local; Path=/app/x; HttpOnly',
  'b=2; path=/other; domain=backend.local',
  'c=3; Path=/app',
  'd=4; Domain=api.backend.local; Path=/',
  'e=5',
  'f = 6 ;Path=/app/y;Domain=backend.local',
  'g=7;; Secure;',
  'h=8; HttpOnly=x; SameSite; samesite=b',
  'i=; secure; SECURE',
  'nocookie',
];

let upstream: http.Server;
let up = 0;

const locations = (): string => `
    location /plain/ {
      proxy_pass http://127.0.0.1:${up};
      proxy_cookie_domain backend.local www.example.com;
      proxy_cookie_path /app/ /;
    }
    location /regex/ {
      proxy_pass http://127.0.0.1:${up};
      proxy_cookie_domain ~^(\\w+)\\.backend\\.local$ $1.example.com;
      proxy_cookie_domain ~BACKEND www.$host;
      proxy_cookie_path ~*^/APP(.*)$ /shop$1;
    }
    location /off/ {
      proxy_pass http://127.0.0.1:${up};
      proxy_cookie_path off;
    }
    location /flags/ {
      proxy_pass http://127.0.0.1:${up};
      proxy_cookie_flags A nosecure httponly;
      proxy_cookie_flags ~^[bc] samesite=none nohttponly;
      proxy_cookie_flags ~^[gh]$ secure samesite=$arg_s FOO;
      proxy_cookie_flags i nosecure;
    }
    location /all/ {
      proxy_pass http://127.0.0.1:${up};
      proxy_cookie_flags ~ secure httponly samesite=strict;
      location /all/none/ { proxy_pass http://127.0.0.1:${up}; proxy_cookie_flags off; }
    }`;

const EXPECT: Record<string, string[]> = {
  '/plain/': [
    // The string compares without the leading dot, which nginx keeps.
    'a=1; Domain=.www.example.com; Path=/x; HttpOnly',
    'b=2; path=/other; domain=www.example.com',
    'c=3; Path=/app',
    'd=4; Domain=api.backend.local; Path=/',
    'e=5',
    // a rewritten line is written back as nginx writes it: trimmed, "; " between attributes
    'f=6; Path=/y; Domain=www.example.com',
    'g=7;; Secure;',
    'h=8; HttpOnly=x; SameSite; samesite=b',
    'i=; secure; SECURE',
    'nocookie',
  ],
  '/regex/': [
    'a=1; Domain=www.localhost; Path=/shop/x; HttpOnly',
    'b=2; path=/other; domain=www.localhost',
    'c=3; Path=/shop',
    'd=4; Domain=api.example.com; Path=/',
    'e=5',
    'f=6; Path=/shop/y; Domain=www.localhost',
    'g=7;; Secure;',
    'h=8; HttpOnly=x; SameSite; samesite=b',
    'i=; secure; SECURE',
    'nocookie',
  ],
  '/off/': COOKIES,
  '/flags/?s=lax': [
    // a name compares without case; the first rule naming the cookie wins
    'a=1; Domain=.Backend.Local; Path=/app/x; HttpOnly',
    'b=2; path=/other; domain=backend.local; SameSite=None',
    'c=3; Path=/app; SameSite=None',
    'd=4; Domain=api.backend.local; Path=/',
    'e=5',
    'f = 6 ;Path=/app/y;Domain=backend.local',
    // empty attributes stay; SameSite is set in its first place, the rest appended in nginx's order
    'g=7; ; Secure; ; SameSite=Lax',
    'h=8; HttpOnly=x; SameSite=Lax; samesite=b; Secure',
    'i=',
    'nocookie',
  ],
  '/all/': [
    'a=1; Domain=.Backend.Local; Path=/app/x; HttpOnly; Secure; SameSite=Strict',
    'b=2; path=/other; domain=backend.local; Secure; HttpOnly; SameSite=Strict',
    'c=3; Path=/app; Secure; HttpOnly; SameSite=Strict',
    'd=4; Domain=api.backend.local; Path=/; Secure; HttpOnly; SameSite=Strict',
    'e=5; Secure; HttpOnly; SameSite=Strict',
    'f=6; Path=/app/y; Domain=backend.local; Secure; HttpOnly; SameSite=Strict',
    'g=7; ; Secure; ; HttpOnly; SameSite=Strict',
    'h=8; HttpOnly=x; SameSite=Strict; samesite=b; Secure',
    'i=; secure; SECURE; HttpOnly; SameSite=Strict',
    'nocookie',
  ],
  '/all/none/': COOKIES,
};

function suite(port: () => number): void {
  for (const [p, want] of Object.entries(EXPECT)) {
    it(`${p}: Set-Cookie lines as nginx rewrites them`, async () => {
      const [path, query] = p.split('?');
      const r = await httpGet(port(), `${path}x${query ? `?${query}` : ''}`, { host: 'localhost' });
      expect(r.status).toBe(200);
      expect(r.headers['set-cookie']).toEqual(want);
    });
  }
}

beforeAll(async () => {
  upstream = http.createServer((_req, res) => { res.setHeader('Set-Cookie', COOKIES); res.end('ok\n'); });
  await new Promise<void>((res) => upstream.listen(0, '127.0.0.1', res));
  up = (upstream.address() as AddressInfo).port;
});
afterAll(async () => { await new Promise((res) => upstream.close(res)); });

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'proxy_cookie_domain and proxy_cookie_path'), () => {
    let t: TrestyProcess;
    let port = 0;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;\nerror_log logs/error.log info;\nevents {}\nhttp {\n  server {\n    listen 127.0.0.1:${port};\n    server_name localhost;\n${locations()}\n  }\n}\n`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    suite(() => port);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`the same on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(`server_name localhost;\n${locations()}`); });
  afterAll(async () => { await n?.stop(); });
  suite(() => n.port);
});
