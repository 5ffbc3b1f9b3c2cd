// What a header-only or special answer keeps of a handler's work, as observed on nginx 1.22 +
// lua-nginx-module: a 304 from the not-modified filter runs no body filter at all (not even its
// eof call), nor does HEAD, while the 412 page goes through it; a special response (an error page,
// a redirect, 418 without a page, ngx.exit(304) or ngx.exit(204)) drops the ETag, Last-Modified and
// Accept-Ranges the handler set and keeps its other headers; add_header ... always,
// more_set_headers and header_filter run after it and may set them again. The Lua form runs on
// nginx, the JS form on the native engine and on node:http.
import { compatSuite } from './helpers/compat.js';
import { phaseSuite, type Case } from './helpers/phases-harness.js';
import { headersMoreMissing, nginxMissing } from './helpers/nginx.js';

const LM = 'Fri, 14 Jul 2017 02:40:00 GMT'; // ngx.http_time(1500000000)

/** The body filter logs what it sees: the marker must not appear for a header-only answer. */
const bf = (tag: string, js: boolean): string => (js
  ? `body_filter_by_js_block { ngx.log(ngx.ERR, "${tag} saw [", ngx.arg[1], "] eof=", String(ngx.arg[2])); ngx.arg[1] = "X" + ngx.arg[1]; }`
  : `body_filter_by_lua_block { ngx.log(ngx.ERR, "${tag} saw [", ngx.arg[1], "] eof=", tostring(ngx.arg[2])) ngx.arg[1] = "X" .. ngx.arg[1] }`);

/** A handler that sets validators and other headers, then ngx.exit(?s=N). */
const SETS = `ngx.header.ETag = '"abc"'; ngx.header["Last-Modified"] = ngx.http_time(1500000000);
  ngx.header["Accept-Ranges"] = "bytes"; ngx.header["X-Custom"] = "c"; ngx.header["Cache-Control"] = "max-age=5";`;
const luaSets = SETS.replace(/;/g, '');

const kept = { 'X-Custom': 'c', 'Cache-Control': 'max-age=5' };
const dropped = { ETag: undefined, 'Last-Modified': undefined, 'Accept-Ranges': undefined };

const more = headersMoreMissing() === null || nginxMissing() !== null;

const cases: Case[] = [
  {
    name: 'a 304 of the not-modified filter, and HEAD, run no body filter (not even with eof)',
    conf: `location = /nm { ${bf('BF304', true)} content_by_js_block { ngx.header.ETag = '"abc"'; ngx.say("one"); ngx.flush(true); ngx.say("two"); } }`,
    lua: `location = /nm { ${bf('BF304', false)} content_by_lua_block { ngx.header.ETag = '"abc"' ngx.say("one") ngx.flush(true) ngx.say("two") } }`,
    requests: [
      { path: '/nm', headers: { 'If-None-Match': '"abc"' }, status: 304, resBody: '', resHeaders: { ETag: '"abc"' } },
      { path: '/nm', headers: { 'If-None-Match': '*' }, status: 304, resBody: '' },
      { path: '/nm', method: 'HEAD', status: 200, resBody: '' },
    ],
    noErrorLog: ['BF304 saw'],
  },
  {
    name: 'the body filter sees each chunk and the eof of a 200, and the 412 page',
    conf: `location = /bf { ${bf('BF200', true)} content_by_js_block { ngx.header.ETag = '"abc"'; ngx.say("one"); ngx.say("two"); } }`,
    lua: `location = /bf { ${bf('BF200', false)} content_by_lua_block { ngx.header.ETag = '"abc"' ngx.say("one") ngx.say("two") } }`,
    requests: [
      { path: '/bf', status: 200, resBody: 'Xone\nXtwo\nX' },
      { path: '/bf', headers: { 'If-Match': '"zz"' }, status: 412, resBody: /^X<html>[^]*412 Precondition Failed/, resHeaders: { ETag: undefined } },
    ],
    errorLog: ['BF200 saw [one', 'BF200 saw [] eof=true', /BF200 saw \[<html>[^]*eof=true/],
  },
  {
    name: 'ngx.exit with an error, a redirect, 418, 304 or 204 drops ETag, Last-Modified and Accept-Ranges, keeps the rest',
    conf: `location = /x { content_by_js_block { ${SETS} ngx.exit(Number(ngx.var.arg_s)); } }`,
    lua: `location = /x { content_by_lua_block { ${luaSets} ngx.exit(tonumber(ngx.var.arg_s)) } }`,
    requests: [
      ...[404, 403, 500, 503, 301, 412].map((s) => ({ path: `/x?s=${s}`, status: s, resBody: new RegExp(`<h1>${s} `), resHeaders: { ...dropped, ...kept, 'Content-Type': 'text/html' } })),
      { path: '/x?s=418', status: 418, resBody: '', resHeaders: { ...dropped, ...kept } },
      { path: '/x?s=304', status: 304, resBody: '', resHeaders: { ...dropped, ...kept } },
      { path: '/x?s=204', status: 204, resBody: '', resHeaders: { ...dropped, ...kept } },
      // Not a special response: all kept.
      { path: '/x?s=201', status: 201, resHeaders: { ETag: '"abc"', 'Last-Modified': LM, 'Accept-Ranges': 'bytes', ...kept } },
    ],
  },
  {
    name: 'add_header always and header_filter come after the special response: their validators stay',
    conf: `location = /ra { add_header ETag '"a"' always; add_header X-A a; add_header Last-Modified "${LM}" always; return 404; }
    location = /rb { add_header ETag '"a"'; return 404; }
    location = /hf { header_filter_by_js_block { ngx.header.ETag = '"h"'; } content_by_js_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000); ngx.exit(403); } }`,
    lua: `location = /ra { add_header ETag '"a"' always; add_header X-A a; add_header Last-Modified "${LM}" always; return 404; }
    location = /rb { add_header ETag '"a"'; return 404; }
    location = /hf { header_filter_by_lua_block { ngx.header.ETag = '"h"' } content_by_lua_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000) ngx.exit(403) } }`,
    requests: [
      { path: '/ra', status: 404, resHeaders: { ETag: '"a"', 'Last-Modified': LM, 'X-A': undefined } },
      { path: '/rb', status: 404, resHeaders: { ETag: undefined } },
      { path: '/hf', status: 403, resHeaders: { ETag: '"h"', 'Last-Modified': undefined } },
    ],
  },
  ...(more ? [{
    name: 'more_set_headers comes after the special response too',
    conf: `location = /mh { more_set_headers 'ETag: "m"' 'X-M: m'; content_by_js_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000); ngx.exit(404); } }`,
    lua: `location = /mh { more_set_headers 'ETag: "m"' 'X-M: m'; content_by_lua_block { ngx.header["Last-Modified"] = ngx.http_time(1500000000) ngx.exit(404) } }`,
    requests: [{ path: '/mh', status: 404, resHeaders: { ETag: '"m"', 'X-M': 'm', 'Last-Modified': undefined } }],
  }] : []),
];

compatSuite('special answers: body filter and headers kept', {}, cases);
phaseSuite('special answers: body filter and headers kept, on node:http', { http: 'http_engine node;' }, cases);
