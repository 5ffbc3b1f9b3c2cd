// ngx.flush and body_filter, byte for byte on both tresty engines and on nginx 1.22 + lua with the
// same expectations. Observed on nginx + lua: ngx.flush() sends an empty flush buffer through the
// body filters, so body_filter_by_lua sees a call with ngx.arg[1] == "" and ngx.arg[2] == false
// for each flush (ngx.flush(true) too) once body bytes went out; the empty buffer puts nothing on
// the wire (no early `0\r\n\r\n`), what the filter puts in it goes out as its own chunk. A flush
// before any body bytes ("nothing to flush") makes no call; after ngx.send_headers, only a
// flush(true) does. tresty called body_filter for a flush not at all.
import { expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

/** The body filter wraps each chunk it sees: `<chunk>`, `<chunk$>` with eof. */
const MARK = {
  js: 'body_filter_by_js_block { ngx.arg[1] = "<" + ngx.arg[1] + (ngx.arg[2] ? "$" : "") + ">"; }',
  lua: 'body_filter_by_lua_block { ngx.arg[1] = "<" .. ngx.arg[1] .. (ngx.arg[2] and "$" or "") .. ">" }',
};
/** The body filter that only looks. */
const LOOK = { js: 'body_filter_by_js_block { const seen = ngx.arg[1]; }', lua: 'body_filter_by_lua_block { local seen = ngx.arg[1] }' };

const locations = (js: boolean): string => {
  const l = js ? 'js' : 'lua';
  const w = js ? 'await ' : '';
  const e = js ? ';' : '';
  const content = (code: string): string => `content_by_${l}_block { ${code} }`;
  return `default_type text/plain;
    location = /mark { ${MARK[l]} ${content(`ngx.print("a")${e} ${w}ngx.flush()${e} ngx.print("b")${e} ${w}ngx.flush(true)${e} ngx.say("c")${e}`)} }
    location = /twice { ${MARK[l]} ${content(`ngx.print("b")${e} ${w}ngx.flush()${e} ${w}ngx.flush()${e}`)} }
    location = /early { ${MARK[l]} ${content(`${w}ngx.flush()${e} ngx.print("b")${e}`)} }
    location = /sent { ${MARK[l]} ${content(`ngx.send_headers()${e} ${w}ngx.flush()${e} ${w}ngx.flush(true)${e} ngx.print("b")${e}`)} }
    location = /look { ${LOOK[l]} ${content(`ngx.print("a")${e} ${w}ngx.flush()${e} ngx.print("b")${e}`)} }
  `;
};

/** [path, the chunked body expected] */
const CASES: Array<[string, string]> = [
  ['/mark', '3\r\n<a>\r\n2\r\n<>\r\n3\r\n<b>\r\n2\r\n<>\r\n4\r\n<c\n>\r\n3\r\n<$>\r\n0\r\n\r\n'],
  ['/twice', '3\r\n<b>\r\n2\r\n<>\r\n2\r\n<>\r\n3\r\n<$>\r\n0\r\n\r\n'],
  ['/early', '3\r\n<b>\r\n3\r\n<$>\r\n0\r\n\r\n'],
  ['/sent', '2\r\n<>\r\n3\r\n<b>\r\n3\r\n<$>\r\n0\r\n\r\n'],
  ['/look', '1\r\na\r\n1\r\nb\r\n0\r\n\r\n'],
];

onEnginesAndNginx('ngx.flush through body_filter: an empty chunk without eof, nothing on the wire', locations, (port) => {
  for (const [path, body] of CASES) {
    it(`GET ${path}`, async () => {
      const req = `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
      const r = await raw(port(), [req + req], { timeoutMs: 600 });
      const answers = r.data.split(/(?=HTTP\/1\.1 )/);
      expect(answers.length).toBe(2);
      for (const a of answers) {
        expect(a).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\nTransfer-Encoding: chunked\r\n/);
        expect(a.slice(a.indexOf('\r\n\r\n') + 4)).toBe(body);
      }
    });
  }
});
