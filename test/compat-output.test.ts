// Output through the filters and captured subrequests, with OpenResty's semantics: each
// ngx.print/ngx.say is its own body_filter chunk, then an empty chunk with eof; a filter's
// failure aborts the response; a subrequest's error status has an empty body. Each case runs
// twice on tresty, and its Lua form on real nginx + lua-nginx-module with the same expectations.
import { compatSuite } from './helpers/compat.js';
import type { Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'each ngx.print/ngx.say reaches body_filter as its own chunk, then an empty chunk with eof',
    conf: `location = /bf-chunks {
      content_by_js_block { ngx.ctx.n = 1; ngx.print("a"); ngx.ctx.n = 2; ngx.say("b"); ngx.print("c") }
      body_filter_by_js_block {
        ngx.ctx.s = (ngx.ctx.s ?? "") + "[" + ngx.arg[1] + "|" + ngx.arg[2] + "|" + ngx.ctx.n + "]";
        ngx.arg[1] = ngx.arg[2] ? ngx.ctx.s : "";
      }
    }`,
    lua: `location = /bf-chunks {
      content_by_lua_block { ngx.ctx.n = 1 ngx.print("a") ngx.ctx.n = 2 ngx.say("b") ngx.print("c") }
      body_filter_by_lua_block {
        ngx.ctx.s = (ngx.ctx.s or "") .. "[" .. ngx.arg[1] .. "|" .. tostring(ngx.arg[2]) .. "|" .. ngx.ctx.n .. "]"
        ngx.arg[1] = ngx.arg[2] and ngx.ctx.s or ""
      }
    }`,
    requests: [{ path: '/bf-chunks', status: 200, resBody: '[a|false|1][b\n|false|2][c|false|2][|true|2]' }],
  },
  {
    name: "`return CODE TEXT` reaches body_filter as one chunk with eof (nginx's one buffer with last_buf); a HEAD keeps its length",
    conf: `location = /bf-ret {
      header_filter_by_js_block { if (ngx.req.get_method() === "GET") ngx.header.content_length = null }
      body_filter_by_js_block { ngx.ctx.s = (ngx.ctx.s ?? "") + "[" + ngx.arg[1] + "|" + ngx.arg[2] + "]"; ngx.arg[1] = ngx.arg[2] ? ngx.ctx.s : "" }
      return 200 "abc";
    }`,
    lua: `location = /bf-ret {
      header_filter_by_lua_block { if ngx.req.get_method() == "GET" then ngx.header.content_length = nil end }
      body_filter_by_lua_block { ngx.ctx.s = (ngx.ctx.s or "") .. "[" .. ngx.arg[1] .. "|" .. tostring(ngx.arg[2]) .. "]" ngx.arg[1] = ngx.arg[2] and ngx.ctx.s or "" }
      return 200 "abc";
    }`,
    requests: [
      { path: '/bf-ret', status: 200, resBody: '[abc|true]' },
      { path: '/bf-ret', method: 'HEAD', status: 200, resBody: '', resHeaders: { 'content-length': '3' } },
    ],
  },
  {
    name: 'body_filter is not run for a response without a body; it sees a special response page as one chunk with eof',
    conf: `location = /bf-204 { content_by_js_block { ngx.exit(204) } body_filter_by_js_block { ngx.log(ngx.ERR, "BF204 called") } }
    location = /bf-404 { content_by_js_block { ngx.exit(404) } body_filter_by_js_block { ngx.log(ngx.ERR, "BF404 ", ngx.arg[1].length > 100, " ", ngx.arg[2]) } }`,
    lua: `location = /bf-204 { content_by_lua_block { ngx.exit(204) } body_filter_by_lua_block { ngx.log(ngx.ERR, "BF204 called") } }
    location = /bf-404 { content_by_lua_block { ngx.exit(404) } body_filter_by_lua_block { ngx.log(ngx.ERR, "BF404 ", #ngx.arg[1] > 100, " ", ngx.arg[2]) } }`,
    requests: [{ path: '/bf-204', status: 204, resBody: '' }, { path: '/bf-404', status: 404, resBody: /404 Not Found/ }],
    errorLog: ['BF404 true true'],
    noErrorLog: ['BF204 called', 'BF404 true false'],
  },
  {
    name: 'Content-Length cleared in header_filter is not sent',
    conf: `location = /cl-clear { content_by_js_block { ngx.header.content_length = 5; ngx.print("hello") } header_filter_by_js_block { ngx.header.content_length = null } }
    location = /cl-keep { content_by_js_block { ngx.header.content_length = 5; ngx.print("hello") } }`,
    lua: `location = /cl-clear { content_by_lua_block { ngx.header.content_length = 5 ngx.print("hello") } header_filter_by_lua_block { ngx.header.content_length = nil } }
    location = /cl-keep { content_by_lua_block { ngx.header.content_length = 5 ngx.print("hello") } }`,
    requests: [
      { path: '/cl-clear', status: 200, resBody: 'hello', resHeaders: { 'content-length': undefined, 'transfer-encoding': 'chunked' } },
      { path: '/cl-keep', status: 200, resBody: 'hello', resHeaders: { 'content-length': '5' } },
    ],
  },
  {
    name: 'an error thrown in header_filter or body_filter aborts the response, logged',
    conf: `location = /hf-err { content_by_js_block { ngx.say("body") } header_filter_by_js_block { throw new Error("hf boom") } }
    location = /bf-err { content_by_js_block { ngx.say("a"); ngx.say("b") } body_filter_by_js_block { if (ngx.arg[1] === "b\\n") throw new Error("bf boom") } }`,
    lua: `location = /hf-err { content_by_lua_block { ngx.say("body") } header_filter_by_lua_block { error("hf boom") } }
    location = /bf-err { content_by_lua_block { ngx.say("a") ngx.say("b") } body_filter_by_lua_block { if ngx.arg[1] == "b\\n" then error("bf boom") end } }`,
    requests: [{ path: '/hf-err', aborted: true }, { path: '/bf-err', aborted: true }],
    errorLog: ['hf boom', 'bf boom'],
  },
  {
    name: 'output APIs in header_filter and body_filter are disabled there and abort the response',
    conf: `location = /hf-say { content_by_js_block { ngx.say("body") } header_filter_by_js_block { ngx.say("x") } }
    location = /bf-say { content_by_js_block { ngx.say("a") } body_filter_by_js_block { ngx.say("x") } }`,
    lua: `location = /hf-say { content_by_lua_block { ngx.say("body") } header_filter_by_lua_block { ngx.say("x") } }
    location = /bf-say { content_by_lua_block { ngx.say("a") } body_filter_by_lua_block { ngx.say("x") } }`,
    requests: [{ path: '/hf-say', aborted: true }, { path: '/bf-say', aborted: true }],
    errorLog: ['API disabled in the context of header_filter_by_js*', 'API disabled in the context of body_filter_by_js*'],
    luaErrorLog: ['API disabled in the context of header_filter_by_lua*', 'API disabled in the context of body_filter_by_lua*'],
  },
  {
    name: 'a captured error status has its status and an empty body (no page), marked truncated',
    conf: `location = /cap-status { content_by_js_block {
      for (const u of ["/sub-err", "/sub-404", "/sub-500say", "/sub-403text", "/sub-201"]) {
        const res = await ngx.location.capture(u);
        ngx.say(u, " ", res.status, " [", res.body, "] ", res.truncated);
      }
    } }
    location = /sub-err { content_by_js_block { ngx.exit(ngx.ERROR) } }
    location = /sub-404 { content_by_js_block { ngx.exit(404) } }
    location = /sub-500say { content_by_js_block { ngx.status = 500; ngx.print("oops") } }
    location = /sub-403text { return 403 "text"; }
    location = /sub-201 { content_by_js_block { ngx.exit(201) } }`,
    lua: `location = /cap-status { content_by_lua_block {
      for _, u in ipairs({"/sub-err", "/sub-404", "/sub-500say", "/sub-403text", "/sub-201"}) do
        local res = ngx.location.capture(u)
        ngx.say(u, " ", res.status, " [", res.body, "] ", tostring(res.truncated))
      end
    } }
    location = /sub-err { content_by_lua_block { ngx.exit(ngx.ERROR) } }
    location = /sub-404 { content_by_lua_block { ngx.exit(404) } }
    location = /sub-500say { content_by_lua_block { ngx.status = 500 ngx.print("oops") } }
    location = /sub-403text { return 403 "text"; }
    location = /sub-201 { content_by_lua_block { ngx.exit(201) } }`,
    requests: [{
      path: '/cap-status',
      resBody: '/sub-err 500 [] true\n/sub-404 404 [] true\n/sub-500say 500 [oops] false\n/sub-403text 403 [text] false\n/sub-201 201 [] false\n',
    }],
  },
  {
    name: 'a captured header sent three times is an array of three; names are kept as sent',
    conf: `location = /cap-hdr { content_by_js_block {
      const res = await ngx.location.capture("/sub-cookies");
      const c = res.header["Set-Cookie"];
      ngx.say(Array.isArray(c), " ", c.length, " ", c.join(","), " ", res.header["X-Foo"], " ", Object.keys(res.header).sort().join(","));
    } }
    location = /sub-cookies { content_by_js_block { ngx.header["Set-Cookie"] = ["a=1", "b=2", "c=3"]; ngx.header["X-Foo"] = "bar"; ngx.say("ok") } }`,
    lua: `location = /cap-hdr { content_by_lua_block {
      local res = ngx.location.capture("/sub-cookies")
      local c = res.header["Set-Cookie"]
      local keys = {}
      for k in pairs(res.header) do keys[#keys + 1] = k end
      table.sort(keys)
      ngx.say(type(c) == "table", " ", #c, " ", table.concat(c, ","), " ", res.header["X-Foo"], " ", table.concat(keys, ","))
    } }
    location = /sub-cookies { content_by_lua_block { ngx.header["Set-Cookie"] = {"a=1", "b=2", "c=3"} ngx.header["X-Foo"] = "bar" ngx.say("ok") } }`,
    requests: [{ path: '/cap-hdr', resBody: 'true 3 a=1,b=2,c=3 bar Content-Type,Set-Cookie,X-Foo\n' }],
  },
  {
    name: 'captured headers are also found case-insensitively (a convenience over OpenResty)',
    conf: `location = /cap-case { content_by_js_block {
      const res = await ngx.location.capture("/sub-cookies2");
      ngx.say(res.header["set-cookie"].length, " ", res.header["x-foo"], " ", res.header["X-FOO"], " ", "x-foo" in res.header);
    } }
    location = /sub-cookies2 { content_by_js_block { ngx.header["Set-Cookie"] = ["a=1", "b=2"]; ngx.header["X-Foo"] = "bar"; ngx.say("ok") } }`,
    requests: [{ path: '/cap-case', resBody: '2 bar bar true\n' }],
  },
];

compatSuite('output, filters and subrequests', {}, cases);
