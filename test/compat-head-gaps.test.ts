// The order of a head where a handler sets what nginx otherwise writes itself, and gzip_vary's
// line: byte for byte (Date, Server, Expires, Last-Modified and ETag values set aside) on the
// native engine, on node:http and on nginx 1.22 + lua with the same expectations. Each request
// goes twice, pipelined on one connection: both must be answered (a handler's Connection does
// not end it). Observed on nginx + lua:
// - a Content-Length, Location or Last-Modified a handler sets is a line of nginx's header list,
//   after Connection, even when set first (tresty put them before Connection);
// - a handler's Connection or Transfer-Encoding is a list line too: nginx still writes its own
//   Connection (and chunks), and keeps the connection whatever the handler's says (tresty wrote
//   the handler's alone and closed on `close`);
// - gzip_vary's `Vary: Accept-Encoding` comes right after Connection, before the list, with or
//   without Accept-Encoding, next to a handler's own Vary; the gzip filter's Content-Encoding at
//   the end of the list (tresty put Vary last, and the engine its gzip lines among the list);
// - a Content-Length a handler sets with ngx.status = 204 or 304 is still sent (nginx clears only
//   its own length), where ngx.exit(204), a special response, drops it (tresty did the reverse).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'vitest';
import { headChecks, headOf, type HeadCase } from './helpers/head-cases.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

const GZ = 'gzip on; gzip_vary on; gzip_types text/plain; gzip_min_length 1;';
const TEXT = 'hello hello hello';
/** gzip_static's FILE.gz (binary: written after the start). */
const S_GZ = zlib.gzipSync(Buffer.from('hi\n'));

/** The locations, `LANG` is `lua` or `js`. */
const LOCATIONS = `
    location = /cl { content_by_LANG_block { ngx.header["Content-Length"] = 5; ngx.print("hello") } }
    location = /clct { content_by_LANG_block { ngx.header["Content-Length"] = 5; ngx.header.content_type = "text/x"; ngx.print("hello") } }
    location = /cllm { content_by_LANG_block { ngx.header.content_length = 5; ngx.header["Last-Modified"] = "Thu, 01 Jan 1970 00:00:01 GMT"; ngx.print("hello") } }
    location = /lm { content_by_LANG_block { ngx.header["Last-Modified"] = "Thu, 01 Jan 1970 00:00:01 GMT"; ngx.header["X-A"] = "1"; ngx.print("hello") } }
    location = /loc { content_by_LANG_block { ngx.header.Location = "/x"; ngx.header["X-A"] = "1"; ngx.print("hello") } }
    location = /close { content_by_LANG_block { ngx.header["Connection"] = "close"; ngx.print("hello") } }
    location = /keep { content_by_LANG_block { ngx.header["Connection"] = "keep-alive"; ngx.print("hello") } }
    location = /upgrade { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header["Connection"] = "upgrade"; ngx.print("hello") } }
    location = /closecl { content_by_LANG_block { ngx.header["Connection"] = "close"; ngx.header["Content-Length"] = 5; ngx.print("hello") } }
    location = /te { content_by_LANG_block { ngx.header["Keep-Alive"] = "timeout=5"; ngx.header["Transfer-Encoding"] = "chunked"; ngx.print("hello") } }
    location = /gz { ${GZ} content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header.content_type = "text/plain"; ngx.print("${TEXT}") } }
    location = /gzv { ${GZ} content_by_LANG_block { ngx.header.Vary = "Origin"; ngx.header.content_type = "text/plain"; ngx.print("${TEXT}") } }
    location = /gzl { ${GZ} content_by_LANG_block { ngx.header["Content-Length"] = 17; ngx.header.content_type = "text/plain"; ngx.header["X-A"] = "1"; ngx.print("${TEXT}") } }
    location = /gzh { ${GZ} content_by_LANG_block { ngx.header.content_type = "text/plain"; ngx.print("${TEXT}") } header_filter_by_LANG_block { ngx.header["X-H"] = "h" } }
    location = /g.txt { ${GZ} root ROOT; add_header X-B 2; expires 1h; }
    location = /s.txt { gzip_static on; gzip_vary on; root ROOT; add_header X-B 2; }
    location = /up { content_by_LANG_block { ngx.header.Vary = "Origin"; ngx.header["X-U"] = "1"; ngx.header.content_type = "text/plain"; ngx.header["Content-Length"] = 17; ngx.print("${TEXT}") } }
    location = /px { ${GZ} proxy_pass http://127.0.0.1:PORT/up; }
    location = /s204 { content_by_LANG_block { ngx.status = 204; ngx.header["Content-Length"] = 5; ngx.header["X-A"] = "1"; ngx.header["Last-Modified"] = "Thu, 01 Jan 1970 00:00:01 GMT" } }
    location = /s304 { content_by_LANG_block { ngx.status = 304; ngx.header["Content-Length"] = 5; ngx.header["X-A"] = "1" } }
    location = /e204 { content_by_LANG_block { ngx.header["Content-Length"] = 0; ngx.header["X-A"] = "1"; ngx.exit(204) } }`;

const head = headOf;
const OK = ['HTTP/1.1 200 OK', 'Server: S', 'Date: D'];
const PLAIN = [...OK, 'Content-Type: text/plain'];
const CHUNKED = [...PLAIN, 'Transfer-Encoding: chunked'];
const KA = 'Connection: keep-alive';
const VARY = 'Vary: Accept-Encoding';
const AE = 'Accept-Encoding: gzip\r\n';

const EXPECTED: HeadCase[] = [
  ['a Content-Length set first: after Connection', 'GET', '/cl', '', head([...PLAIN, KA, 'Content-Length: 5'])],
  ['a Content-Length then a type: the type before Connection, the length after', 'GET', '/clct', '', head([...OK, 'Content-Type: text/x', KA, 'Content-Length: 5'])],
  ['content_length then Last-Modified: both after Connection, as set', 'GET', '/cllm', '', head([...PLAIN, KA, 'content-length: 5', 'Last-Modified: L'])],
  ['a Last-Modified set first: after Connection', 'GET', '/lm', '', head([...CHUNKED, KA, 'Last-Modified: L', 'X-A: 1'])],
  ['a Location set first: after Connection, as given', 'GET', '/loc', '', head([...CHUNKED, KA, 'Location: /x', 'X-A: 1'])],
  ['Connection: close from a handler: nginx\'s own line first, the connection kept', 'GET', '/close', '', head([...CHUNKED, KA, 'Connection: close'])],
  ['Connection: keep-alive from a handler: two lines', 'GET', '/keep', '', head([...CHUNKED, KA, KA])],
  ['Connection: upgrade from a handler: in the list, after its other header', 'GET', '/upgrade', '', head([...CHUNKED, KA, 'X-A: 1', 'Connection: upgrade'])],
  ['Connection: close with a Content-Length, both from the handler', 'GET', '/closecl', '', head([...PLAIN, KA, 'Connection: close', 'Content-Length: 5'])],
  ['a handler\'s Transfer-Encoding: nginx\'s own too, the body chunked once', 'GET', '/te', '', head([...CHUNKED, KA, 'Keep-Alive: timeout=5', 'Transfer-Encoding: chunked'])],
  ['gzip_vary without Accept-Encoding: Vary right after Connection', 'GET', '/gz', '', head([...CHUNKED, KA, VARY, 'X-A: 1'])],
  ['gzip_vary, compressed: Vary after Connection, Content-Encoding last', 'GET', '/gz', AE, head([...CHUNKED, KA, VARY, 'X-A: 1', 'Content-Encoding: gzip'])],
  ['gzip_vary with a handler\'s Vary: two lines, gzip\'s first', 'GET', '/gzv', AE, head([...CHUNKED, KA, VARY, 'Vary: Origin', 'Content-Encoding: gzip'])],
  ['gzip_vary with a handler\'s length, not compressed: Vary before the length', 'GET', '/gzl', '', head([...PLAIN, KA, VARY, 'Content-Length: 17', 'X-A: 1'])],
  ['gzip_vary with a handler\'s length, compressed: no length', 'GET', '/gzl', AE, head([...CHUNKED, KA, VARY, 'X-A: 1', 'Content-Encoding: gzip'])],
  ['gzip_vary with header_filter_by\'s header: Vary first', 'GET', '/gzh', AE, head([...CHUNKED, KA, VARY, 'X-H: h', 'Content-Encoding: gzip'])],
  ['a static file, not compressed: Vary after Connection, before ETag', 'GET', '/g.txt', '',
    head([...PLAIN, 'Content-Length: 18', 'Last-Modified: L', KA, VARY, 'ETag: E', 'Expires: E', 'Cache-Control: max-age=3600', 'X-B: 2', 'Accept-Ranges: bytes'])],
  ['a static file compressed: chunks before Connection, Vary after, Content-Encoding last', 'GET', '/g.txt', AE,
    head([...PLAIN, 'Last-Modified: L', 'Transfer-Encoding: chunked', KA, VARY, 'ETag: E', 'Expires: E', 'Cache-Control: max-age=3600', 'X-B: 2', 'Content-Encoding: gzip'])],
  ['HEAD of a static file compressed: no chunks, Content-Encoding last', 'HEAD', '/g.txt', AE,
    head([...PLAIN, 'Last-Modified: L', KA, VARY, 'ETag: E', 'Expires: E', 'Cache-Control: max-age=3600', 'X-B: 2', 'Content-Encoding: gzip'])],
  ['gzip_static\'s FILE.gz: Vary after Connection, its Content-Encoding after ETag', 'GET', '/s.txt', AE,
    head([...PLAIN, `Content-Length: ${S_GZ.length}`, 'Last-Modified: L', KA, VARY, 'ETag: E', 'Content-Encoding: gzip', 'X-B: 2'])],
  ['proxied, not compressed: Vary after Connection, the upstream\'s own Vary after it', 'GET', '/px', '',
    head([...PLAIN, 'Content-Length: 17', KA, VARY, 'Vary: Origin', 'X-U: 1'])],
  ['proxied, compressed', 'GET', '/px', AE, head([...CHUNKED, KA, VARY, 'Vary: Origin', 'X-U: 1', 'Content-Encoding: gzip'])],
  ['ngx.status = 204 with a Content-Length and a Last-Modified: both sent, in the list', 'GET', '/s204', '',
    head(['HTTP/1.1 204 No Content', 'Server: S', 'Date: D', KA, 'Content-Length: 5', 'X-A: 1', 'Last-Modified: L'])],
  ['ngx.status = 204, HEAD: the same', 'HEAD', '/s204', '', head(['HTTP/1.1 204 No Content', 'Server: S', 'Date: D', KA, 'Content-Length: 5', 'X-A: 1', 'Last-Modified: L'])],
  ['ngx.status = 304 with a Content-Length: sent', 'GET', '/s304', '', head(['HTTP/1.1 304 Not Modified', 'Server: S', 'Date: D', KA, 'Content-Length: 5', 'X-A: 1'])],
  ['ngx.exit(204) drops the handler\'s Content-Length (a special response)', 'HEAD', '/e204', '', head(['HTTP/1.1 204 No Content', 'Server: S', 'Date: D', KA, 'X-A: 1'])],
];

const checks = headChecks(EXPECTED, ([, , path], data) => {
  if (path === '/te') expect(data.slice(data.indexOf('\r\n\r\n') + 4)).toMatch(/^5\r\nhello\r\n0\r\n\r\nHTTP/);
});

const FILES = { 'html/g.txt': `${TEXT}\n`, 'html/s.txt': 'hi\n' };

onEnginesAndNginx('a handler\'s own head fields and gzip_vary in a head',
  (js) => LOCATIONS.replaceAll('LANG', js ? 'js' : 'lua').replaceAll('ROOT', js ? 'html' : '__PREFIX__/html').replaceAll('PORT', '__PORT__'), checks,
  { files: FILES, prepare: (prefix) => fs.writeFileSync(path.join(prefix, 'html/s.txt.gz'), S_GZ) });
