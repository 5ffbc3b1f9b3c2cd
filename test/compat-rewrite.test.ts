// nginx's rewrite-module directives and the core ones that steer a request inside a server
// (if, rewrite, break, return in if, try_files, error_page, internal) with their ordering against
// `set` and rewrite_by_js, as lua-nginx-module's suite writes cases: conf, request, expected
// answer and log lines, each run twice. The Lua form of each case runs on real nginx too.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

const files = {
  'html/tf/a.txt': 'file-a\n',
  'html/tf/dir/index.html': 'idx\n',
  'html/404.html': 'custom404\n',
};

const cases: Case[] = [
  {
    name: 'the rewrite-module ops all run before rewrite_by_js (postponed, as rewrite_by_lua)',
    conf: `location = /order { set $a "1"; rewrite_by_js_block { ngx.var.a = ngx.var.a + "-js" } set $a "\${a}-set2"; content_by_js_block { ngx.say(ngx.var.a) } }`,
    lua: `location = /order { set $a "1"; rewrite_by_lua_block { ngx.var.a = ngx.var.a .. "-js" } set $a "\${a}-set2"; content_by_lua_block { ngx.say(ngx.var.a) } }`,
    requests: [{ path: '/order', status: 200, resBody: '1-set2-js\n' }],
  },
  {
    name: 'if: `=`, regex captures ($1, $2) and a bare variable',
    conf: `location = /if1 { set $x ""; if ($arg_a = "yes") { set $x "matched"; } if ($arg_b ~ "^(\\d+)-(\\d+)$") { set $x "$x re:$2,$1"; } if ($arg_c) { set $x "$x c"; } content_by_js_block { ngx.say("x=", ngx.var.x) } }`,
    lua: `location = /if1 { set $x ""; if ($arg_a = "yes") { set $x "matched"; } if ($arg_b ~ "^(\\d+)-(\\d+)$") { set $x "$x re:$2,$1"; } if ($arg_c) { set $x "$x c"; } content_by_lua_block { ngx.say("x=", ngx.var.x) } }`,
    requests: [
      { path: '/if1?a=yes&b=12-34&c=1', resBody: 'x=matched re:34,12 c\n' },
      { path: '/if1?c=0', resBody: 'x=\n' },
      { path: '/if1?a=no&b=x', resBody: 'x=\n' },
    ],
  },
  {
    name: 'a location if that matches supplies the content handler',
    conf: `location = /if-content { if ($arg_a) { content_by_js_block { ngx.say("in if") } } content_by_js_block { ngx.say("outer") } }`,
    lua: `location = /if-content { if ($arg_a) { content_by_lua_block { ngx.say("in if") } } content_by_lua_block { ngx.say("outer") } }`,
    requests: [{ path: '/if-content?a=1', resBody: 'in if\n' }, { path: '/if-content', resBody: 'outer\n' }],
  },
  {
    name: 'the rewrite_by_js of a matching if runs (it comes after the script)',
    conf: `location = /if-rw { set $x ""; if ($arg_a) { rewrite_by_js_block { ngx.var.x = "if-js" } } rewrite_by_js_block { ngx.var.x = "outer-js" } content_by_js_block { ngx.say(ngx.var.x) } }`,
    lua: `location = /if-rw { set $x ""; if ($arg_a) { rewrite_by_lua_block { ngx.var.x = "if-js" } } rewrite_by_lua_block { ngx.var.x = "outer-js" } content_by_lua_block { ngx.say(ngx.var.x) } }`,
    requests: [{ path: '/if-rw?a=1', resBody: 'if-js\n' }, { path: '/if-rw', resBody: 'outer-js\n' }],
  },
  {
    name: 'return inside if, with a method test and a text body',
    conf: `location = /if-return { if ($request_method = POST) { return 405; } if ($arg_r) { return 403 "denied"; } return 200 "fine"; }`,
    lua: `location = /if-return { if ($request_method = POST) { return 405; } if ($arg_r) { return 403 "denied"; } return 200 "fine"; }`,
    requests: [
      { path: '/if-return?r=1', status: 403, resBody: 'denied' },
      { path: '/if-return', status: 200, resBody: 'fine' },
      { path: '/if-return', method: 'POST', status: 405, resBody: /405 Not Allowed/ },
    ],
  },
  {
    name: 'if (-f / !-e / -d) test files under root',
    conf: `location = /tf/a.txt { if (-f $request_filename) { return 200 "is file"; } return 200 "not file"; }
    location = /if-missing { if (!-e $request_filename) { return 200 "missing"; } return 200 "exists"; }
    location /tf/ { if (-d $request_filename) { return 200 "dir"; } return 200 "nodir"; }`,
    lua: `location = /tf/a.txt { if (-f $request_filename) { return 200 "is file"; } return 200 "not file"; }
    location = /if-missing { if (!-e $request_filename) { return 200 "missing"; } return 200 "exists"; }
    location /tf/ { if (-d $request_filename) { return 200 "dir"; } return 200 "nodir"; }`,
    requests: [
      { path: '/tf/a.txt', resBody: 'is file' },
      { path: '/if-missing', resBody: 'missing' },
      { path: '/tf/', resBody: 'dir' },
      { path: '/tf/dir', resBody: 'dir' },
      { path: '/tf/zz', resBody: 'nodir' },
    ],
  },
  {
    name: 'rewrite without a flag: the location is found again; new args come before the old ones',
    conf: `location = /rw { rewrite ^/rw$ /target?y=2; content_by_js_block { ngx.say("never") } }
    location = /rw-noargs { rewrite ^ /target?; }
    location = /target { content_by_js_block { ngx.say("target uri=", ngx.var.uri, " args=", ngx.var.args ?? "nil", " internal=", ngx.req.is_internal()) } }`,
    lua: `location = /rw { rewrite ^/rw$ /target?y=2; content_by_lua_block { ngx.say("never") } }
    location = /rw-noargs { rewrite ^ /target?; }
    location = /target { content_by_lua_block { ngx.say("target uri=", ngx.var.uri, " args=", ngx.var.args, " internal=", ngx.req.is_internal()) } }`,
    requests: [
      { path: '/rw?q=1', resBody: 'target uri=/target args=y=2&q=1 internal=true\n' },
      { path: '/rw-noargs?q=1', resBody: 'target uri=/target args= internal=true\n' },
    ],
  },
  {
    name: 'rewrite ... last stops the script and skips rewrite_by_js; ... break stays in the location and runs it',
    conf: `location = /rw-last { rewrite ^ /target2 last; set $never 1; rewrite_by_js_block { ngx.log(ngx.ERR, "RW-JS after last") } }
    location = /rw-break { rewrite ^ /broken break; rewrite_by_js_block { ngx.log(ngx.ERR, "RW-JS after break uri=", ngx.var.uri) } content_by_js_block { ngx.say("uri=", ngx.var.uri) } }
    location = /target2 { content_by_js_block { ngx.say("target2") } }`,
    lua: `location = /rw-last { rewrite ^ /target2 last; set $never 1; rewrite_by_lua_block { ngx.log(ngx.ERR, "RW-JS after last") } }
    location = /rw-break { rewrite ^ /broken break; rewrite_by_lua_block { ngx.log(ngx.ERR, "RW-JS after break uri=", ngx.var.uri) } content_by_lua_block { ngx.say("uri=", ngx.var.uri) } }
    location = /target2 { content_by_lua_block { ngx.say("target2") } }`,
    requests: [{ path: '/rw-last', resBody: 'target2\n' }, { path: '/rw-break', resBody: 'uri=/broken\n' }],
    errorLog: ['RW-JS after break uri=/broken'],
    noErrorLog: ['RW-JS after last'],
  },
  {
    name: 'rewrite to a URL or with permanent/redirect answers a redirect',
    conf: `location = /rw-perm { rewrite ^ http://example.com/p permanent; }
    location /rw-redir { rewrite ^/rw-redir(.*)$ http://example.com/new$1 redirect; }`,
    lua: `location = /rw-perm { rewrite ^ http://example.com/p permanent; }
    location /rw-redir { rewrite ^/rw-redir(.*)$ http://example.com/new$1 redirect; }`,
    requests: [
      { path: '/rw-perm', status: 301, resHeaders: { location: 'http://example.com/p' } },
      { path: '/rw-redir/zz?k=v', status: 302, resHeaders: { location: 'http://example.com/new/zz?k=v' } },
    ],
  },
  {
    name: 'rewrites that loop end after 10 cycles with a 500',
    conf: `location = /loop1 { rewrite ^ /loop2 last; }
    location = /loop2 { rewrite ^ /loop1 last; }`,
    lua: `location = /loop1 { rewrite ^ /loop2 last; }
    location = /loop2 { rewrite ^ /loop1 last; }`,
    requests: [{ path: '/loop1', status: 500 }],
    errorLog: ['rewrite or internal redirection cycle while processing "/loop'],
  },
  {
    name: 'try_files: the first file found is served by the location; else a named location or =code',
    conf: `location /tryf { try_files /tf/$arg_f @fallback; }
    location @fallback { content_by_js_block { ngx.say("fallback uri=", ngx.var.uri) } }
    location /tryc { try_files /tf/$arg_f =404; }
    location /trycontent { try_files /tf/a.txt =404; content_by_js_block { ngx.say("js uri=", ngx.var.uri) } }`,
    lua: `location /tryf { try_files /tf/$arg_f @fallback; }
    location @fallback { content_by_lua_block { ngx.say("fallback uri=", ngx.var.uri) } }
    location /tryc { try_files /tf/$arg_f =404; }
    location /trycontent { try_files /tf/a.txt =404; content_by_lua_block { ngx.say("js uri=", ngx.var.uri) } }`,
    requests: [
      { path: '/tryf?f=a.txt', status: 200, resBody: 'file-a\n' },
      { path: '/tryf?f=zz', status: 200, resBody: 'fallback uri=/tryf\n' },
      { path: '/tryc?f=zz', status: 404, resBody: /404 Not Found/ },
      { path: '/trycontent', status: 200, resBody: 'js uri=/tf/a.txt\n' },
    ],
  },
  {
    name: 'try_files falls back to a URI with args',
    conf: `location /tryu { try_files /none /target3?from=$uri; }
    location = /target3 { content_by_js_block { ngx.say("t3 ", ngx.var.args) } }`,
    lua: `location /tryu { try_files /none /target3?from=$uri; }
    location = /target3 { content_by_lua_block { ngx.say("t3 ", ngx.var.args) } }`,
    requests: [{ path: '/tryu', resBody: 't3 from=/tryu\n' }],
  },
  {
    name: 'error_page: a URI keeps the status; =CODE changes it; = takes the target\'s; a URL redirects',
    conf: `location /ep1 { error_page 404 /404.html; content_by_js_block { ngx.exit(404) } }
    location /ep2 { error_page 403 =200 /target4; return 403; }
    location /ep3 { error_page 500 = @fallback3; content_by_js_block { throw new Error("ep3 boom") } }
    location /ep4 { error_page 404 =301 http://example.com/; return 404; }
    location @fallback3 { content_by_js_block { ngx.say("fallback3 uri=", ngx.var.uri) } }
    location = /target4 { content_by_js_block { ngx.say("t4 ", ngx.req.get_method()) } }
    location = /404.html { }`,
    lua: `location /ep1 { error_page 404 /404.html; content_by_lua_block { ngx.exit(404) } }
    location /ep2 { error_page 403 =200 /target4; return 403; }
    location /ep3 { error_page 500 = @fallback3; content_by_lua_block { error("ep3 boom") } }
    location /ep4 { error_page 404 =301 http://example.com/; return 404; }
    location @fallback3 { content_by_lua_block { ngx.say("fallback3 uri=", ngx.var.uri) } }
    location = /target4 { content_by_lua_block { ngx.say("t4 ", ngx.req.get_method()) } }
    location = /404.html { }`,
    requests: [
      { path: '/ep1', status: 404, resBody: 'custom404\n' },
      { path: '/ep2', method: 'POST', status: 200, resBody: 't4 GET\n' },
      { path: '/ep3', status: 200, resBody: 'fallback3 uri=/ep3\n' },
      { path: '/ep4', status: 301, resHeaders: { location: 'http://example.com/' } },
    ],
    errorLog: ['ep3 boom'],
  },
  {
    name: 'error_page does not apply to a status a handler answers itself',
    conf: `location /ep5 { error_page 404 /404.html; content_by_js_block { ngx.status = 404; ngx.say("own") } }`,
    lua: `location /ep5 { error_page 404 /404.html; content_by_lua_block { ngx.status = 404 ngx.say("own") } }`,
    requests: [{ path: '/ep5', status: 404, resBody: 'own\n' }],
  },
  {
    name: 'internal: 404 from outside, reachable by error_page (which keeps its status)',
    conf: `location /ep6 { error_page 404 /internal-only; return 404; }
    location /internal-only { internal; content_by_js_block { ngx.say("internal ok status=", ngx.status) } }`,
    lua: `location /ep6 { error_page 404 /internal-only; return 404; }
    location /internal-only { internal; content_by_lua_block { ngx.say("internal ok status=", ngx.status) } }`,
    requests: [
      { path: '/internal-only', status: 404, resBody: /404 Not Found/ },
      { path: '/ep6', status: 404, resBody: 'internal ok status=404\n' },
    ],
  },
  {
    name: 'server-level if with return runs before any location',
    conf: `location = /srv-if { content_by_js_block { ngx.say("not blocked") } }`,
    lua: `location = /srv-if { content_by_lua_block { ngx.say("not blocked") } }`,
    requests: [
      { path: '/srv-if', headers: { 'X-Block': 'yes' }, status: 403, resBody: 'blocked by server' },
      { path: '/srv-if', status: 200, resBody: 'not blocked\n' },
    ],
  },
  {
    // nginx compiles them with PCRE: \A, \z, POSIX classes and a leading (?i) are JS syntax
    // errors or other meanings in a plain RegExp (tresty translates them, src/pcre.ts)
    name: 'conf regexes are PCRE: \\A, \\z, [[:digit:]], (?i), (?P<w>) in location, if and rewrite',
    conf: `location /pcre/ { return 200 "prefix"; } location ~ "\\A/pcre/[[:digit:]]+\\z" { return 200 "digits"; } location ~ "(?i)^/PCRE/UP" { return 200 "caseless"; }
    location = /pcre-if { if ($arg_a ~ "^[[:alpha:]]+\\z") { return 200 "alpha"; } return 200 "other"; }
    location = /pcre-rw { rewrite "(?P<w>[[:alpha:]]+)$" /pcre-to/$w last; } location /pcre-to/ { return 200 "to $uri"; }`,
    lua: `location /pcre/ { return 200 "prefix"; } location ~ "\\A/pcre/[[:digit:]]+\\z" { return 200 "digits"; } location ~ "(?i)^/PCRE/UP" { return 200 "caseless"; }
    location = /pcre-if { if ($arg_a ~ "^[[:alpha:]]+\\z") { return 200 "alpha"; } return 200 "other"; }
    location = /pcre-rw { rewrite "(?P<w>[[:alpha:]]+)$" /pcre-to/$w last; } location /pcre-to/ { return 200 "to $uri"; }`,
    requests: [
      { path: '/pcre/123', resBody: 'digits' },
      { path: '/pcre/12a', resBody: 'prefix' },
      { path: '/pcre/up', resBody: 'caseless' },
      { path: '/pcre-if?a=abc', resBody: 'alpha' },
      { path: '/pcre-if?a=ab1', resBody: 'other' },
      { path: '/pcre-rw', resBody: 'to /pcre-to/rw' },
    ],
  },
];

compatSuite('rewrite-module directives', {
  files,
  server: 'if ($http_x_block = "yes") { return 403 "blocked by server"; }',
  luaServer: 'if ($http_x_block = "yes") { return 403 "blocked by server"; }',
}, cases);

const noPostpone: Case[] = [
  {
    name: 'rewrite_by_js_no_postpone on: rewrite_by_js runs before set, if and return',
    conf: `location = /np-order { set $a "1"; rewrite_by_js_block { ngx.var.b = "js" } set $b "\${b}-set"; content_by_js_block { ngx.say(ngx.var.a, " ", ngx.var.b) } }
    location = /np-ret { rewrite_by_js_block { ngx.log(ngx.ERR, "NP-JS RAN") } return 200 "ret"; }`,
    lua: `location = /np-order { set $a "1"; rewrite_by_lua_block { ngx.var.b = "js" } set $b "\${b}-set"; content_by_lua_block { ngx.say(ngx.var.a, " ", ngx.var.b) } }
    location = /np-ret { rewrite_by_lua_block { ngx.log(ngx.ERR, "NP-JS RAN") } return 200 "ret"; }`,
    requests: [{ path: '/np-order', resBody: '1 js-set\n' }, { path: '/np-ret', resBody: 'ret' }],
    errorLog: ['NP-JS RAN'],
  },
  {
    name: 'access_by_js_no_postpone on is accepted; access_by_js still runs after rewrite',
    conf: `location = /np-access { rewrite_by_js_block { ngx.ctx.o = "r" } access_by_js_block { ngx.ctx.o += "a" } content_by_js_block { ngx.say(ngx.ctx.o) } }`,
    lua: `location = /np-access { rewrite_by_lua_block { ngx.ctx.o = "r" } access_by_lua_block { ngx.ctx.o = ngx.ctx.o .. "a" } content_by_lua_block { ngx.say(ngx.ctx.o) } }`,
    requests: [{ path: '/np-access', resBody: 'ra\n' }],
  },
];

compatSuite('rewrite_by_js_no_postpone and access_by_js_no_postpone', {
  http: 'rewrite_by_js_no_postpone on; access_by_js_no_postpone on;',
  luaHttp: 'rewrite_by_lua_no_postpone on; access_by_lua_no_postpone on;',
}, noPostpone);
