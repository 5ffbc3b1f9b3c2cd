// ngx.flush with nothing to flush, on both tresty engines and on nginx 1.22 + lua with the same
// expectations. Observed on nginx + lua: a flush (with or without wait) before the head went out
// returns `nil, "nothing to flush"` and sends nothing: the status and headers can still change
// (ngx.headers_sent stays false); once the head went out (ngx.send_headers, or ngx.print("")) but
// no body bytes did, only ngx.flush(true) returns 1, ngx.flush() is "nothing to flush" again; once
// body bytes went, every flush returns 1. To HTTP/1.0, "nothing to flush" comes before
// "buffering". tresty returned [true, null] and sent the head.
import { expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { dechunk } from './helpers/fuzz.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

/** Each location's code, `W` an await in JS, `R(x)` the call's two results as Lua prints them. */
const CODE: Record<string, string> = {
  early: 'local a = W ngx.flush(); ngx.status = 202; ngx.header["X-After"] = "yes"; ngx.say(R(a), " ", tostring(ngx.headers_sent))',
  earlywait: 'local a = W ngx.flush(true); ngx.status = 202; ngx.header["X-After"] = "yes"; ngx.say(R(a), " ", tostring(ngx.headers_sent))',
  sent: 'ngx.send_headers(); local a = W ngx.flush(); ngx.say(R(a))',
  sentwait: 'ngx.send_headers(); local a = W ngx.flush(true); local b = W ngx.flush(); ngx.say(R(a), " ", R(b))',
  empty: 'ngx.print(""); local a = W ngx.flush(); ngx.say(R(a), " ", tostring(ngx.headers_sent))',
  body: 'ngx.say("x"); local a = W ngx.flush(); local b = W ngx.flush(); ngx.say(R(a), " ", R(b))',
};

const locations = (js: boolean): string => {
  let out = 'default_type text/plain;\n';
  for (const [name, code] of Object.entries(CODE)) {
    const c = js
      ? `const R = (t) => (t[0] === true ? "1" : "nil") + " " + (t[1] === null ? "nil" : t[1]); ${code.replaceAll('local ', 'const ').replaceAll('W ', 'await ').replaceAll('tostring(', 'String(')}`
      : `local function R(...) local a, b = ... return tostring(a) .. " " .. tostring(b) end ${code.replace(/local (\w) = W (ngx\.flush\([a-z]*\))/g, 'local $1 = { $2 }').replace(/R\((\w)\)/g, 'R(unpack($1))')}`;
    out += `    location = /${name} { content_by_${js ? 'js' : 'lua'}_block { ${c} } }\n`;
  }
  return out;
};

/** [path, HTTP version, status, X-After in the head, the body] */
const CASES: Array<[string, string, number, boolean, string]> = [
  ['/early', '1.1', 202, true, 'nil nothing to flush false\n'],
  ['/earlywait', '1.1', 202, true, 'nil nothing to flush false\n'],
  ['/early', '1.0', 202, true, 'nil nothing to flush false\n'],
  ['/sent', '1.1', 200, false, 'nil nothing to flush\n'],
  ['/sentwait', '1.1', 200, false, '1 nil nil nothing to flush\n'],
  ['/empty', '1.1', 200, false, 'nil nothing to flush true\n'],
  ['/body', '1.1', 200, false, 'x\n1 nil 1 nil\n'],
];

onEnginesAndNginx('ngx.flush with nothing to flush: nil, "nothing to flush", nothing sent', locations, (port) => {
  for (const [path, v, status, after, body] of CASES) {
    it(`GET ${path} HTTP/${v}`, async () => {
      const r = await raw(port(), [`GET ${path} HTTP/${v}\r\nHost: h\r\nConnection: close\r\n\r\n`], { timeoutMs: 2000 });
      const at = r.data.indexOf('\r\n\r\n');
      const head = r.data.slice(0, at);
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(/\r\nX-After: yes/i.test(head)).toBe(after);
      const data = r.data.slice(at + 4);
      expect(/\r\nTransfer-Encoding: chunked/i.test(head) ? dechunk(data) : data).toBe(body);
    });
  }
});
