// A `set $x` in one server declares $x for the whole http{} as nginx 1.22 declares it: another
// server's `ngx.var.x = v` may write it (no "not found for writing"), and a read before any
// write there is empty with nginx's [warn] `using uninitialized "x" variable`. Checked on nginx + lua.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const OTHER = 'server { listen 127.0.0.2:__PORT__; location / { set $xv 1; return 200 "other\\n"; } }';

const cases: Case[] = [
  {
    name: 'a handler writes a variable only another server sets',
    conf: 'location = /w { content_by_js_block { ngx.var.xv = "w"; ngx.say("[", ngx.var.xv, "]"); } }',
    lua: 'location = /w { content_by_lua_block { ngx.var.xv = "w" ngx.say("[", ngx.var.xv, "]") } }',
    requests: [{ path: '/w', status: 200, resBody: '[w]\n' }],
  },
  {
    name: 'read before any write: empty, with the uninitialized warning',
    conf: 'location = /r { return 200 "[$xv]\\n"; }',
    lua: 'location = /r { return 200 "[$xv]\\n"; }',
    requests: [{ path: '/r', status: 200, resBody: '[]\n' }],
    errorLog: [/\[warn\] .*using uninitialized "xv" variable/],
  },
];

compatSuite('set in another server', { http: OTHER, luaHttp: OTHER }, cases);
phaseSuite('set in another server on node:http', { http: `http_engine node; ${OTHER}` }, cases);
