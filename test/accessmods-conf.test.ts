// A conf as users write one, using the access modules together (map, realip, allow/deny,
// satisfy, auth_basic, limit_req, limit_conn, limit_except), run by the real bin/tresty.js on both
// HTTP engines: the answers, and the access log where a map and the real address show, also for
// a static location the native engine serves itself.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const basic = (u: string, p: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

const conf = (port: number): string => `worker_processes 2;
error_log logs/error.log info;
events {}
http {
  map $http_user_agent $agent_kind {
    default other;
    ~*curl cli;
    ~*^mozilla browser;
  }
  map $request_uri $section { ~^/(?<top>[^/?]+) $top; default root; }
  log_format main '$remote_addr $realip_remote_addr "$request" $status $agent_kind $section rl=$limit_req_status';
  access_log logs/access.log main;
  map_hash_bucket_size 128;
  limit_req_zone $binary_remote_addr zone=perip:1m rate=1r/m;
  limit_conn_zone $binary_remote_addr zone=conns:1m;
  set_real_ip_from 127.0.0.1;
  real_ip_header X-Forwarded-For;

  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root html;

    location / { }
    location /admin/ {
      satisfy any;
      allow 10.0.0.0/8;
      deny all;
      auth_basic "Admin";
      auth_basic_user_file htpasswd;
      content_by_js_block { ngx.say("admin ", ngx.var.remote_user ?? "-", " from ", ngx.var.remote_addr) }
    }
    location /api/ {
      limit_req zone=perip burst=2 nodelay;
      limit_req_status 429;
      limit_conn conns 10;
      limit_except GET { deny all; }
      content_by_js_block { ngx.say("api ", ngx.var.agent_kind) }
    }
  }
}
`;

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'the access modules in one conf'), () => {
    let t: TrestyProcess;
    let port: number;
    const access = (): string => { try { return fs.readFileSync(path.join(t.prefix, 'logs/access.log'), 'utf8'); } catch { return ''; } };
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(conf(port), {
        env: e.env,
        files: { 'html/index.html': 'home\n', 'html/pub/a.txt': 'a\n', 'conf/htpasswd': 'ops:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n' },
      });
    });
    afterAll(async () => { await t?.stop(); });

    it('serves static files and logs the map values and the real address', async () => {
      const r = await httpGet(port, '/pub/a.txt', { headers: { 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '203.0.113.7' } });
      expect(r.body).toBe('a\n');
      await expect.poll(access).toMatch(/^203\.0\.113\.7 127\.0\.0\.1 "GET \/pub\/a\.txt HTTP\/1\.1" 200 browser pub rl=-$/m);
    });

    it('admin: satisfy any of an address rule and a password', async () => {
      expect((await httpGet(port, '/admin/x')).status).toBe(401);
      expect((await httpGet(port, '/admin/x', { headers: basic('ops', 'secret') })).body).toBe('admin ops from 127.0.0.1\n');
      expect((await httpGet(port, '/admin/x', { headers: { 'x-forwarded-for': '10.1.2.3' } })).body).toBe('admin - from 10.1.2.3\n');
      expect((await httpGet(port, '/admin/x', { headers: { ...basic('ops', 'bad'), 'x-forwarded-for': '192.0.2.1' } })).status).toBe(401);
      await expect.poll(() => fs.readFileSync(path.join(t.prefix, 'logs/error.log'), 'utf8')).toMatch(/user "ops": password mismatch, client: 192\.0\.2\.1/);
    });

    it('api: limit_except, and burst 2 nodelay per real address across both workers, 429 after', async () => {
      const h = { 'user-agent': 'curl/8', 'x-forwarded-for': '198.51.100.9' };
      // limit_req runs before the access phase (nginx's preaccess): the refused DELETE counts too.
      expect((await httpGet(port, '/api/x', { method: 'DELETE', headers: h })).status).toBe(403);
      const got = await Promise.all(Array.from({ length: 6 }, () => httpGet(port, '/api/x', { headers: h })));
      expect(got.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
      expect(got.find((r) => r.status === 200)!.body).toBe('api cli\n');
      await expect.poll(access).toMatch(/^198\.51\.100\.9 127\.0\.0\.1 "GET \/api\/x HTTP\/1\.1" 429 cli api rl=REJECTED$/m);
    });
  });
}
