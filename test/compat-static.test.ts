// Static files as nginx 1.22 serves them: preconditions (412 / 304 with if_modified_since),
// byte ranges (206, multipart, 416, If-Range), Accept-Ranges, `etag off` and `alias` (prefix and
// regex locations, with index files, try_files and the directory redirect), POST and other
// methods on static files. The same cases run on the native engine, on node:http and on nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatSuite } from './helpers/compat.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const files = {
  'html/s/b.txt': 'hello world\n',
  'html/s/empty.txt': '',
  'data/img/a.txt': 'IMG\n',
  'data/img/sub/index.html': 'SUB\n',
  'data/two/x.txt': 'TWO\n',
};

const FUTURE = 'Mon, 01 Nov 2100 10:00:00 GMT';
const PAST = 'Sun, 01 Nov 2015 10:00:00 GMT';

const cases: Case[] = [
  {
    name: 'a whole file says Accept-Ranges; HEAD too; a 304 does not',
    conf: '',
    requests: [
      { path: '/s/b.txt', status: 200, resBody: 'hello world\n', resHeaders: { 'Accept-Ranges': 'bytes', 'Content-Length': '12', ETag: /^"[0-9a-f]+-c"$/ } },
      { path: '/s/b.txt', method: 'HEAD', status: 200, resHeaders: { 'Accept-Ranges': 'bytes', 'Content-Length': '12' } },
      { path: '/s/b.txt', headers: { 'If-None-Match': '*' }, status: 304, resHeaders: { 'Accept-Ranges': undefined, ETag: /^"/, 'Content-Type': undefined } },
    ],
  },
  {
    name: 'preconditions: If-Match and If-Unmodified-Since fail with 412; If-None-Match lists and weak tags',
    conf: '',
    requests: [
      { path: '/s/b.txt', headers: { 'If-Match': '"zz"' }, status: 412, resBody: /412 Precondition Failed/ },
      { path: '/s/b.txt', headers: { 'If-Match': '*' }, status: 200 },
      { path: '/s/b.txt', headers: { 'If-Unmodified-Since': PAST }, status: 412 },
      { path: '/s/b.txt', headers: { 'If-Unmodified-Since': FUTURE }, status: 200, resBody: 'hello world\n' },
      { path: '/s/b.txt', headers: { 'If-None-Match': '"a", W/"b"' }, status: 200 },
    ],
  },
  {
    name: 'If-Modified-Since: exact by default; `before` takes a later date; `off` ignores it; both validators must agree',
    conf: `location /ims-before/ { alias html/s/; if_modified_since before; }
    location /ims-off/ { alias html/s/; if_modified_since off; }`,
    requests: [
      { path: '/s/b.txt', headers: { 'If-Modified-Since': FUTURE }, status: 200 },
      { path: '/ims-before/b.txt', headers: { 'If-Modified-Since': FUTURE }, status: 304 },
      { path: '/ims-before/b.txt', headers: { 'If-Modified-Since': PAST }, status: 200 },
      { path: '/ims-off/b.txt', headers: { 'If-None-Match': '*' }, status: 304 },
      { path: '/ims-off/b.txt', headers: { 'If-Modified-Since': FUTURE }, status: 200 },
      { path: '/ims-before/b.txt', headers: { 'If-Modified-Since': FUTURE, 'If-None-Match': '"zz"' }, status: 200 },
      { path: '/ims-before/b.txt', headers: { 'If-Modified-Since': FUTURE, 'If-None-Match': '*' }, status: 304 },
    ],
  },
  {
    // Was 'unknown directive' in tresty.
    name: 'max_ranges: more ranges than allowed get the whole file (announced); 0 serves and announces none',
    conf: `location /one/ { alias html/s/; max_ranges 1; }
    location /none/ { alias html/s/; max_ranges 0; }`,
    requests: [
      { path: '/one/b.txt', headers: { Range: 'bytes=0-4' }, status: 206, resBody: 'hello', resHeaders: { 'Content-Range': 'bytes 0-4/12' } },
      { path: '/one/b.txt', headers: { Range: 'bytes=0-1,3-4' }, status: 200, resBody: 'hello world\n', resHeaders: { 'Accept-Ranges': 'bytes', 'Content-Range': undefined } },
      { path: '/one/b.txt', headers: { Range: 'bytes=0-1,x' }, status: 416 },
      { path: '/none/b.txt', headers: { Range: 'bytes=0-4' }, status: 200, resBody: 'hello world\n', resHeaders: { 'Accept-Ranges': undefined, 'Content-Range': undefined } },
      { path: '/none/b.txt', method: 'HEAD', status: 200, resHeaders: { 'Accept-Ranges': undefined, 'Content-Length': '12' } },
    ],
  },
  {
    name: 'Range: one range is a 206 with Content-Range; suffix and open ranges; past the end clipped',
    conf: '',
    requests: [
      { path: '/s/b.txt', headers: { Range: 'bytes=0-4' }, status: 206, resBody: 'hello', resHeaders: { 'Content-Range': 'bytes 0-4/12', 'Content-Length': '5', 'Accept-Ranges': undefined, ETag: /^"/ } },
      { path: '/s/b.txt', headers: { Range: 'bytes=-3' }, status: 206, resBody: 'ld\n', resHeaders: { 'Content-Range': 'bytes 9-11/12' } },
      { path: '/s/b.txt', headers: { Range: 'bytes=6-' }, status: 206, resBody: 'world\n', resHeaders: { 'Content-Range': 'bytes 6-11/12' } },
      { path: '/s/b.txt', headers: { Range: 'bytes=6-100' }, status: 206, resBody: 'world\n', resHeaders: { 'Content-Range': 'bytes 6-11/12' } },
      { path: '/s/b.txt', headers: { Range: 'bytes=0-4' }, method: 'HEAD', status: 206, resHeaders: { 'Content-Range': 'bytes 0-4/12', 'Content-Length': '5' } },
      { path: '/s/b.txt', headers: { Range: 'bytes=0-100' }, status: 206, resHeaders: { 'Content-Range': 'bytes 0-11/12' } },
    ],
  },
  {
    name: 'Range: unsatisfiable or malformed is a 416 (add_header sees the 200); another unit is ignored',
    conf: 'location /s416/ { alias html/s/; add_header X-A a; }',
    requests: [
      { path: '/s416/b.txt', headers: { Range: 'bytes=50-60' }, status: 416, resBody: /416 Requested Range Not Satisfiable/, resHeaders: { 'Content-Range': 'bytes */12', ETag: undefined, 'Last-Modified': undefined, 'X-A': 'a' } },
      { path: '/s416/b.txt', headers: { Range: 'bytes=x' }, status: 416 },
      { path: '/s416/b.txt', headers: { Range: 'bytes=5-2' }, status: 416 },
      { path: '/s416/b.txt', headers: { Range: 'items=0-1' }, status: 200, resHeaders: { 'Accept-Ranges': 'bytes' } },
    ],
  },
  {
    name: 'Range: several ranges are multipart/byteranges; ranges adding up past the file give it whole',
    conf: '',
    requests: [
      {
        path: '/s/b.txt', headers: { Range: 'bytes=0-1,4-5' }, status: 206,
        resHeaders: { 'Content-Type': /^multipart\/byteranges; boundary=\d{20}$/, 'Content-Length': '198' },
        resBody: /^\r\n--(\d{20})\r\nContent-Type: text\/plain\r\nContent-Range: bytes 0-1\/12\r\n\r\nhe\r\n--\1\r\nContent-Type: text\/plain\r\nContent-Range: bytes 4-5\/12\r\n\r\no \r\n--\1--\r\n$/,
      },
      { path: '/s/b.txt', headers: { Range: 'bytes=0-10,0-10' }, status: 200, resBody: 'hello world\n' },
    ],
  },
  {
    name: 'If-Range: a date or tag that is not the file\'s gives the whole file',
    conf: '',
    requests: [
      { path: '/s/b.txt', headers: { Range: 'bytes=0-1', 'If-Range': PAST }, status: 200, resBody: 'hello world\n' },
      { path: '/s/b.txt', headers: { Range: 'bytes=0-1', 'If-Range': '"zz"' }, status: 200, resBody: 'hello world\n' },
    ],
  },
  {
    name: 'etag off: no ETag; only `*` matches If-None-Match and If-Match',
    conf: 'location /noetag/ { alias html/s/; etag off; }',
    requests: [
      { path: '/noetag/b.txt', status: 200, resHeaders: { ETag: undefined, 'Last-Modified': /GMT$/ } },
      { path: '/noetag/b.txt', headers: { 'If-None-Match': '*' }, status: 304 },
      { path: '/noetag/b.txt', headers: { 'If-Match': '*' }, status: 200 },
      { path: '/noetag/b.txt', headers: { 'If-Match': '"x"' }, status: 412 },
    ],
  },
  {
    name: 'alias in a prefix location: the matched part is replaced; index files; directory redirect',
    conf: `location /img/ { alias data/img/; }
    location /pic { alias data/img/; }`,
    requests: [
      { path: '/img/a.txt', status: 200, resBody: 'IMG\n' },
      { path: '/img/sub/', status: 200, resBody: 'SUB\n' },
      { path: '/img/sub', status: 301, resHeaders: { Location: /\/img\/sub\/$/ } },
      { path: '/img/none', status: 404 },
      { path: '/pic/a.txt', status: 200, resBody: 'IMG\n' },
      { path: '/picsub/index.html', status: 200, resBody: 'SUB\n' },
    ],
  },
  {
    name: 'alias in a regex location is the whole path, with the captures',
    conf: `location ~ ^/re/(.+)$ { alias data/img/$1; }
    location ~ ^/renc/ { alias data/two/; }`,
    requests: [
      { path: '/re/a.txt', status: 200, resBody: 'IMG\n' },
      { path: '/re/sub/', status: 200, resBody: 'SUB\n' },
      { path: '/renc/x.txt', status: 301 },
    ],
  },
  {
    name: 'alias with try_files: the tried names map through the alias',
    conf: `location /tf/ { alias data/img/; try_files $uri $uri/ =404; }
    location /tf2/ { alias data/img/; try_files $uri /tf-fallback; }
    location = /tf-fallback { return 200 "fb $uri"; }`,
    requests: [
      { path: '/tf/a.txt', status: 200, resBody: 'IMG\n' },
      { path: '/tf/zz', status: 404 },
      { path: '/tf2/a.txt', status: 200, resBody: 'IMG\n' },
      { path: '/tf2/zz', status: 200, resBody: 'fb /tf-fallback' },
    ],
  },
  {
    name: 'POST is looked up as GET (404, 403, 301, the index redirect) and refused on a file; other methods at once',
    conf: `location /m/ { alias data/img/; }
    location /mtf/ { alias data/img/; try_files $uri =404; }`,
    requests: [
      { path: '/s/b.txt', method: 'POST', body: 'a=1', status: 405, resBody: /405 Not Allowed/ },
      { path: '/s/none.txt', method: 'POST', body: 'a=1', status: 404 },
      { path: '/s/', method: 'POST', status: 403 },
      { path: '/m/sub', method: 'POST', status: 301 },
      { path: '/m/sub/', method: 'POST', status: 405 },
      { path: '/s/none.txt', method: 'PUT', body: 'a=1', status: 405 },
      { path: '/s/', method: 'DELETE', status: 405 },
      { path: '/m/sub/', method: 'OPTIONS', status: 405 },
      { path: '/mtf/zz', method: 'PUT', status: 404 },
      { path: '/mtf/a.txt', method: 'POST', status: 405 },
      { path: '/s/b.txt', status: 200, resBody: 'hello world\n' },
    ],
  },
];

const server = 'location /s/ { }';
// No handlers here: each case's conf is its nginx form as it is.
compatSuite('static files (ranges, preconditions, etag, alias)', { files, server, luaServer: server }, cases.map((c) => ({ ...c, lua: c.conf })));
phaseSuite('static files (ranges, preconditions, etag, alias) on node:http', { files, server, http: 'http_engine node;' }, cases);

// The file's own validators, read from a first answer: the native engine answers the plain
// conditional GET itself, the rest goes to JS; both must agree with nginx's rules.
for (const engine of ['native', 'node']) {
  describe(`conditional GETs with the file's own ETag and Last-Modified (${engine})`, () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1; error_log logs/error.log info; events {}
        http { http_engine ${engine}; server { listen 127.0.0.1:${port}; location /s/ { add_header X-S s; add_header X-A a always; } } }`, { files });
    });
    afterAll(async () => { await t?.stop(); });
    it('304 for the ETag (alone, in a list, weak) and the exact Last-Modified (also in RFC 850 form); 200 otherwise', async () => {
      const first = await httpGet(port, '/s/b.txt');
      const etag = String(first.headers.etag);
      const lm = String(first.headers['last-modified']);
      const rfc850 = new Date(lm).toUTCString().replace(/^(\w+), (\d\d) (\w+) \d\d(\d\d)/, (_m, d: string, dd: string, mon: string, yy: string) => `${({ Sun: 'Sunday', Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday' } as Record<string, string>)[d]}, ${dd}-${mon}-${yy}`);
      const status = async (headers: Record<string, string>): Promise<number> => (await httpGet(port, '/s/b.txt', { headers })).status;
      // The constant add_headers (written by the native engine there) on a 304, a 200 and a 404.
      const nm = await httpGet(port, '/s/b.txt', { headers: { 'If-None-Match': etag } });
      expect([nm.status, nm.headers['x-s'], nm.headers['x-a']]).toEqual([304, 's', 'a']);
      expect([first.headers['x-s'], first.headers['x-a']]).toEqual(['s', 'a']);
      const nf = await httpGet(port, '/s/none.txt');
      expect([nf.status, nf.headers['x-s'], nf.headers['x-a']]).toEqual([404, undefined, 'a']);
      expect(await status({ 'If-None-Match': etag })).toBe(304);
      expect(await status({ 'If-None-Match': `"x", ${etag}` })).toBe(304);
      expect(await status({ 'If-None-Match': `W/${etag}` })).toBe(304);
      expect(await status({ 'If-None-Match': '"other"' })).toBe(200);
      expect(await status({ 'If-Modified-Since': lm })).toBe(304);
      expect(await status({ 'If-Modified-Since': rfc850 })).toBe(304);
      expect(await status({ 'If-Modified-Since': lm, 'If-None-Match': '"other"' })).toBe(200);
      expect(await status({ 'If-Match': etag })).toBe(200);
      expect(await status({ 'If-Range': etag, Range: 'bytes=0-1' })).toBe(206);
      expect(await status({ 'If-Range': lm, Range: 'bytes=0-1' })).toBe(206);
    });
  });
}
