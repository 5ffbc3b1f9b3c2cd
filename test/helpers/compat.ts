// Cases checked twice over: against tresty (the JS form, as phaseSuite does) and, when nginx +
// lua-nginx-module is installed, their Lua form against real nginx with the same expectations,
// so what tresty is held to is what OpenResty does. CI installs nginx; elsewhere the Lua half
// skips with the reason.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Case, phaseSuite, runCase, type Suite } from './phases-harness.js';
import { nginxMissing, type NginxProcess, startNginx } from './nginx.js';
import { freePort } from './server.js';

export interface CompatSuite extends Suite {
  /** http-level directives of the Lua form (instead of `http`). */
  luaHttp?: string;
  /** server-level directives of the Lua form (instead of `server`). */
  luaServer?: string;
}

function luaConf(port: number, suite: CompatSuite, cases: readonly Case[]): string {
  return `load_module __MODULES__/ndk_http_module.so;
load_module __MODULES__/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
master_process on;
pid __PREFIX__/nginx.pid;
error_log __PREFIX__/logs/error.log info;
events {}
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path __PREFIX__/client_body;
  proxy_temp_path __PREFIX__/proxy;
  fastcgi_temp_path __PREFIX__/fastcgi;
  uwsgi_temp_path __PREFIX__/uwsgi;
  scgi_temp_path __PREFIX__/scgi;
  ${suite.luaHttp ?? ''}
  server {
    listen 127.0.0.1:${port} default_server;
    server_name localhost;
    root __PREFIX__/html;
    ${suite.luaServer ?? ''}
${cases.map((c) => c.lua).join('\n')}
  }
}
`;
}

export function compatSuite(title: string, suite: CompatSuite, cases: readonly Case[]): void {
  phaseSuite(title, suite, cases);
  const lua = cases.filter((c) => c.lua !== undefined);
  if (lua.length === 0) return;
  const missing = nginxMissing();
  describe.skipIf(missing !== null)(`${title}: the Lua form on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let n: NginxProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      n = await startNginx(luaConf(port, suite, lua), port, suite.files);
    });
    afterAll(async () => { await n?.stop(); });
    for (const c of lua) {
      it(c.name, () => runCase(port, () => n.errorLog(), {
        ...c, requests: c.luaRequests ?? c.requests, errorLog: c.luaErrorLog ?? c.errorLog,
      }));
    }
  });
}
