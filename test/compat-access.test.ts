// nginx's access module (allow/deny), `satisfy` with access_by_js, and the realip module
// (set_real_ip_from, real_ip_header, real_ip_recursive), as nginx 1.22 + lua-nginx-module answer:
// the Lua form runs on real nginx with the same expectations, the JS form on both HTTP engines.
// Clients are 127.0.0.1.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

/** The same location in both forms: `JS{...}` becomes a *_by_js_block or a *_by_lua_block. */
function both(name: string, conf: string, rest: Omit<Case, 'name' | 'conf' | 'lua'>): Case {
  const js = conf.replace(/(access|content|rewrite)_by_X_block/g, '$1_by_js_block');
  const lua = conf.replace(/(access|content|rewrite)_by_X_block/g, '$1_by_lua_block').replace(/===/g, '==');
  return { name, conf: js, lua, ...rest };
}

const say = (s: string): string => `content_by_X_block { ngx.say("${s}") }`;

const cases: Case[] = [
  both('first matching rule wins; CIDR; an IPv6 rule never matches an IPv4 client', `
    location = /d1 { deny 127.0.0.2; allow 127.0.0.0/8; deny all; ${say('d1')} }
    location = /d2 { deny ::1; deny 10.0.0.0/8; allow 127.0.0.1; deny all; ${say('d2')} }
    location = /d3 { allow 10.0.0.0/8; deny 127.0.0.0/24; ${say('d3')} }
    location = /d4 { allow 10.0.0.0/8; ${say('d4')} }`, {
    requests: [
      { path: '/d1', status: 200, resBody: 'd1\n' },
      { path: '/d2', status: 200, resBody: 'd2\n' },
      { path: '/d3', status: 403, resBody: /403 Forbidden/ },
      { path: '/d4', status: 200, resBody: 'd4\n' },
    ],
    errorLog: ['access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /d3 HTTP/1.1"'],
  }),
  both('a level with rules of its own replaces its parent\'s; a static location is checked too', `
    location /inh/ { deny all; location /inh/open { allow all; ${say('open')} } location /inh/closed { ${say('closed')} } }`, {
    requests: [
      { path: '/inh/open', status: 200, resBody: 'open\n' },
      { path: '/inh/closed', status: 403 },
      { path: '/inh/x.txt', status: 403 },
    ],
  }),
  both('satisfy all: a deny ends the request before access_by_js; no rule matching lets it run', `
    location = /a5 { deny all; access_by_X_block { ngx.log(ngx.ERR, "a5 ran") } ${say('c5')} }
    location = /a9 { allow 10.0.0.0/8; access_by_X_block { ngx.log(ngx.ERR, "a9 ran") } ${say('c9')} }`, {
    requests: [{ path: '/a5', status: 403 }, { path: '/a9', status: 200, resBody: 'c9\n' }],
    errorLog: ['a9 ran'],
    noErrorLog: ['a5 ran'],
  }),
  both('satisfy any: access_by_js that returns allows after a deny; an allow skips it; its 403 and 401 are the answer', `
    location = /a1 { satisfy any; deny all; access_by_X_block { } ${say('c1')} }
    location = /a2 { satisfy any; deny all; access_by_X_block { ngx.exit(ngx.OK) } ${say('c2')} }
    location = /a3 { satisfy any; deny all; access_by_X_block { ngx.exit(403) } ${say('c3')} }
    location = /a4 { satisfy any; allow all; access_by_X_block { ngx.log(ngx.ERR, "a4 ran"); ngx.exit(403) } ${say('c4')} }
    location = /a7 { satisfy any; deny all; access_by_X_block { ngx.exit(401) } ${say('c7')} }`, {
    requests: [
      { path: '/a1', status: 200, resBody: 'c1\n' },
      { path: '/a2', status: 200, resBody: 'c2\n' },
      { path: '/a3', status: 403 },
      { path: '/a4', status: 200, resBody: 'c4\n' },
      { path: '/a7', status: 401 },
    ],
    // satisfy any: the refusal is logged once, after every handler (nginx's post-access).
    errorLog: ['access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /a3 HTTP/1.1"'],
    noErrorLog: ['a4 ran', /forbidden by rule[^\n]*\/a7/],
  }),
  both('realip: X-Forwarded-For from a trusted proxy sets $remote_addr (and the port when given), not an untrusted one or junk', `
    location = /r1 { set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; content_by_X_block { ngx.say(ngx.var.remote_addr, " ", ngx.var.realip_remote_addr) } }
    location = /r1p { set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; content_by_X_block { ngx.say("[", ngx.var.remote_port, "]") } }
    location = /r2 { set_real_ip_from 10.0.0.0/8; real_ip_header X-Forwarded-For; content_by_X_block { ngx.say(ngx.var.remote_addr) } }
    location = /r3 { set_real_ip_from 127.0.0.1; set_real_ip_from 10.0.0.0/8; real_ip_header X-Forwarded-For; content_by_X_block { ngx.say(ngx.var.remote_addr, " ", ngx.var.remote_port) } }
    location = /r4 { set_real_ip_from 127.0.0.1; set_real_ip_from 10.0.0.0/8; real_ip_header X-Forwarded-For; real_ip_recursive on; content_by_X_block { ngx.say(ngx.var.remote_addr) } }`, {
    requests: [
      { path: '/r1', headers: { 'x-forwarded-for': '1.2.3.4' }, resBody: '1.2.3.4 127.0.0.1\n' },
      { path: '/r1p', headers: { 'x-forwarded-for': '1.2.3.4' }, resBody: '[]\n' },
      { path: '/r1p', headers: { 'x-forwarded-for': '1.2.3.4:99' }, resBody: '[99]\n' },
      { path: '/r1', resBody: '127.0.0.1 127.0.0.1\n' },
      { path: '/r1', headers: { 'x-forwarded-for': 'junk' }, resBody: '127.0.0.1 127.0.0.1\n' },
      { path: '/r2', headers: { 'x-forwarded-for': '1.2.3.4' }, resBody: '127.0.0.1\n' },
      { path: '/r3', headers: { 'x-forwarded-for': '5.5.5.5, 1.2.3.4:99' }, resBody: '1.2.3.4 99\n' },
      { path: '/r3', headers: { 'x-forwarded-for': '5.5.5.5, 1.2.3.4, 10.1.1.1' }, resBody: '10.1.1.1 \n' },
      { path: '/r4', headers: { 'x-forwarded-for': '5.5.5.5, 1.2.3.4, 10.1.1.1' }, resBody: '1.2.3.4\n' },
      { path: '/r4', headers: { 'x-forwarded-for': '10.2.2.2, 10.1.1.1' }, resBody: '10.2.2.2\n' },
      { path: '/r4', headers: { 'x-forwarded-for': '1.2.3.4, junk' }, resBody: '127.0.0.1\n' },
    ],
  }),
  both('realip in a location applies before access: deny sees the real address and the log line names it', `
    location = /rd { set_real_ip_from 127.0.0.1; real_ip_header X-Real-IP; deny 1.2.3.4; content_by_X_block { ngx.say("ok ", ngx.var.remote_addr) } }`, {
    requests: [
      { path: '/rd', headers: { 'x-real-ip': '1.2.3.4' }, status: 403 },
      { path: '/rd', headers: { 'x-real-ip': '1.2.3.5' }, status: 200, resBody: 'ok 1.2.3.5\n' },
      { path: '/rd', headers: { 'x-real-ip': '2001:db8::1' }, status: 200, resBody: 'ok 2001:db8::1\n' },
    ],
    errorLog: ['access forbidden by rule, client: 1.2.3.4, server: localhost, request: "GET /rd HTTP/1.1"'],
  }),
  both('realip with the server\'s settings applies before the rewrite phase (a custom header)', `
    location = /early { set $early $remote_addr; return 200 "$early $realip_remote_addr\\n"; }`, {
    requests: [
      { path: '/early', headers: { 'x-client': '9.9.9.9' }, resBody: '9.9.9.9 127.0.0.1\n' },
      { path: '/early', resBody: '127.0.0.1 127.0.0.1\n' },
    ],
  }),
];

const server = 'set_real_ip_from 127.0.0.1; real_ip_header X-Client;';
const files = { 'html/inh/x.txt': 'x\n' };
compatSuite('allow/deny, satisfy, realip', { files, server, luaServer: server }, cases);
phaseSuite('allow/deny, satisfy, realip on node:http', { http: 'http_engine node;', server, files }, cases);

// access_by_js_no_postpone on: the JS handler runs before allow/deny.
compatSuite('access_by_js_no_postpone', { http: 'access_by_js_no_postpone on;', luaHttp: 'access_by_lua_no_postpone on;' }, [
  both('the handler runs first; a deny still answers after it', `
    location = /np { deny all; access_by_X_block { ngx.log(ngx.ERR, "np ran") } ${say('np')} }
    location = /np2 { satisfy any; deny all; access_by_X_block { } ${say('np2')} }`, {
    requests: [{ path: '/np', status: 403 }, { path: '/np2', status: 200, resBody: 'np2\n' }],
    errorLog: ['np ran', 'access forbidden by rule'],
  }),
]);

// limit_except: the methods it names (GET brings HEAD) keep the location's settings; the others
// get the block's (allow/deny, auth_basic), which inherit from the location.
const htpasswd = 'u:{PLAIN}p\n';
const auth = { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };
const leCases: Case[] = [
  both('limit_except GET { deny all; }: GET and HEAD go on, POST and PUT are refused', `
    location = /le1 { limit_except GET { deny all; } ${say('le1')} }`, {
    requests: [
      { path: '/le1', status: 200, resBody: 'le1\n' },
      { path: '/le1', method: 'HEAD', status: 200 },
      { path: '/le1', method: 'POST', body: 'x', status: 403 },
      { path: '/le1', method: 'PUT', body: 'x', status: 403 },
    ],
    errorLog: ['access forbidden by rule, client: 127.0.0.1, server: localhost, request: "POST /le1 HTTP/1.1"'],
  }),
  both('the block inherits from the location and replaces what it sets; auth_basic in it', `
    location = /le2 { deny all; limit_except GET POST { allow all; } ${say('le2')} }
    location = /le3 { limit_except GET { auth_basic "w"; auth_basic_user_file htpasswd; } ${say('le3')} }`, {
    requests: [
      { path: '/le2', status: 403 },
      // nginx serves a method limit_except lets through with the block's conf, which has no
      // content handler of its own: the static module answers (405 for DELETE).
      { path: '/le2', method: 'DELETE', status: 405 },
      { path: '/le3', status: 200, resBody: 'le3\n' },
      { path: '/le3', method: 'POST', body: 'x', status: 401, resHeaders: { 'www-authenticate': 'Basic realm="w"' } },
      { path: '/le3', method: 'DELETE', headers: auth, status: 405 },
    ],
  }),
  both('for the other methods the location\'s rewrite-module ops do not run either; rewrite_by_js does', `
    location = /le4 { limit_except GET { allow all; } set $x 1; return 200 "ret $x"; }
    location = /le5 { limit_except GET { allow all; } rewrite_by_X_block { ngx.say("rw ", ngx.req.get_method()) } }`, {
    requests: [
      { path: '/le4', status: 200, resBody: 'ret 1' },
      { path: '/le4', method: 'DELETE', status: 405 },
      { path: '/le5', method: 'POST', body: 'x', status: 200, resBody: 'rw POST\n' },
    ],
  }),
];
const leFiles = { 'conf/htpasswd': htpasswd, htpasswd };
compatSuite('limit_except', { files: leFiles }, leCases);
phaseSuite('limit_except on node:http', { http: 'http_engine node;', files: leFiles }, leCases);
