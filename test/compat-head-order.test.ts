// The order of a head, byte for byte (the values of Date, Server, Expires, Last-Modified, ETag and
// a page's Content-Length set aside), on the native engine, on node:http and on nginx 1.22 + lua
// with the same expectations. Observed on nginx (ngx_http_header_filter): Server, Date, then the
// fields it keeps apart (Content-Type, its own Content-Length, Last-Modified, a Location it made
// absolute), Transfer-Encoding, Connection, and then its header list in the order it was set: a
// handler's headers, a Location ngx.redirect / `return URL` / `rewrite URL redirect` / error_page
// set, a handler's own Content-Length or Server, ETag, expires', add_header's, Accept-Ranges.
// ngx.redirect adds its Location next to one the handler set. A proxied answer: its Content-Type
// and Content-Length before Connection, its Location and Last-Modified in the list. Before, tresty wrote ngx.redirect's
// Location first, a handler's headers before Content-Type, and on node:http Connection last.
import { expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

/** The locations, `LANG` is `lua` or `js`. */
const LOCATIONS = `
    location = /url { content_by_LANG_block { ngx.redirect("http://e.example/x", 302) } }
    location = /rel { content_by_LANG_block { ngx.redirect("/other", 301) } }
    location = /hdr { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header.content_type = "text/plain"; ngx.redirect("http://e.example/x") } }
    location = /two { content_by_LANG_block { ngx.header.Location = "http://e.example/y"; ngx.redirect("http://e.example/x", 307) } }
    location = /acc { access_by_LANG_block { ngx.header["X-C"] = "3"; ngx.redirect("http://e.example/x") } content_by_LANG_block { ngx.say("x") } }
    location = /late { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.redirect("http://e.example/x") } header_filter_by_LANG_block { ngx.header["X-Late"] = "L" } }
    location = /say { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header.content_type = "text/plain"; ngx.say("x") } }
    location = /own { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header["Content-Length"] = 2; ngx.header.ETag = "e"; ngx.header.content_type = "text/plain"; ngx.print("x\\n") } }
    location = /server { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header.Server = "mine"; ngx.header.Location = "/loc"; ngx.status = 201; ngx.say("x") } }
    location = /ret { add_header X-B 2; return 200 "x"; }
    location = /ret301 { add_header X-B 2; return 301 http://e.example/r; }
    location = /retrel { add_header X-B 2; return 302 /rel; }
    location = /ep { add_header X-B 2 always; error_page 404 http://e.example/nf; return 404; }
    location = /rw { rewrite ^ http://e.example/rw redirect; }
    location = /rwrel { add_header X-B 2; rewrite ^ /other permanent; }
    location = /f.txt { root ROOT; add_header X-B 2; expires 1h; }
    location = /up { content_by_LANG_block { ngx.header["X-U"] = "1"; ngx.header["Content-Length"] = 2; ngx.header["Last-Modified"] = "Thu, 01 Jan 1970 00:00:01 GMT"; ngx.print("x\\n") } }
    location = /px { proxy_pass http://127.0.0.1:PORT/up; }
    location = /px301 { proxy_pass http://127.0.0.1:PORT/ret301; }`;

const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
const LEAD = ['Server: S', 'Date: D'];
const PAGE = [...LEAD, 'Content-Type: text/html', 'Content-Length: N'];
const KA = 'Connection: keep-alive';

const EXPECTED: Array<[string, string, (port: number) => string]> = [
  ['ngx.redirect to a URL: Location after Connection', '/url', () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'Location: http://e.example/x'])],
  ['ngx.redirect to a path: sent as given, after Connection', '/rel', () => head(['HTTP/1.1 301 Moved Permanently', ...PAGE, KA, 'Location: /other'])],
  ['ngx.redirect after a header and a type: the page\'s type first, the header then Location after Connection', '/hdr',
    () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'X-A: 1', 'Location: http://e.example/x'])],
  ['ngx.redirect with a Location set: both lines', '/two',
    () => head(['HTTP/1.1 307 Temporary Redirect', ...PAGE, KA, 'Location: http://e.example/y', 'Location: http://e.example/x'])],
  ['ngx.redirect in access_by: the header set before it, then Location', '/acc',
    () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'X-C: 3', 'Location: http://e.example/x'])],
  ['a header header_filter_by adds after ngx.redirect: after Location', '/late',
    () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'X-A: 1', 'Location: http://e.example/x', 'X-Late: L'])],
  ['a body of unknown length: Content-Type, Transfer-Encoding, Connection, then the handler\'s header', '/say',
    () => head(['HTTP/1.1 200 OK', ...LEAD, 'Content-Type: text/plain', 'Transfer-Encoding: chunked', KA, 'X-A: 1'])],
  ['a Content-Length the handler set: in the header list, at its place', '/own',
    () => head(['HTTP/1.1 200 OK', ...LEAD, 'Content-Type: text/plain', KA, 'X-A: 1', 'Content-Length: 2', 'ETag: E'])],
  ['a Server and a Location the handler set: in the header list', '/server',
    () => head(['HTTP/1.1 201 Created', 'Date: D', 'Content-Type: text/plain', 'Transfer-Encoding: chunked', KA, 'X-A: 1', 'Server: mine', 'Location: /loc'])],
  ['return with text: add_header after Connection', '/ret',
    () => head(['HTTP/1.1 200 OK', ...LEAD, 'Content-Type: text/plain', 'Content-Length: 1', KA, 'X-B: 2'])],
  ['return with a URL: Location, then add_header, after Connection', '/ret301',
    () => head(['HTTP/1.1 301 Moved Permanently', ...PAGE, KA, 'Location: http://e.example/r', 'X-B: 2'])],
  ['return with a path made absolute: Location before Connection, add_header after', '/retrel',
    (p) => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, `Location: http://h:${p}/rel`, KA, 'X-B: 2'])],
  ['error_page to a URL: Location, then add_header always, after Connection', '/ep',
    () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'Location: http://e.example/nf', 'X-B: 2'])],
  ['rewrite to a URL with redirect: Location after Connection', '/rw',
    () => head(['HTTP/1.1 302 Moved Temporarily', ...PAGE, KA, 'Location: http://e.example/rw'])],
  ['rewrite to a path with permanent: Location made absolute before Connection', '/rwrel',
    (p) => head(['HTTP/1.1 301 Moved Permanently', ...PAGE, `Location: http://h:${p}/other`, KA, 'X-B: 2'])],
  ['a static file: Last-Modified before Connection; ETag, expires, add_header, Accept-Ranges after', '/f.txt',
    () => head(['HTTP/1.1 200 OK', ...LEAD, 'Content-Type: text/plain', 'Content-Length: 6', 'Last-Modified: L', KA, 'ETag: E',
      'Expires: E', 'Cache-Control: max-age=3600', 'X-B: 2', 'Accept-Ranges: bytes'])],
  ['proxied: the upstream\'s Content-Type and Content-Length before Connection, its other headers after, in its order', '/px',
    () => head(['HTTP/1.1 200 OK', ...LEAD, 'Content-Type: text/plain', 'Content-Length: 2', KA, 'X-U: 1', 'Last-Modified: L'])],
  ['a proxied redirect: its Location after Connection', '/px301',
    () => head(['HTTP/1.1 301 Moved Permanently', ...PAGE, KA, 'Location: http://e.example/r', 'X-B: 2'])],
];

/** The head with the values that differ between servers and runs set aside. */
function normal(data: string): string {
  const h = data.slice(0, data.indexOf('\r\n\r\n') + 4);
  return h.replace(/\r\nServer: (?:nginx|tresty)[^\r]*/, '\r\nServer: S').replace(/\r\nDate: [^\r]*/, '\r\nDate: D')
    .replace(/\r\nExpires: [^\r]*/, '\r\nExpires: E').replace(/\r\nLast-Modified: [^\r]*/, '\r\nLast-Modified: L')
    .replace(/\r\nETag: [^\r]*/, '\r\nETag: E').replace(/\r\nContent-Length: 1[3-7]\d\r\n/, '\r\nContent-Length: N\r\n');
}

function checks(port: () => number): void {
  for (const [title, path, want] of EXPECTED) {
    it(`${path}: ${title}`, async () => {
      const r = await raw(port(), [`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`], { timeoutMs: 600, answers: 1 });
      expect(normal(r.data)).toBe(want(port()));
    });
  }
}

const FILES = { 'html/f.txt': 'hello\n' };

onEnginesAndNginx('the order of a head',
  (js) => LOCATIONS.replaceAll('LANG', js ? 'js' : 'lua').replace('ROOT', js ? 'html' : '__PREFIX__/html').replaceAll('PORT', '__PORT__'), checks, { files: FILES });
