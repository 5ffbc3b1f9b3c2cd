// ngx.req.get_headers(max, raw) after ngx.req.set_header / clear_header, on both tresty engines
// and on nginx 1.22 + lua with the same expectations. Observed on nginx + lua: the header list
// keeps its order and names; set_header of a header there (matched without case; `_` is not `-`)
// puts the first value in its first line, under the name as received, and drops its other lines;
// more values, or a new header, are lines added at the end under the name as given (`My_Header`
// kept); clear_header drops every line; `max` counts lines. $http_my_header reads `My_Header`.
// tresty gave lower-cased names after a change, counted names, and read `_` as `-`.
import { expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { dechunk } from './helpers/fuzz.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

/** op: [the Lua call, the JS call] */
const OPS: Record<string, [string, string]> = {
  none: ['', ''],
  new: ['ngx.req.set_header("X-New", "v")', 'ngx.req.set_header("X-New", "v")'],
  foo: ['ngx.req.set_header("x-foo", "c")', 'ngx.req.set_header("x-foo", "c")'],
  clear: ['ngx.req.clear_header("X-Bar")', 'ngx.req.clear_header("X-Bar")'],
  clearfoo: ['ngx.req.clear_header("x-foo")', 'ngx.req.clear_header("x-foo")'],
  us: ['ngx.req.set_header("My_Header", "z")', 'ngx.req.set_header("My_Header", "z")'],
  clearus: ['ngx.req.clear_header("x_bar")', 'ngx.req.clear_header("x_bar")'],
  arr: ['ngx.req.set_header("x-bar", {"1", "2"})', 'ngx.req.set_header("x-bar", ["1", "2"])'],
  arr3: ['ngx.req.set_header("x-foo", {"1", "2", "3"})', 'ngx.req.set_header("x-foo", ["1", "2", "3"])'],
  newarr: ['ngx.req.set_header("X-Q", {"1", "2"})', 'ngx.req.set_header("X-Q", ["1", "2"])'],
  empty: ['ngx.req.set_header("x-foo", {})', 'ngx.req.set_header("x-foo", [])'],
  ct: ['ngx.req.set_header("content-type", "u")', 'ngx.req.set_header("content-type", "u")'],
};

const LUA_DUMP = `local function dump(h)
    local ks = {}
    for k, v in pairs(h) do ks[#ks + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, ",") or v) end
    table.sort(ks)
    return table.concat(ks, " ")
  end
  ngx.say("raw: ", dump(ngx.req.get_headers(0, true)))
  ngx.say("raw3: ", dump(ngx.req.get_headers(3, true)))
  ngx.say("low3: ", dump(ngx.req.get_headers(3)))
  ngx.say("low: ", dump(ngx.req.get_headers()), " var=", tostring(ngx.var.http_my_header), " ", tostring(ngx.var.http_x_bar))`;

const JS_DUMP = `const dump = (h) => Object.keys(h).map((k) => k + "=" + (Array.isArray(h[k]) ? h[k].join(",") : h[k])).sort().join(" ");
  const s = (v) => v === undefined || v === null ? "nil" : v;
  ngx.say("raw: ", dump(ngx.req.get_headers(0, true)));
  ngx.say("raw3: ", dump(ngx.req.get_headers(3, true)));
  ngx.say("low3: ", dump(ngx.req.get_headers(3)));
  ngx.say("low: ", dump(ngx.req.get_headers()), " var=", s(ngx.var.http_my_header), " ", s(ngx.var.http_x_bar));`;

const locations = (js: boolean): string => Object.entries(OPS).map(([op, [lua, j]]) => js
  ? `location = /${op} { content_by_js_block { ${j}; ${JS_DUMP} } }`
  : `location = /${op} { content_by_lua_block { ${lua} ${LUA_DUMP} } }`).join('\n    ');

/** [op, the four lines] */
const CASES: Array<[string, string]> = [
  ['none', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=a x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-bar=1 x-foo=a,b var=nil 1\n'],
  ['new', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=a X-New=v x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-bar=1 x-foo=a,b x-new=v var=nil 1\n'],
  ['foo', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=c\nraw3: Host=h X-Bar=1 X-Foo=c\nlow3: host=h x-bar=1 x-foo=c\nlow: content-type=t host=h x-bar=1 x-foo=c var=nil 1\n'],
  ['clear', 'raw: Content-Type=t Host=h X-Foo=a x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-foo=a,b var=nil nil\n'],
  ['clearfoo', 'raw: Content-Type=t Host=h X-Bar=1\nraw3: Content-Type=t Host=h X-Bar=1\nlow3: content-type=t host=h x-bar=1\nlow: content-type=t host=h x-bar=1 var=nil 1\n'],
  ['us', 'raw: Content-Type=t Host=h My_Header=z X-Bar=1 X-Foo=a x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h my_header=z x-bar=1 x-foo=a,b var=z 1\n'],
  ['clearus', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=a x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-bar=1 x-foo=a,b var=nil 1\n'],
  ['arr', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=a x-FOO=b x-bar=2\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-bar=1,2 x-foo=a,b var=nil 1\n'],
  ['arr3', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=1 x-foo=2,3\nraw3: Host=h X-Bar=1 X-Foo=1\nlow3: host=h x-bar=1 x-foo=1\nlow: content-type=t host=h x-bar=1 x-foo=1,2,3 var=nil 1\n'],
  ['newarr', 'raw: Content-Type=t Host=h X-Bar=1 X-Foo=a X-Q=1,2 x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=t host=h x-bar=1 x-foo=a,b x-q=1,2 var=nil 1\n'],
  ['empty', 'raw: Content-Type=t Host=h X-Bar=1\nraw3: Content-Type=t Host=h X-Bar=1\nlow3: content-type=t host=h x-bar=1\nlow: content-type=t host=h x-bar=1 var=nil 1\n'],
  ['ct', 'raw: Content-Type=u Host=h X-Bar=1 X-Foo=a x-FOO=b\nraw3: Host=h X-Foo=a x-FOO=b\nlow3: host=h x-foo=a,b\nlow: content-type=u host=h x-bar=1 x-foo=a,b var=nil 1\n'],
];

onEnginesAndNginx('ngx.req.get_headers(max, raw) after set_header / clear_header', locations, (port) => {
  for (const [op, want] of CASES) {
    it(op, async () => {
      const req = `GET /${op} HTTP/1.1\r\nHost: h\r\nX-Foo: a\r\nx-FOO: b\r\nX-Bar: 1\r\nContent-Type: t\r\nConnection: close\r\n\r\n`;
      const r = await raw(port(), [req], { timeoutMs: 2000 });
      const at = r.data.indexOf('\r\n\r\n');
      expect(r.data.slice(0, 12)).toBe('HTTP/1.1 200');
      const body = r.data.slice(at + 4);
      // (the request's last line, Connection: close, sorts first in the whole dumps)
      const all = want.replace('raw: ', 'raw: Connection=close ').replace('low: ', 'low: connection=close ');
      expect(/\r\nTransfer-Encoding: chunked/i.test(r.data.slice(0, at)) ? dechunk(body) : body).toBe(all);
    });
  }
});
