// $content_length of a chunked request body, once read, in memory or in a temp file
// (client_body_buffer_size small), on both tresty engines and on nginx 1.22 + lua with the same
// expectations. Observed on nginx + lua: not found before the read, the body's length after it,
// in a file too; the Content-Length request header stays absent.
import { expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { dechunk } from './helpers/fuzz.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

const locations = (js: boolean): string => {
  const code = js
    ? `const s = (v) => v === undefined || v === null ? "nil" : String(v);
       const before = s(ngx.var.content_length);
       await ngx.req.read_body();
       ngx.say(before, " ", s(ngx.var.content_length), " file=", ngx.req.get_body_file() ? "true" : "false", " hdr=", s(ngx.req.get_headers()["content-length"]));`
    : `local before = tostring(ngx.var.content_length)
       ngx.req.read_body()
       ngx.say(before, " ", tostring(ngx.var.content_length), " file=", tostring(ngx.req.get_body_file() ~= nil), " hdr=", tostring(ngx.req.get_headers()["content-length"]))`;
  const l = js ? 'js' : 'lua';
  return `location /file { client_body_buffer_size 16; content_by_${l}_block { ${code} } }
    location /mem { client_body_buffer_size 64k; content_by_${l}_block { ${code} } }`;
};

const BODY = 'x'.repeat(5000);
const chunked = `${(2000).toString(16)}\r\n${BODY.slice(0, 2000)}\r\n${(3000).toString(16)}\r\n${BODY.slice(2000)}\r\n0\r\n\r\n`;

/** [path, chunked?, the line] */
const CASES: Array<[string, boolean, string]> = [
  ['/file', true, 'nil 5000 file=true hdr=nil\n'],
  ['/file', false, '5000 5000 file=true hdr=5000\n'],
  ['/mem', true, 'nil 5000 file=false hdr=nil\n'],
  ['/mem', false, '5000 5000 file=false hdr=5000\n'],
];

onEnginesAndNginx('$content_length of a chunked body read to a file', locations, (port) => {
  for (const [path, isChunked, want] of CASES) {
    it(`POST ${path} ${isChunked ? 'chunked' : 'with a length'}`, async () => {
      const head = `POST ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n${isChunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY.length}`}\r\n\r\n`;
      const r = await raw(port(), [head, isChunked ? chunked : BODY], { timeoutMs: 3000 });
      const at = r.data.indexOf('\r\n\r\n');
      expect(r.data.slice(0, 12)).toBe('HTTP/1.1 200');
      const body = r.data.slice(at + 4);
      expect(/\r\nTransfer-Encoding: chunked/i.test(r.data.slice(0, at)) ? dechunk(body) : body).toBe(want);
    });
  }
});
