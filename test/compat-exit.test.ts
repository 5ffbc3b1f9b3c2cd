// ngx.exit and friends with OpenResty's semantics, and OpenResty's checks of API arguments:
// each case a conf, a request, the expected answer and log lines, run twice; the Lua form of
// each runs on real nginx + lua-nginx-module with the same expectations.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'ngx.exit cannot be swallowed: a catch around it does not let output continue',
    conf: `location = /exit-swallow { content_by_js_block { try { ngx.exit(200) } catch (e) {} ngx.say("after") } }
    location = /exit-swallow-await { content_by_js_block { try { ngx.exit(403) } catch (e) {} await ngx.sleep(0.01); ngx.say("after") } }`,
    lua: `location = /exit-swallow { content_by_lua_block { pcall(ngx.exit, 200) ngx.say("after") } }
    location = /exit-swallow-await { content_by_lua_block { pcall(ngx.exit, 403) ngx.sleep(0.01) ngx.say("after") } }`,
    requests: [
      { path: '/exit-swallow', status: 200, resBody: '' },
      { path: '/exit-swallow-await', status: 403, resBody: /403 Forbidden/ },
    ],
  },
  {
    name: 'ngx.exit(403) in header_filter replaces the answer with the 403 page; ngx.exit(201) with an empty 201',
    conf: `location = /hf-403 { content_by_js_block { ngx.say("body") } header_filter_by_js_block { ngx.exit(403) } }
    location = /hf-201 { content_by_js_block { ngx.say("body") } header_filter_by_js_block { ngx.exit(201) } }`,
    lua: `location = /hf-403 { content_by_lua_block { ngx.say("body") } header_filter_by_lua_block { ngx.exit(403) } }
    location = /hf-201 { content_by_lua_block { ngx.say("body") } header_filter_by_lua_block { ngx.exit(201) } }`,
    requests: [
      { path: '/hf-403', status: 403, resBody: /^<html>\r\n<head><title>403 Forbidden<\/title>/, resHeaders: { 'content-type': 'text/html' } },
      { path: '/hf-201', status: 201, resBody: '', resHeaders: { 'content-length': '0', 'content-type': undefined } },
    ],
  },
  {
    name: 'ngx.exit(ngx.AGAIN) and ngx.exit(ngx.DONE) are refused with a 500',
    conf: `location = /exit-again { content_by_js_block { ngx.exit(ngx.AGAIN) } }
    location = /exit-done { content_by_js_block { ngx.exit(ngx.DONE) } }`,
    lua: `location = /exit-again { content_by_lua_block { ngx.exit(ngx.AGAIN) } }
    location = /exit-done { content_by_lua_block { ngx.exit(ngx.DONE) } }`,
    requests: [{ path: '/exit-again', status: 500 }, { path: '/exit-done', status: 500 }],
    errorLog: ["bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE"],
  },
  {
    name: 'an error status after output keeps the 200 and logs it, buffered or flushed',
    conf: `location = /exit-after-say { content_by_js_block { ngx.say("hi"); ngx.exit(500) } }
    location = /exit-after-flush { content_by_js_block { ngx.say("hi"); await ngx.flush(true); ngx.exit(502) } }`,
    lua: `location = /exit-after-say { content_by_lua_block { ngx.say("hi") ngx.exit(500) } }
    location = /exit-after-flush { content_by_lua_block { ngx.say("hi") ngx.flush(true) ngx.exit(502) } }`,
    requests: [{ path: '/exit-after-say', status: 200, resBody: 'hi\n' }, { path: '/exit-after-flush', status: 200, resBody: 'hi\n' }],
    errorLog: [
      'attempt to set status 500 via ngx.exit after sending out the response status 200',
      'attempt to set status 502 via ngx.exit after sending out the response status 200',
    ],
  },
  {
    name: 'ngx.redirect: a relative URI stays relative, an absolute one is kept with its port',
    conf: `location = /redir-rel { content_by_js_block { ngx.redirect("/path") } }
    location = /redir-abs { content_by_js_block { ngx.redirect("http://example.com:8081/x", 301) } }`,
    lua: `location = /redir-rel { content_by_lua_block { ngx.redirect("/path") } }
    location = /redir-abs { content_by_lua_block { ngx.redirect("http://example.com:8081/x", 301) } }`,
    requests: [
      { path: '/redir-rel', status: 302, resHeaders: { location: '/path' } },
      { path: '/redir-abs', status: 301, resHeaders: { location: 'http://example.com:8081/x' } },
    ],
  },
  {
    name: 'ngx.redirect refuses a CR or LF in the URI with a clean 500',
    conf: `location = /redir-crlf { content_by_js_block { ngx.redirect("/a\\r\\nX-Foo: bar") } }`,
    lua: `location = /redir-crlf { content_by_lua_block { ngx.redirect("/a\\r\\nX-Foo: bar") } }`,
    requests: [{ path: '/redir-crlf', status: 500, resHeaders: { 'x-foo': undefined } }],
    errorLog: ['unsafe byte "0x0d" in redirect uri "/a\\x0D\\x0AX-Foo: bar"'],
  },
  {
    name: 'a Location set through ngx.header stays relative too; `return 302 /uri` is made absolute',
    conf: `location = /hdr-loc { content_by_js_block { ngx.header.Location = "/foo"; ngx.exit(302) } }
    location = /ret-loc { return 302 /foo; }`,
    lua: `location = /hdr-loc { content_by_lua_block { ngx.header.Location = "/foo" ngx.exit(302) } }
    location = /ret-loc { return 302 /foo; }`,
    requests: [
      { path: '/hdr-loc', status: 302, resHeaders: { location: '/foo' } },
      // nginx: the Host's name with the port the request came in on.
      { path: '/ret-loc', headers: { Host: 'h.test:81' }, status: 302, resHeaders: { location: /^http:\/\/h\.test:\d+\/foo$/ } },
    ],
  },
  {
    name: 'ngx.sleep checks its argument as OpenResty does',
    conf: `location = /sleep-a { content_by_js_block { ngx.sleep("a") } }
    location = /sleep-neg { content_by_js_block { ngx.sleep(-1) } }`,
    lua: `location = /sleep-a { content_by_lua_block { ngx.sleep("a") } }
    location = /sleep-neg { content_by_lua_block { ngx.sleep(-1) } }`,
    requests: [{ path: '/sleep-a', status: 500 }, { path: '/sleep-neg', status: 500 }],
    errorLog: ["bad argument #1 to 'sleep' (number expected, got string)", 'invalid sleep duration "-1000"'],
  },
  {
    name: 'ngx.var: a read-only built-in is not changeable; an unknown one is not found for writing; $args is',
    conf: `location = /var-qs { content_by_js_block { ngx.var.query_string = 56 } }
    location = /var-unknown { content_by_js_block { ngx.var.foo = 1 } }
    location = /var-args { content_by_js_block { ngx.var.args = 56; ngx.say(ngx.var.args) } }`,
    lua: `location = /var-qs { content_by_lua_block { ngx.var.query_string = 56 } }
    location = /var-unknown { content_by_lua_block { ngx.var.foo = 1 } }
    location = /var-args { content_by_lua_block { ngx.var.args = 56 ngx.say(ngx.var.args) } }`,
    requests: [{ path: '/var-qs', status: 500 }, { path: '/var-unknown', status: 500 }, { path: '/var-args', status: 200, resBody: '56\n' }],
    errorLog: [
      'variable "query_string" not changeable',
      `variable "foo" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $foo '';" in the config file to define it first`,
    ],
  },
  {
    name: 'ngx.req.set_uri(uri, true) outside rewrite: API disabled in that context',
    conf: `location = /seturi-access { access_by_js_block { ngx.req.set_uri("/x", true) } }`,
    lua: `location = /seturi-access { access_by_lua_block { ngx.req.set_uri("/x", true) } }`,
    requests: [{ path: '/seturi-access', status: 500 }],
    errorLog: ['API disabled in the context of access_by_js*'],
    luaErrorLog: ['API disabled in the context of access_by_lua*'],
  },
  {
    name: 'ngx.req.get_post_args before the body was read: no request body found',
    conf: `location = /postargs { content_by_js_block { ngx.req.get_post_args() } }`,
    lua: `location = /postargs { content_by_lua_block { ngx.req.get_post_args() } }`,
    requests: [{ path: '/postargs', status: 500 }],
    errorLog: ['no request body found'],
  },
  {
    name: 'ngx.exit with a non-number is an error',
    conf: `location = /exit-str { content_by_js_block { ngx.exit("x") } }`,
    lua: `location = /exit-str { content_by_lua_block { ngx.exit("x") } }`,
    requests: [{ path: '/exit-str', status: 500 }],
    errorLog: [/bad argument #\d to '(exit|ngx_lua_ffi_exit)'/],
  },
  {
    // nginx's internal redirect to an error page leaves headers_out alone: what the handler set
    // before ngx.exit(404) or a throw goes out with the page (tresty's dropped them).
    name: 'an error_page after ngx.exit(404) or a throw keeps the headers set before',
    conf: `location = /ep-keep { error_page 404 /ep-h; content_by_js_block { ngx.header["X-K"] = "1"; ngx.header["Set-Cookie"] = "s=1"; ngx.exit(404) } }
    location = /ep-throw { error_page 500 /ep-h; access_by_js_block { ngx.header["X-A"] = "a"; throw new Error("boom") } content_by_js_block { ngx.say("x") } }
    location = /ep-h { content_by_js_block { ngx.say("h ", String(ngx.header["X-K"] ?? "nil")) } }`,
    lua: `location = /ep-keep { error_page 404 /ep-h; content_by_lua_block { ngx.header["X-K"] = "1"; ngx.header["Set-Cookie"] = "s=1"; ngx.exit(404) } }
    location = /ep-throw { error_page 500 /ep-h; access_by_lua_block { ngx.header["X-A"] = "a"; error("boom") } content_by_lua_block { ngx.say("x") } }
    location = /ep-h { content_by_lua_block { ngx.say("h ", tostring(ngx.header["X-K"])) } }`,
    requests: [
      { path: '/ep-keep', status: 404, resBody: 'h 1\n', resHeaders: { 'x-k': '1', 'set-cookie': 's=1' } },
      { path: '/ep-throw', status: 500, resBody: 'h nil\n', resHeaders: { 'x-a': 'a' } },
    ],
  },
  {
    // lua gives the answer the exit's code as its status when it has none: after `error_page 404 =`
    // (no code) a handler target answers with it and reads it in ngx.status; `return 404`, a
    // throw, or a status set before keep theirs; a `return 200` or a static target answers 200.
    name: 'error_page = URI after ngx.exit(CODE): the target answers with the exit\'s code',
    conf: `location = /eq-exit { error_page 404 = /eq-h; content_by_js_block { ngx.exit(404) } }
    location = /eq-access { error_page 503 = /eq-h; access_by_js_block { ngx.exit(503) } }
    location = /eq-return { error_page 404 = /eq-h; return 404; }
    location = /eq-throw { error_page 500 = /eq-h; content_by_js_block { throw new Error("x") } }
    location = /eq-set { error_page 404 = /eq-h; content_by_js_block { ngx.status = 410; ngx.exit(404) } }
    location = /eq-code { error_page 404 =201 /eq-h; content_by_js_block { ngx.exit(404) } }
    location = /eq-ret200 { error_page 404 = /eq-r; content_by_js_block { ngx.exit(404) } }
    location = /eq-named { error_page 404 = @eq; content_by_js_block { ngx.exit(404) } }
    location @eq { content_by_js_block { ngx.say("named ", ngx.status) } }
    location = /eq-r { return 200 "r\n"; }
    location = /eq-h { content_by_js_block { ngx.say("h ", ngx.status) } }`,
    lua: `location = /eq-exit { error_page 404 = /eq-h; content_by_lua_block { ngx.exit(404) } }
    location = /eq-access { error_page 503 = /eq-h; access_by_lua_block { ngx.exit(503) } }
    location = /eq-return { error_page 404 = /eq-h; return 404; }
    location = /eq-throw { error_page 500 = /eq-h; content_by_lua_block { error("x") } }
    location = /eq-set { error_page 404 = /eq-h; content_by_lua_block { ngx.status = 410; ngx.exit(404) } }
    location = /eq-code { error_page 404 =201 /eq-h; content_by_lua_block { ngx.exit(404) } }
    location = /eq-ret200 { error_page 404 = /eq-r; content_by_lua_block { ngx.exit(404) } }
    location = /eq-named { error_page 404 = @eq; content_by_lua_block { ngx.exit(404) } }
    location @eq { content_by_lua_block { ngx.say("named ", ngx.status) } }
    location = /eq-r { return 200 "r\n"; }
    location = /eq-h { content_by_lua_block { ngx.say("h ", ngx.status) } }`,
    requests: [
      { path: '/eq-exit', status: 404, resBody: 'h 404\n' },
      { path: '/eq-access', status: 503, resBody: 'h 503\n' },
      { path: '/eq-return', status: 200, resBody: 'h 0\n' },
      { path: '/eq-throw', status: 200, resBody: 'h 0\n' },
      { path: '/eq-set', status: 410, resBody: 'h 410\n' },
      { path: '/eq-code', status: 201, resBody: 'h 201\n' },
      { path: '/eq-ret200', status: 200, resBody: 'r\n' },
      { path: '/eq-named', status: 404, resBody: 'named 404\n' },
    ],
  },
];

compatSuite('ngx.exit, ngx.redirect and argument checks', {}, cases);
