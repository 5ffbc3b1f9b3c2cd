// Handlers that wait (phases/pending.ts): each phase's handler suspends, and what follows must
// happen exactly as if it had not: the next phase, ngx.ctx, an exit's status, an exec's jump,
// satisfy any's verdict (access.ts consumes the run as a promise), a throw's 500, the log phase.
// Each case runs on tresty, and its Lua form on nginx + lua-nginx-module with the same expectations.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'rewrite, access and content each wait; ngx.ctx goes through; the log phase runs after',
    conf: `location = /aw-chain {
      rewrite_by_js_block { await ngx.sleep(0.001); ngx.ctx.n = 1; }
      access_by_js_block { await ngx.sleep(0.001); ngx.ctx.n = ngx.ctx.n * 10 + 2; }
      content_by_js_block { await ngx.sleep(0.001); ngx.ctx.n = ngx.ctx.n * 10 + 3; ngx.say("n=", ngx.ctx.n); }
      log_by_js_block { ngx.log(ngx.ERR, "AW-CHAIN LOG ", ngx.ctx.n); }
    }`,
    lua: `location = /aw-chain {
      rewrite_by_lua_block { ngx.sleep(0.001) ngx.ctx.n = 1 }
      access_by_lua_block { ngx.sleep(0.001) ngx.ctx.n = ngx.ctx.n * 10 + 2 }
      content_by_lua_block { ngx.sleep(0.001) ngx.ctx.n = ngx.ctx.n * 10 + 3 ngx.say("n=", ngx.ctx.n) }
      log_by_lua_block { ngx.log(ngx.ERR, "AW-CHAIN LOG ", ngx.ctx.n) }
    }`,
    requests: [{ path: '/aw-chain', status: 200, resBody: 'n=123\n' }],
    errorLog: ['AW-CHAIN LOG 123'],
  },
  {
    name: 'ngx.exit after a wait in rewrite ends the request with its status; access and content do not run',
    conf: `location = /aw-exit {
      rewrite_by_js_block { await ngx.sleep(0.001); ngx.exit(403); }
      access_by_js_block { ngx.log(ngx.ERR, "AW-EXIT ACCESS RAN"); }
      content_by_js_block { ngx.say("AW-EXIT CONTENT RAN"); }
    }`,
    lua: `location = /aw-exit {
      rewrite_by_lua_block { ngx.sleep(0.001) ngx.exit(403) }
      access_by_lua_block { ngx.log(ngx.ERR, "AW-EXIT ACCESS RAN") }
      content_by_lua_block { ngx.say("AW-EXIT CONTENT RAN") }
    }`,
    requests: [{ path: '/aw-exit', status: 403 }],
    noErrorLog: ['AW-EXIT ACCESS RAN'],
  },
  {
    name: 'output after a wait in access ends the request there',
    conf: `location = /aw-out {
      access_by_js_block { await ngx.sleep(0.001); ngx.say("from access"); }
      content_by_js_block { ngx.say("AW-OUT CONTENT RAN"); }
    }`,
    lua: `location = /aw-out {
      access_by_lua_block { ngx.sleep(0.001) ngx.say("from access") }
      content_by_lua_block { ngx.say("AW-OUT CONTENT RAN") }
    }`,
    requests: [{ path: '/aw-out', status: 200, resBody: 'from access\n' }],
  },
  {
    name: 'ngx.exec after a wait in rewrite jumps; the target waits too',
    conf: `location = /aw-exec { rewrite_by_js_block { await ngx.sleep(0.001); ngx.exec("/aw-exec-to", "a=1"); } }
    location = /aw-exec-to { content_by_js_block { await ngx.sleep(0.001); ngx.say("to ", ngx.var.args); } }`,
    lua: `location = /aw-exec { rewrite_by_lua_block { ngx.sleep(0.001) ngx.exec("/aw-exec-to", "a=1") } }
    location = /aw-exec-to { content_by_lua_block { ngx.sleep(0.001) ngx.say("to ", ngx.var.args) } }`,
    requests: [{ path: '/aw-exec', status: 200, resBody: 'to a=1\n' }],
  },
  {
    name: 'satisfy any: a waiting access handler that exits with ngx.OK grants access past deny all',
    conf: `location = /aw-any-ok {
      satisfy any;
      deny all;
      access_by_js_block { await ngx.sleep(0.001); ngx.exit(ngx.OK); }
      content_by_js_block { ngx.say("granted"); }
    }`,
    lua: `location = /aw-any-ok {
      satisfy any;
      deny all;
      access_by_lua_block { ngx.sleep(0.001) ngx.exit(ngx.OK) }
      content_by_lua_block { ngx.say("granted") }
    }`,
    requests: [{ path: '/aw-any-ok', status: 200, resBody: 'granted\n' }],
  },
  {
    name: 'satisfy any: a waiting access handler that exits with 403 leaves deny all refusing',
    conf: `location = /aw-any-no {
      satisfy any;
      deny all;
      access_by_js_block { await ngx.sleep(0.001); ngx.exit(403); }
      content_by_js_block { ngx.say("AW-ANY-NO CONTENT RAN"); }
    }`,
    lua: `location = /aw-any-no {
      satisfy any;
      deny all;
      access_by_lua_block { ngx.sleep(0.001) ngx.exit(403) }
      content_by_lua_block { ngx.say("AW-ANY-NO CONTENT RAN") }
    }`,
    requests: [{ path: '/aw-any-no', status: 403 }],
  },
  {
    name: 'a throw after a wait gives a 500 and an error line; the log phase still runs',
    conf: `location = /aw-throw {
      content_by_js_block { await ngx.sleep(0.001); throw new Error("aw-throw boom"); }
      log_by_js_block { ngx.log(ngx.ERR, "AW-THROW LOG ", ngx.status); }
    }`,
    lua: `location = /aw-throw {
      content_by_lua_block { ngx.sleep(0.001) error("aw-throw boom") }
      log_by_lua_block { ngx.log(ngx.ERR, "AW-THROW LOG ", ngx.status) }
    }`,
    requests: [{ path: '/aw-throw', status: 500 }],
    errorLog: [/\[error\] .*\*\d+ (js|lua) entry thread aborted: runtime error: .*aw-throw boom/, 'AW-THROW LOG 500'],
  },
];

compatSuite('handlers that wait', {}, cases);
