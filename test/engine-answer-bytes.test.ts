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
  {
    // Long string bodies go apart from the head (put), and the outbox reserves a string's UTF-8
    // bound, measuring it exactly only when the bound does not fit (Outbox.send).
    name: 'long string bodies around the join limit, wide characters, both heads, chunked and with a length',
    conf: `location = /long { content_by_js_block { const n = Number(ngx.var.arg_n); if (ngx.var.arg_l) ngx.header["X-L"] = "\u00e9"; const s = "a\u00e9\u2603".repeat(n); if (ngx.var.arg_len) ngx.header["Content-Length"] = Buffer.byteLength(s); ngx.print(s) } }`,
    requests: [
      { path: '/long?n=682', status: 200, resBody: 'a\u00e9\u2603'.repeat(682) },
      { path: '/long?n=683', status: 200, resBody: 'a\u00e9\u2603'.repeat(683) },
      { path: '/long?n=4000', status: 200, resBody: 'a\u00e9\u2603'.repeat(4000), resHeaders: { 'transfer-encoding': 'chunked' } },
      { path: '/long?n=4000&l=1', status: 200, resBody: 'a\u00e9\u2603'.repeat(4000), resHeaders: { 'x-l': '\u00e9' } },
      { path: '/long?n=4000&len=1', status: 200, resBody: 'a\u00e9\u2603'.repeat(4000), resHeaders: { 'content-length': String(4000 * 6) } },
    ],
  },
  {
    name: 'strings whose UTF-8 bound is past the outbox (1 MB): exact length when it fits, slices when not',
    conf: `location = /huge { content_by_js_block { ngx.print(ngx.var.arg_c === "w" ? "\u2603".repeat(400000) : "x".repeat(350000)) } }`,
    requests: [
      { path: '/huge?c=x', status: 200, resBody: 'x'.repeat(350000) },
      { path: '/huge?c=w', status: 200, resBody: '\u2603'.repeat(400000) },
    ],
  },
];

phaseSuite('answer bytes on the native engine', {}, cases);
