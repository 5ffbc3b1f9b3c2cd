// ngx_http_auth_request_module (auth_request, auth_request_set) as nginx 1.22 + lua-nginx-module
// answers: the Lua form on real nginx, the JS form on both HTTP engines, with the same
// expectations. Before this module tresty refused both directives as "unknown directive".
import { describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { confErrorOf, serverConf } from './helpers/conf-load.js';
import { nginxConfError, nginxMissing } from './helpers/nginx.js';
import { phaseSuite, type Case, type Expect } from './helpers/phases-harness.js';

function both(name: string, conf: string, rest: Omit<Case, 'name' | 'conf' | 'lua'>): Case {
  const js = conf.replace(/(access|content)_by_X_block/g, '$1_by_js_block');
  const lua = conf.replace(/(access|content)_by_X_block/g, '$1_by_lua_block');
  return { name, conf: js, lua, ...rest };
}

const say = (s: string): string => `content_by_X_block { ngx.say("${s}") }`;

// The auth locations: internal, answering with a status of their own. Headers come from the
// handler: nginx's add_header does not act on a subrequest (nor does tresty's).
const auth = `
    location = /s200 { internal; content_by_X_block { ngx.header["X-User"] = "bob"; ngx.say("authbody") } }
    location = /s204 { internal; content_by_X_block { ngx.header["X-User"] = "amy"; ngx.exit(204) } }
    location = /s301 { internal; return 301 /elsewhere; }
    location = /s401 { internal; content_by_X_block { ngx.header["WWW-Authenticate"] = "Basic realm=x"; ngx.exit(401) } }
    location = /s403 { internal; return 403; }
    location = /s500 { internal; return 500; }
    location = /slog { internal; content_by_X_block { ngx.log(ngx.ERR, "auth sub ", ngx.req.get_method(), " ", ngx.var.uri) } }
    location = /back { add_header X-User pxuser; return 200 "back"; }
    location = /back401 { add_header WWW-Authenticate "Bearer x" always; return 401; }
    location = /px { internal; proxy_pass http://127.0.0.1:__PORT__/back; proxy_pass_request_body off; proxy_set_header Content-Length ""; }
    location = /px401 { internal; proxy_pass http://127.0.0.1:__PORT__/back401; }`;

const errorPage = (h: string | undefined): Expect[] => [
  { path: '/k', status: 200, resBody: 'handled 401\n', resHeaders: { 'www-authenticate': h } },
];
const statics: Expect[] = [
  { path: '/st/f.txt', status: 403 },
  { path: '/st2/f.txt', status: 200, resBody: 'f\n' },
  { path: '/hl', status: 200, resBody: 'hl bob\n' },
];

const cases: Case[] = [
  both('2xx lets the request on; 401 (with the subrequest\'s WWW-Authenticate) and 403 are the answer; others are 500', `${auth}
    location = /a200 { auth_request /s200; auth_request_set $u $sent_http_x_user; content_by_X_block { ngx.say("ok ", ngx.var.u) } }
    location = /a204 { auth_request /s204; auth_request_set $u $sent_http_x_user; content_by_X_block { ngx.say("ok ", ngx.var.u) } }
    location = /a401 { auth_request /s401; ${say('a401')} }
    location = /a403 { auth_request /s403; ${say('a403')} }
    location = /a301 { auth_request /s301; ${say('a301')} }
    location = /a500 { auth_request /s500; ${say('a500')} }
    location = /a404 { auth_request /nosuch; ${say('a404')} }`, {
    requests: [
      { path: '/a200', status: 200, resBody: 'ok bob\n' },
      { path: '/a204', status: 200, resBody: 'ok amy\n' },
      { path: '/a401', status: 401, resHeaders: { 'www-authenticate': 'Basic realm=x' }, resBody: /401 Authorization Required/ },
      { path: '/a403', status: 403, resBody: /403 Forbidden/ },
      { path: '/a301', status: 500 },
      { path: '/a500', status: 500, resBody: /500 Internal Server Error/ },
      { path: '/a404', status: 500 },
    ],
    errorLog: [
      'auth request unexpected status: 301, client: 127.0.0.1, server: localhost, request: "GET /a301 HTTP/1.1"',
      'auth request unexpected status: 500, client: 127.0.0.1',
      'auth request unexpected status: 404, client: 127.0.0.1',
    ],
  }),
  both('the subrequest is a GET of the URI, also for a POST with a body; the internal location is not reachable', `
    location = /ab { auth_request /slog; content_by_X_block { ngx.say("b ", ngx.var.request_method) } }`, {
    requests: [
      { path: '/ab', method: 'POST', body: 'hello', status: 200, resBody: 'b POST\n' },
      { path: '/slog', status: 404 },
    ],
    errorLog: ['auth sub GET /slog'],
  }),
  both('order: allow/deny first, then auth_request, then access_by_js; satisfy any', `
    location = /ag { auth_request /slog; deny all; ${say('ag')} }
    location = /af { auth_request /s403; access_by_X_block { ngx.log(ngx.ERR, "af access ran") } ${say('af')} }
    location = /af2 { auth_request /s200; access_by_X_block { ngx.log(ngx.ERR, "af2 access ran") } ${say('af2')} }
    location = /d200 { satisfy any; deny all; auth_request /s200; ${say('d200')} }
    location = /d401 { satisfy any; deny all; auth_request /s401; ${say('d401')} }
    location = /d403 { satisfy any; deny all; auth_request /s403; ${say('d403')} }
    location = /d500 { satisfy any; deny all; auth_request /s500; ${say('d500')} }
    location = /e403 { satisfy any; allow all; auth_request /s403; ${say('e403')} }`, {
    requests: [
      { path: '/ag', status: 403 },
      { path: '/af', status: 403 },
      { path: '/af2', status: 200, resBody: 'af2\n' },
      { path: '/d200', status: 200, resBody: 'd200\n' },
      { path: '/d401', status: 401, resHeaders: { 'www-authenticate': 'Basic realm=x' } },
      { path: '/d403', status: 403 },
      { path: '/d500', status: 500 },
      { path: '/e403', status: 200, resBody: 'e403\n' },
    ],
    errorLog: ['af2 access ran', 'access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /d403 HTTP/1.1"'],
    noErrorLog: ['af access ran', /auth sub[^\n]*request: "GET \/ag/],
  }),
  both('a proxy_pass auth backend: $upstream_http_*, $upstream_status; its 401 brings its WWW-Authenticate', `
    location = /h { auth_request /px; auth_request_set $u $upstream_http_x_user; auth_request_set $st $upstream_status; auth_request_set $ss $status;
      content_by_X_block { ngx.say("h ", ngx.var.u, " ", ngx.var.st, " ", ngx.var.ss) } }
    location = /i { auth_request /px401; ${say('i')} }`, {
    requests: [
      { path: '/h', status: 200, resBody: 'h pxuser 200 200\n' },
      { path: '/i', status: 401, resHeaders: { 'www-authenticate': 'Bearer x' } },
    ],
  }),
  both('inherited from the server; auth_request off in a location', `
    location = /inh { ${say('inh')} }
    location = /open { auth_request off; ${say('open')} }`, {
    requests: [
      { path: '/inh', status: 403 },
      { path: '/open', status: 200, resBody: 'open\n' },
    ],
  }),
  both('error_page 401 keeps the subrequest\'s WWW-Authenticate; static files are checked too; auth_request_set from http', `
    location = /k { auth_request /s401; error_page 401 = /err401; ${say('k')} }
    location = /err401 { auth_request off; ${say('handled 401')} }
    location /st/ { auth_request /s403; }
    location /st2/ { auth_request /s200; }
    location = /hl { auth_request /s200; content_by_X_block { ngx.say("hl ", ngx.var.hv) } }`, {
    // nginx's error_page redirect keeps the headers set so far (tresty's too since subreqfuzz's
    // ngx.exec change: internal redirects keep headers_out)
    requests: [...errorPage('Basic realm=x'), ...statics],
  }),
  both('a URI with ? is the subrequest\'s path as written: nothing is split off into $args', `
    location /q { internal; if ($args != "") { return 403; } if ($uri != "/q?x=1") { return 403; } return 204; }
    location = /wq { auth_request /q?x=1; ${say('wq')} }`, {
    requests: [{ path: '/wq', status: 200, resBody: 'wq\n' }],
  }),
];

const server = 'location = /srv403 { internal; return 403; } auth_request /srv403;';
const http = 'auth_request_set $hv $sent_http_x_user;';
const files = { 'html/st/f.txt': 'f\n', 'html/st2/f.txt': 'f\n' };
compatSuite('auth_request', { server, luaServer: server, http, luaHttp: http, files }, cases);
phaseSuite('auth_request on node:http', { http: `http_engine node; ${http}`, server, files }, cases);

describe('auth_request conf errors, as nginx -t', () => {
  const errs: Array<[string, RegExp]> = [
    ['location / { auth_request_set u x; }', /^invalid variable name "u" in \S+:3$/],
    ['location / { auth_request_set $ x; }', /^invalid variable name "\$" in \S+:3$/],
    ['location / { auth_request_set $host x; }', /^the duplicate "host" variable in \S+:3$/],
    ['location / { auth_request_set $u; }', /^invalid number of arguments in "auth_request_set" directive in \S+:3$/],
    ['location / { auth_request a b; }', /^invalid number of arguments in "auth_request" directive in \S+:3$/],
    ['location / { auth_request off; auth_request /x; }', /^"auth_request" directive is duplicate in \S+:3$/],
    ['location / { if ($args) { auth_request /a; } }', /^"auth_request" directive is not allowed here in \S+:3$/],
    ['location / { limit_except GET { auth_request /x; } }', /^"auth_request" directive is not allowed here in \S+:3$/],
  ];
  it('tresty', () => {
    for (const [conf, re] of errs) expect(confErrorOf(serverConf(conf)).message, conf).toMatch(re);
  });
  it.skipIf(nginxMissing() !== null)('nginx', () => {
    for (const [conf, re] of errs) {
      const msg = re.source.replace(/^\^/, '').replace(/ in \\S\+:3\$$/, '');
      expect(nginxConfError(conf), conf).toMatch(new RegExp(msg));
    }
  });
});
