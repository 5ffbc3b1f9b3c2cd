// Cases checked twice over: against tresty (the JS form, as phaseSuite does) and, when nginx +
// lua-nginx-module is installed, their Lua form against real nginx with the same expectations,
// so what tresty is held to is what OpenResty does. CI installs nginx; elsewhere the Lua half
// skips with the reason.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Case, phaseSuite, runCase, type Suite } from './phases-harness.js';
import { type Nginx, nginxMissing, startNginx } from './nginx.js';

export interface CompatSuite extends Suite {
  /** http-level directives of the Lua form (instead of `http`). */
  luaHttp?: string;
  /** server-level directives of the Lua form (instead of `server`). */
  luaServer?: string;
}

/** The server block of the Lua form: the cases' locations under a root in nginx's prefix. */
function luaServer(suite: CompatSuite, cases: readonly Case[]): string {
  return `server_name localhost;
    default_type text/plain;
    root __PREFIX__/html;
    ${suite.luaServer ?? ''}
${cases.map((c) => c.lua).join('\n')}`;
}

export function compatSuite(title: string, suite: CompatSuite, cases: readonly Case[]): void {
  phaseSuite(title, suite, cases);
  const lua = cases.filter((c) => c.lua !== undefined);
  if (lua.length === 0) return;
  const missing = nginxMissing();
  describe.skipIf(missing !== null)(`${title}: the Lua form on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
    let n: Nginx;
    beforeAll(async () => { n = await startNginx(luaServer(suite, lua), suite.luaHttp ?? '', suite.files); });
    afterAll(async () => { await n?.stop(); });
    for (const c of lua) {
      it(c.name, () => runCase(n.port, () => n.errorLog(), {
        ...c, requests: c.luaRequests ?? c.requests, errorLog: c.luaErrorLog ?? c.errorLog,
      }));
    }
  });
}
