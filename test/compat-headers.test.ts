// add_header, expires and headers-more's more_* directives, held to what nginx 1.22 with the
// lua and headers-more modules answers: the same cases run on tresty's native engine, on
// node:http (`http_engine node`), and in their Lua form on real nginx.
import { compatSuite } from './helpers/compat.js';
import { headersMoreMissing } from './helpers/nginx.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';

const files = {
  'html/h/static/a.txt': 'file-a\n',
  'html/h/static/p.html': '<p>x</p>\n',
  'html/h/static/d.json': '{}\n',
  'html/h/404.html': 'custom404\n',
};

/** A case whose JS and Lua forms differ only in the handler language. */
function both(c: Omit<Case, 'lua'>, luaOf: (conf: string) => string): Case {
  return { ...c, lua: luaOf(c.conf) };
}
const plain = (conf: string): string => conf;

const GMT = /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/;

const cases: Case[] = [
  both({
    name: 'add_header: a level with none of its own inherits its parent\'s; one with its own does not; empty values add nothing',
    conf: `location = /h/inh { return 200 "x"; }
    location = /h/own { add_header X-Own own; add_header X-Empty ""; return 200 "x"; }`,
    requests: [
      { path: '/h/inh', status: 200, resHeaders: { 'X-Srv': 'srv /h/inh', 'X-Own': undefined } },
      { path: '/h/own', status: 200, resHeaders: { 'X-Own': 'own', 'X-Srv': undefined, 'X-Empty': undefined } },
    ],
  }, plain),
  both({
    name: 'add_header: only on nginx\'s status list unless `always`; on error pages and redirects',
    conf: `location = /h/404 { add_header X-A a; add_header X-B b always; return 404; }
    location = /h/302 { add_header X-A a; return 302 /elsewhere; }
    location = /h/500 { add_header X-A a; add_header X-B "b $status" always; return 500 "oops"; }`,
    requests: [
      { path: '/h/404', status: 404, resHeaders: { 'X-A': undefined, 'X-B': 'b' } },
      { path: '/h/302', status: 302, resHeaders: { 'X-A': 'a' } },
      { path: '/h/500', status: 500, resBody: 'oops', resHeaders: { 'X-A': undefined, 'X-B': 'b 500' } },
    ],
  }, plain),
  both({
    name: 'a location if with add_header of its own: its list replaces the location\'s when it matches',
    conf: `location = /h/if { add_header X-Out out; if ($arg_a) { add_header X-In in; } return 200 "x"; }`,
    requests: [
      { path: '/h/if?a=1', status: 200, resHeaders: { 'X-In': 'in', 'X-Out': undefined } },
      { path: '/h/if', status: 200, resHeaders: { 'X-In': undefined, 'X-Out': 'out' } },
    ],
  }, plain),
  {
    name: 'add_header on a content handler\'s answer, with variables; repeated names all go out',
    conf: `location = /h/js { add_header X-Arg "a=$arg_a"; add_header X-D 1; add_header X-D 2; content_by_js_block { ngx.say("hi") } }`,
    lua: `location = /h/js { add_header X-Arg "a=$arg_a"; add_header X-D 1; add_header X-D 2; content_by_lua_block { ngx.say("hi") } }`,
    requests: [{ path: '/h/js?a=5', status: 200, resBody: 'hi\n', resHeaders: { 'X-Arg': 'a=5', 'X-D': '1, 2' } }],
  },
  {
    name: 'header_filter_by_js sees more_set_headers\' headers but not add_header\'s (nginx\'s filter order)',
    conf: `location = /h/hf { add_header X-Added yes; more_set_headers "X-M: m";
      header_filter_by_js_block { ngx.header["X-Seen"] = (ngx.header["X-Added"] ?? "nil") + "," + (ngx.header["X-M"] ?? "nil") }
      content_by_js_block { ngx.say("hi") } }`,
    lua: `location = /h/hf { add_header X-Added yes; more_set_headers "X-M: m";
      header_filter_by_lua_block { ngx.header["X-Seen"] = (ngx.header["X-Added"] or "nil") .. "," .. (ngx.header["X-M"] or "nil") }
      content_by_lua_block { ngx.say("hi") } }`,
    requests: [{ path: '/h/hf', status: 200, resHeaders: { 'X-Seen': 'nil,m', 'X-Added': 'yes', 'X-M': 'm' } }],
  },
  both({
    name: 'add_header on static files, and on an error_page target (by its own location, `always` only for a 404)',
    conf: `location /h/static/ { add_header X-F f; }
    location = /h/ep { error_page 404 /h/404.html; return 404; }
    location = /h/404.html { add_header X-T t always; add_header X-U u; }`,
    requests: [
      { path: '/h/static/a.txt', status: 200, resBody: 'file-a\n', resHeaders: { 'X-F': 'f', ETag: /^"/ } },
      { path: '/h/ep', status: 404, resBody: 'custom404\n', resHeaders: { 'X-T': 't', 'X-U': undefined, 'X-Srv': undefined } },
    ],
  }, plain),
  both({
    name: 'expires: a time, epoch, max, a negative time, off in an inner block; not on a 404',
    conf: `location = /h/ex { expires 1h; return 200 "x"; }
    location = /h/exe { expires epoch; return 200 "x"; }
    location = /h/exmax { expires max; return 200 "x"; }
    location = /h/exneg { expires -1; return 200 "x"; }
    location = /h/ex0 { expires 0; return 200 "x"; }
    location = /h/ex404 { expires 1h; add_header Cache-Control foo; return 404; }
    location /h/exo/ { expires 2h; location /h/exo/off { expires off; return 200 "x"; } }`,
    requests: [
      { path: '/h/ex', status: 200, resHeaders: { 'Cache-Control': 'max-age=3600', Expires: GMT } },
      { path: '/h/exe', resHeaders: { 'Cache-Control': 'no-cache', Expires: 'Thu, 01 Jan 1970 00:00:01 GMT' } },
      { path: '/h/exmax', resHeaders: { 'Cache-Control': 'max-age=315360000', Expires: 'Thu, 31 Dec 2037 23:55:55 GMT' } },
      { path: '/h/exneg', resHeaders: { 'Cache-Control': 'no-cache', Expires: GMT } },
      { path: '/h/ex0', resHeaders: { 'Cache-Control': 'max-age=0', Expires: GMT } },
      { path: '/h/ex404', status: 404, resHeaders: { 'Cache-Control': undefined, Expires: undefined } },
      { path: '/h/exo/off', status: 200, resHeaders: { 'Cache-Control': undefined, Expires: undefined } },
    ],
  }, plain),
  {
    name: 'expires replaces a handler\'s own Cache-Control and Expires; expires @time gives at most a day',
    conf: `location = /h/exjs { expires 1h; content_by_js_block { ngx.header["Cache-Control"] = "private"; ngx.header["Expires"] = "x"; ngx.say("x") } }
    location = /h/exat { expires @3h; return 200 "x"; }`,
    lua: `location = /h/exjs { expires 1h; content_by_lua_block { ngx.header["Cache-Control"] = "private"; ngx.header["Expires"] = "x"; ngx.say("x") } }
    location = /h/exat { expires @3h; return 200 "x"; }`,
    requests: [
      { path: '/h/exjs', status: 200, resHeaders: { 'Cache-Control': 'max-age=3600', Expires: GMT } },
      { path: '/h/exat', status: 200, resHeaders: { 'Cache-Control': /^max-age=(\d{1,4}|[1-7]\d{4}|8[0-5]\d{3}|86[0-3]\d\d|86400)$/, Expires: / 03:00:00 GMT$/ } },
    ],
  },
];

const charsetCases: Case[] = [
  both({
    name: 'charset: appended to the types of charset_types (text/html always); error pages; a type with a charset keeps it; off',
    conf: `location /cs/ { charset utf-8; alias html/h/static/; }
    location /cs2/ { charset utf-8; charset_types application/json; alias html/h/static/; }
    location = /cs/r { charset utf-8; return 200 "x"; }
    location = /cs/404 { charset utf-8; return 404; }
    location = /cs/off { charset off; return 200 "x"; }
    location = /cs/src { charset utf-8; source_charset UTF-8; override_charset on; return 200 "x"; }`,
    requests: [
      { path: '/cs/a.txt', status: 200, resHeaders: { 'Content-Type': 'text/plain; charset=utf-8' } },
      { path: '/cs/p.html', status: 200, resHeaders: { 'Content-Type': 'text/html; charset=utf-8' } },
      { path: '/cs2/a.txt', status: 200, resHeaders: { 'Content-Type': 'text/plain' } },
      { path: '/cs2/p.html', status: 200, resHeaders: { 'Content-Type': 'text/html; charset=utf-8' } },
      { path: '/cs2/d.json', status: 200, resHeaders: { 'Content-Type': 'application/json; charset=utf-8' } },
      { path: '/cs/r', status: 200, resHeaders: { 'Content-Type': 'text/plain; charset=utf-8' } },
      { path: '/cs/404', status: 404, resHeaders: { 'Content-Type': 'text/html; charset=utf-8' } },
      { path: '/cs/off', status: 200, resHeaders: { 'Content-Type': 'text/plain' } },
      { path: '/cs/src', status: 200, resHeaders: { 'Content-Type': 'text/plain; charset=utf-8' } },
    ],
  }, plain),
  {
    name: 'charset comes after header_filter_by_js and more_set_headers (they see the type without it); a handler\'s own charset stays',
    conf: `location = /cs/js { charset utf-8; more_set_headers "X-T: $sent_http_content_type"; header_filter_by_js_block { ngx.header["X-CT"] = ngx.header.content_type } content_by_js_block { ngx.header.content_type = "text/html"; ngx.say("x") } }
    location = /cs/own { charset utf-8; content_by_js_block { ngx.header.content_type = "text/html; charset=latin1"; ngx.say("x") } }`,
    lua: `location = /cs/js { charset utf-8; more_set_headers "X-T: $sent_http_content_type"; header_filter_by_lua_block { ngx.header["X-CT"] = ngx.header.content_type } content_by_lua_block { ngx.header.content_type = "text/html"; ngx.say("x") } }
    location = /cs/own { charset utf-8; content_by_lua_block { ngx.header.content_type = "text/html; charset=latin1"; ngx.say("x") } }`,
    requests: [
      { path: '/cs/js', status: 200, resHeaders: { 'Content-Type': 'text/html; charset=utf-8', 'X-CT': 'text/html', 'X-T': 'text/html' } },
      { path: '/cs/own', status: 200, resHeaders: { 'Content-Type': 'text/html; charset=latin1' } },
    ],
  },
];

const moreCases: Case[] = [
  both({
    name: 'more_set_headers sets Server and others; more_clear_headers runs before add_header (its headers stay)',
    conf: `location = /h/more { more_set_headers "X-M: m" "Server: foo"; more_clear_headers X-Srv; return 200 "x"; }`,
    requests: [{ path: '/h/more', status: 200, resHeaders: { 'X-M': 'm', Server: 'foo', 'X-Srv': 'srv /h/more' } }],
  }, plain),
  both({
    name: 'more_set_headers: -s and -t select answers; any status without -s',
    conf: `location = /h/more404 { more_set_headers -s 404 "X-M: m"; more_set_headers -t "text/css text/html" "X-T: html"; more_set_headers -s "200 201" "X-200: y"; more_set_headers "X-Any: any"; return 404; }`,
    requests: [{ path: '/h/more404', status: 404, resHeaders: { 'X-M': 'm', 'X-T': 'html', 'X-200': undefined, 'X-Any': 'any' } }],
  }, plain),
  both({
    name: 'more_clear_headers: a trailing * clears a family; Server can go; an empty value clears; variables',
    conf: `location = /h/wild { more_set_headers "X-Aa: 1" "X-Ab: 2" "Y: 3" "Z: 4" "X-V: $uri-$arg_a"; more_clear_headers "X-A*" Server; more_set_headers "Z:"; return 200 "x"; }
    location = /h/type { more_set_headers "Content-Type: a/b"; return 200 "x"; }`,
    requests: [
      { path: '/h/wild?a=7', status: 200, resHeaders: { 'X-Aa': undefined, 'X-Ab': undefined, Y: '3', Z: undefined, Server: undefined, 'X-V': '/h/wild-7' } },
      { path: '/h/type', status: 200, resHeaders: { 'Content-Type': 'a/b' } },
    ],
  }, plain),
  {
    name: 'more_set_input_headers / more_clear_input_headers: after `set`, before rewrite_by_js; -r and -t',
    conf: `location = /h/in { set $v "val"; set $seen ""; more_set_input_headers "X-In: $v" "Host: h2"; more_clear_input_headers User-Agent;
      more_set_input_headers -r "X-R: replaced" "X-R2: replaced"; more_set_input_headers -t text/plain "X-T: t";
      rewrite_by_js_block { ngx.var.seen = ngx.var.http_x_in ?? "nil" }
      content_by_js_block { const v = ngx.var; ngx.say([v.http_x_in, v.http_host, v.http_user_agent ?? "nil", v.http_x_r ?? "nil", v.http_x_r2 ?? "nil", v.http_x_t ?? "nil", v.seen].join(" ")) } }`,
    lua: `location = /h/in { set $v "val"; set $seen ""; more_set_input_headers "X-In: $v" "Host: h2"; more_clear_input_headers User-Agent;
      more_set_input_headers -r "X-R: replaced" "X-R2: replaced"; more_set_input_headers -t text/plain "X-T: t";
      rewrite_by_lua_block { ngx.var.seen = ngx.var.http_x_in or "nil" }
      content_by_lua_block { local v = ngx.var; ngx.say(table.concat({v.http_x_in, v.http_host, v.http_user_agent or "nil", v.http_x_r or "nil", v.http_x_r2 or "nil", v.http_x_t or "nil", v.seen}, " ")) } }`,
    requests: [
      { path: '/h/in', headers: { 'User-Agent': 'ua', 'X-R': 'orig', 'Content-Type': 'text/plain' }, resBody: 'val h2 nil replaced nil t val\n' },
      { path: '/h/in', headers: { 'User-Agent': 'ua', 'Content-Type': 'text/html' }, resBody: 'val h2 nil nil nil nil val\n' },
    ],
  },
];

const server = 'add_header X-Srv "srv $uri";';
const moreMissing = headersMoreMissing();
compatSuite('response headers (add_header, expires)', { server, luaServer: server, files }, cases);
phaseSuite('response headers (add_header, expires) on node:http', { server, files, http: 'http_engine node;' }, cases);
const http = 'types { text/html html; text/plain txt; application/json json; }';
compatSuite('charset', { server, luaServer: server, files, http, luaHttp: http }, charsetCases.filter((c) => !c.conf.includes('more_set')));
phaseSuite('charset on node:http', { server, files, http: `${http} http_engine node;` }, charsetCases);
// The more_* cases on nginx need headers-more; without it they run on tresty only.
if (moreMissing === null) compatSuite('headers-more (more_*)', { server, luaServer: server, files, http, luaHttp: http }, [...moreCases, ...charsetCases.filter((c) => c.conf.includes('more_set'))]);
else phaseSuite(`headers-more (more_*) (nginx half skipped: ${moreMissing})`, { server, files, http }, [...moreCases, ...charsetCases.filter((c) => c.conf.includes('more_set'))]);
phaseSuite('headers-more (more_*) on node:http', { server, files, http: 'http_engine node;' }, moreCases);
