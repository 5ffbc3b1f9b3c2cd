// nginx lowercases a variable's name where the conf declares or uses it, and lua-nginx-module's
// ngx.var does too: `$HOST`, `${Request_Uri}`, `ngx.var.Arg_a` are $host, $request_uri, $arg_a, and
// `set $Foo` declares $foo. tresty read them as other, unknown, names (empty / nil). Checked on
// nginx 1.22 + lua.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const HTTP = 'map $arg_m $Mapped { default "d"; x "mx"; }';

const cases: Case[] = [
  {
    name: 'conf variables in any case',
    conf: 'location = /c { return 200 "[$HOST][${Request_Uri}][$ARG_A][$Http_X_Y][$mapped][$MAPPED]\\n"; }',
    lua: 'location = /c { return 200 "[$HOST][${Request_Uri}][$ARG_A][$Http_X_Y][$mapped][$MAPPED]\\n"; }',
    requests: [{ path: '/c?a=1&m=x', headers: { host: 'h.test', 'x-y': 'q' }, status: 200,
      resBody: '[h.test][/c?a=1&m=x][1][q][mx][mx]\n' }],
  },
  {
    name: 'set and regex captures declare lowercase names',
    conf: `location = /s { set $Foo "f"; set $BAR "$fOO-b"; return 200 "[$foo][$bar][$FOO]\\n"; }
    location ~ ^/cap/(?<Part>[a-z]+)$ { return 200 "[$part][$PART]\\n"; }`,
    lua: `location = /s { set $Foo "f"; set $BAR "$fOO-b"; return 200 "[$foo][$bar][$FOO]\\n"; }
    location ~ ^/cap/(?<Part>[a-z]+)$ { return 200 "[$part][$PART]\\n"; }`,
    requests: [
      { path: '/s', status: 200, resBody: '[f][f-b][f]\n' },
      { path: '/cap/abc', status: 200, resBody: '[abc][abc]\n' },
    ],
  },
  {
    name: 'ngx.var reads and writes in any case',
    conf: `location = /j { set $foo "a"; content_by_js_block {
      ngx.var.FOO = "w";
      ngx.say(ngx.var.HOST, " ", ngx.var.Arg_a, " ", ngx.var.URI, " ", ngx.var.foo, " ", ngx.var.Http_X_Y);
    } }`,
    lua: `location = /j { set $foo "a"; content_by_lua_block {
      ngx.var.FOO = "w"
      ngx.say(ngx.var.HOST, " ", ngx.var.Arg_a, " ", ngx.var.URI, " ", ngx.var.foo, " ", ngx.var.Http_X_Y)
    } }`,
    requests: [{ path: '/j?a=2', headers: { host: 'h.test', 'x-y': 'q' }, status: 200, resBody: 'h.test 2 /j w q\n' }],
  },
];

compatSuite('variable names are lowercase', { http: HTTP, luaHttp: HTTP }, cases);
phaseSuite('variable names are lowercase on node:http', { http: `http_engine node; ${HTTP}` }, cases);
