// nginx's not-modified filter on a handler's own 200 (content_by_js / content_by_lua setting
// Last-Modified and ETag, ngx.exit(200)) and on `return 200` (the native engine's too): If-Modified-Since (exact, `before`,
// `off`), If-None-Match (the tag, `*`), If-Match / If-Unmodified-Since (412); not on another
// status; a proxied answer's validators do not count, nor those header_filter / more_set_headers
// set (the filter runs first: they see the 304); add_header's Last-Modified comes after the filter. Observed on nginx 1.22 + lua; the
// Lua form runs there, the JS form on the native engine and on node:http.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const LM = 'Fri, 14 Jul 2017 02:40:00 GMT'; // ngx.http_time(1500000000)
const LATER = 'Sat, 15 Jul 2017 02:40:00 GMT';
const PAST = 'Sun, 01 Nov 2015 10:00:00 GMT';

const js = (path: string, pre: string, body: string): string =>
  `location ${path} { ${pre} content_by_js_block { ${body} } }`;

/** A handler setting `headers` (values are expressions valid in both JS and Lua) then saying "body". */
function both(path: string, pre: string, headers: Record<string, string>, status = 200): { conf: string; lua: string } {
  const jsSet = Object.entries(headers).map(([k, v]) => `ngx.header[${JSON.stringify(k)}] = ${v};`).join(' ');
  const luaSet = Object.entries(headers).map(([k, v]) => `ngx.header[${JSON.stringify(k)}] = ${v}`).join(' ');
  const st = status === 200 ? '' : `ngx.status = ${status};`;
  return {
    conf: js(path, pre, `${st} ${jsSet} ngx.say("body");`),
    lua: `location ${path} { ${pre} content_by_lua_block { ${st.replace(';', '')} ${luaSet} ngx.say("body") } }`,
  };
}

const lmH = { 'Last-Modified': 'ngx.http_time(1500000000)' };
const etH = { ETag: '\'"abc"\'' };

const cases: Case[] = [
  {
    name: 'Last-Modified set by the handler: 304 for that exact date, 200 for another; no body, type or length on the 304',
    ...both('= /lm', '', lmH),
    requests: [
      { path: '/lm', headers: { 'If-Modified-Since': LM }, status: 304, resBody: '', resHeaders: { 'Last-Modified': LM, 'Content-Type': undefined, 'Content-Length': undefined } },
      { path: '/lm', headers: { 'If-Modified-Since': LATER }, status: 200, resBody: 'body\n' },
      { path: '/lm', headers: { 'If-None-Match': '"abc"' }, status: 200 },
      { path: '/lm', headers: { 'If-None-Match': '*' }, status: 304 },
      { path: '/lm', headers: { 'If-Unmodified-Since': PAST }, status: 412, resBody: /412 Precondition Failed/ },
      { path: '/lm', headers: { 'If-Unmodified-Since': LATER }, status: 200, resBody: 'body\n' },
      { path: '/lm', status: 200, resBody: 'body\n' },
      // Names in any case, after other headers (the native engine looks for If-* on the raw head).
      { path: '/lm', headers: { 'X-A': '1', 'iF-nONE-mATCH': '*' }, status: 304 },
      { path: '/lm', headers: { 'X-A': '1', 'if-modified-since': LM }, status: 304 },
    ],
  },
  {
    name: 'ETag set by the handler: 304 for the tag (weak too), 200 for another; If-Match another tag is 412',
    ...both('= /et', '', etH),
    requests: [
      { path: '/et', headers: { 'If-None-Match': '"abc"' }, status: 304, resHeaders: { ETag: '"abc"' } },
      { path: '/et', headers: { 'If-None-Match': 'W/"abc"' }, status: 304 },
      { path: '/et', headers: { 'If-None-Match': '"zz"' }, status: 200, resBody: 'body\n' },
      { path: '/et', headers: { 'If-Modified-Since': LM }, status: 200 },
      { path: '/et', headers: { 'If-Match': '"zz"' }, status: 412, resHeaders: { ETag: undefined } },
      { path: '/et', headers: { 'If-Match': '"abc"' }, status: 200, resBody: 'body\n' },
    ],
  },
  {
    name: 'if_modified_since before takes a later date, off ignores the date (not If-None-Match: *)',
    conf: [both('= /before', 'if_modified_since before;', lmH).conf, both('= /off', 'if_modified_since off;', lmH).conf].join('\n'),
    lua: [both('= /before', 'if_modified_since before;', lmH).lua, both('= /off', 'if_modified_since off;', lmH).lua].join('\n'),
    requests: [
      { path: '/before', headers: { 'If-Modified-Since': LATER }, status: 304 },
      { path: '/before', headers: { 'If-Modified-Since': PAST }, status: 200 },
      { path: '/off', headers: { 'If-Modified-Since': LM }, status: 200, resBody: 'body\n' },
      { path: '/off', headers: { 'If-None-Match': '*' }, status: 304 },
    ],
  },
  {
    name: 'a status other than 200 is left alone',
    ...both('= /st201', '', lmH, 201),
    requests: [
      { path: '/st201', headers: { 'If-Modified-Since': LM }, status: 201, resBody: 'body\n' },
      { path: '/st201', headers: { 'If-Match': '"zz"' }, status: 201 },
    ],
  },
  {
    name: 'ngx.exit(200) after setting Last-Modified; return 200 (add_header Last-Modified comes after the filter)',
    conf: `${js('= /exit', '', `ngx.header["Last-Modified"] = ngx.http_time(1500000000); ngx.exit(200);`)}
    location = /ret { add_header Last-Modified "${LM}"; return 200 "x\\n"; }
    location = /ret2 { return 200 "y\\n"; }`,
    lua: `location = /exit { content_by_lua_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000) ngx.exit(200) } }
    location = /ret { add_header Last-Modified "${LM}"; return 200 "x\\n"; }
    location = /ret2 { return 200 "y\\n"; }`,
    requests: [
      { path: '/exit', headers: { 'If-Modified-Since': LM }, status: 304 },
      { path: '/ret', headers: { 'If-Modified-Since': LM }, status: 200, resBody: 'x\n' },
      { path: '/ret', headers: { 'If-None-Match': '*' }, status: 304 },
      { path: '/ret', headers: { 'If-Match': '"zz"' }, status: 412, resBody: /412 Precondition Failed/ },
      { path: '/ret', status: 200, resBody: 'x\n' },
      { path: '/ret2', headers: { 'If-None-Match': '*' }, status: 304, resBody: '' },
      { path: '/ret2', headers: { 'If-Unmodified-Since': LATER }, status: 412 },
      { path: '/ret2', headers: { 'If-Modified-Since': LM }, status: 200, resBody: 'y\n' },
    ],
  },
  {
    name: 'the filter comes first: header_filter, more_set_headers and add_header see the 304; validators they set do not count',
    conf: `location = /hf { header_filter_by_js_block { ngx.header["X-Seen"] = ngx.status; } content_by_js_block { ngx.header["ETag"] = '"e"'; ngx.say("x"); } }
    location = /hf2 { header_filter_by_js_block { ngx.header["ETag"] = '"h"'; } return 200 "x\\n"; }
    location = /more { more_set_headers 'X-More: $status' 'ETag: "m"'; add_header X-Add $status; content_by_js_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000); ngx.say("x"); } }`,
    lua: `location = /hf { header_filter_by_lua_block { ngx.header["X-Seen"] = ngx.status } content_by_lua_block { ngx.header["ETag"] = '"e"' ngx.say("x") } }
    location = /hf2 { header_filter_by_lua_block { ngx.header["ETag"] = '"h"' } return 200 "x\\n"; }
    location = /more { more_set_headers 'X-More: $status' 'ETag: "m"'; add_header X-Add $status; content_by_lua_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000) ngx.say("x") } }`,
    requests: [
      { path: '/hf', headers: { 'If-None-Match': '"e"' }, status: 304, resHeaders: { 'X-Seen': '304' } },
      { path: '/hf2', headers: { 'If-None-Match': '"h"' }, status: 200, resHeaders: { ETag: '"h"' } },
      { path: '/more', headers: { 'If-Modified-Since': LM }, status: 304, resHeaders: { 'X-More': '304', 'X-Add': '304' } },
      { path: '/more', headers: { 'If-None-Match': '"m"' }, status: 200, resHeaders: { 'X-More': '200', ETag: '"m"' } },
    ],
  },
  {
    name: 'a proxied 200: its Last-Modified and ETag do not count, If-Match / If-Unmodified-Since fail',
    conf: `location = /up { add_header ETag '"abc"'; add_header Last-Modified "${LM}"; return 200 "up\\n"; }
    location = /px { proxy_pass http://127.0.0.1:__PORT__/up; }`,
    lua: `location = /up { add_header ETag '"abc"'; add_header Last-Modified "${LM}"; return 200 "up\\n"; }
    location = /px { proxy_pass http://127.0.0.1:__PORT__/up; }`,
    requests: [
      { path: '/px', headers: { 'If-None-Match': '"abc"' }, status: 200, resBody: 'up\n', resHeaders: { ETag: '"abc"' } },
      { path: '/px', headers: { 'If-Modified-Since': LM }, status: 200 },
      { path: '/px', headers: { 'If-Match': '"abc"' }, status: 412 },
      { path: '/px', headers: { 'If-Unmodified-Since': LATER }, status: 412 },
    ],
  },
];

compatSuite('not-modified filter on handlers\' answers', {}, cases);
phaseSuite('not-modified filter on handlers\' answers on node:http', { http: 'http_engine node;' }, cases);
