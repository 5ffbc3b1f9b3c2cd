// The bytes of an answer as the native engine sends them: header values go out as their latin1
// bytes and a string body as UTF-8, whether the head and a small body are packed into one write
// (an ASCII head) or not (a header byte above 0x7f), with chunk framing around either.
import { phaseSuite, type Case } from './helpers/phases-harness.js';

const cases: Case[] = [
  {
    name: 'a header byte above 0x7f and a string body with wide characters: the header as latin1, the body as UTF-8',
    conf: `location = /latin-head { content_by_js_block { ngx.header["X-L"] = "caf\\u00e9"; ngx.say("caf\\u00e9 \\u2603") } }`,
    requests: [{ path: '/latin-head', status: 200, resBody: 'caf\u00e9 \u2603\n', resHeaders: { 'x-l': 'caf\u00e9', 'transfer-encoding': 'chunked' } }],
  },
  {
    name: 'an ASCII head with a string body of wide characters: the body as UTF-8',
    conf: `location = /ascii-head { content_by_js_block { ngx.header["X-A"] = "plain"; ngx.say("caf\\u00e9 \\u2603") } }`,
    requests: [{ path: '/ascii-head', status: 200, resBody: 'caf\u00e9 \u2603\n', resHeaders: { 'x-a': 'plain' } }],
  },
  {
    name: 'bytes and strings as chunks after a latin1 head, and after an ASCII one',
    conf: `location = /bytes-latin { content_by_js_block { ngx.header["X-L"] = "\\u00e9"; ngx.print(new Uint8Array([0xe2, 0x98, 0x83])); ngx.print("\\u00e9") } }
    location = /bytes-ascii { content_by_js_block { ngx.print(new Uint8Array([0xe2, 0x98, 0x83])); ngx.print("\\u00e9") } }`,
    requests: [
      { path: '/bytes-latin', status: 200, resBody: '\u2603\u00e9', resHeaders: { 'x-l': '\u00e9' } },
      { path: '/bytes-ascii', status: 200, resBody: '\u2603\u00e9' },
    ],
  },
  {
    name: 'a later string chunk after the head went out with a flush, with a latin1 head',
    conf: `location = /later { content_by_js_block { ngx.header["X-L"] = "\\u00e9"; ngx.print("a\\u00e9"); await ngx.flush(true); ngx.print("\\u2603") } }`,
    requests: [{ path: '/later', status: 200, resBody: 'a\u00e9\u2603', resHeaders: { 'x-l': '\u00e9' } }],
  },
];

phaseSuite('answer bytes on the native engine', {}, cases);
