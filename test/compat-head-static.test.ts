// The head of the answers the static module and `return` write, byte for byte (Date, Server,
// Expires, Last-Modified and ETag values, a Location's port and a page's length set aside) on the
// native engine, on node:http and on nginx 1.22 + lua with the same expectations. Each request
// goes twice, pipelined on one connection: both must be answered alike. Observed on nginx + lua:
// - gzip_vary's `Vary: Accept-Encoding` comes right after Connection; an `add_header Vary
//   Accept-Encoding` is another line at add_header's place (the engine took one that came last
//   for gzip_vary's and moved it up); with gzip_vary too, both lines are sent;
// - a header access_by sets before a static file: after Connection, before the file's ETag; the
//   file's Content-Length and Last-Modified (a directory's Location) stay before Connection
//   (tresty put them after);
// - a 206 and a 304 keep that order, a range's Content-Range comes after expires' and
//   add_header's lines (tresty put it before them); a handler's or an upstream's stays at its
//   place;
// - add_header's lines go in the configuration's order, `always` or not (the engine wrote the
//   `always` ones last);
// - a Last-Modified access_by set stays as set, in the list, and nginx writes no own one; a
//   Location access_by set is in the list while the file's Last-Modified stays before Connection
//   (tresty put the file's after Connection, both being "late" at once);
// - a 412 of nginx's not-modified filter (If-Match, If-Unmodified-Since) drops every header set
//   before it, a handler's or access_by's: only add_header's `always` lines are sent (tresty kept
//   them);
//   nginx closes the connection after it, though its head says keep-alive: a request pipelined
//   behind it is not answered (tresty answered it).
// - an ETag or Accept-Ranges access_by set before a static file stays a line of the list, as set,
//   and the file's own come later (tresty's replaced it): the file's ETag after access_by's other
//   headers, Accept-Ranges last; If-None-Match, If-Match and If-Range go by the file's ETag; a 304
//   and gzip drop access_by's Accept-Ranges, a 206 keeps it; a 416 keeps access_by's ETag only.
// - a 416 with `add_header ... always`: the always line twice, once more after Content-Range (the
//   range filter's 416 page goes through the header filters again; tresty sent it once);
//   expires' lines and the other add_header's once, as the first pass made them.
// Some cases pass on main too: they hold the engine's gzip lines where they were.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { headChecks, headOf, type HeadCase } from './helpers/head-cases.js';
import { onEnginesAndNginx } from './helpers/three-servers.js';

const GZ = 'gzip on; gzip_vary on; gzip_types text/plain; gzip_min_length 1;';
const TEXT = 'hello hello hello';
/** The files' time (prepare), for If-Modified-Since. */
const MTIME = new Date('2020-01-01T00:00:00Z');
const EPOCH = 'Thu, 01 Jan 1970 00:00:01 GMT';
const IMS = `If-Modified-Since: ${MTIME.toUTCString()}\r\n`;

/** The locations, `LANG` is `lua` or `js`. */
const LOCATIONS = `
    location = /v.txt { ${GZ} root ROOT; add_header Vary Accept-Encoding; }
    location = /vx.txt { ${GZ} root ROOT; add_header Vary Accept-Encoding; add_header X-A 1; }
    location = /nv.txt { gzip on; gzip_types text/plain; gzip_min_length 1; root ROOT; add_header Vary Accept-Encoding; }
    location = /rv { ${GZ} default_type text/plain; add_header Vary Accept-Encoding; return 200 "${TEXT}"; }
    location = /rav { gzip on; gzip_types text/plain; gzip_min_length 1; default_type text/plain; add_header X-A 1; add_header Vary Accept-Encoding;
      return 200 "${TEXT}"; }
    location = /a.txt { access_by_LANG_block { ngx.header["X-A"] = "1" } root ROOT; }
    location = /ae.txt { access_by_LANG_block { ngx.header["X-C"] = "3" } root ROOT; add_header X-A 1; expires 1h; }
    location = /e.txt { root ROOT; add_header X-A 1; expires 1h; }
    location /d { root ROOT; add_header X-A 1 always; add_header X-B 2; expires 1h; }
    location = /c412 { content_by_LANG_block { ngx.header["X-A"] = "1"; ngx.header["ETag"] = '"a"'; ngx.say("hi") } add_header X-B 2 always; add_header X-D 4; }
    location = /s412 { access_by_LANG_block { ngx.header["X-C"] = "3" } add_header X-B 2 always; add_header X-D 4; root ROOT; }
    location = /lm.txt { access_by_LANG_block { ngx.header["X-C"] = "3"; ngx.header["Last-Modified"] = "${EPOCH}" } root ROOT; }
    location = /lo.txt { access_by_LANG_block { ngx.header["X-C"] = "3"; ngx.header["Location"] = "/z" } root ROOT; }
    location = /up206 { content_by_LANG_block { ngx.status = 206; ngx.header["Content-Range"] = "bytes 0-3/18"; ngx.header["X-U"] = "1"; ngx.print("hell") } }
    location = /px206 { proxy_pass http://127.0.0.1:__PORT__/up206; add_header X-A 1; }
    location = /et.txt { access_by_LANG_block { ngx.header["Accept-Ranges"] = "none"; ngx.header["ETag"] = '"mine"'; ngx.header["X-A"] = "1" } root ROOT; }
    location = /etz.txt { gzip on; gzip_types text/plain; gzip_min_length 1;
      access_by_LANG_block { ngx.header["Accept-Ranges"] = "none"; ngx.header["ETag"] = '"mine"'; ngx.header["X-A"] = "1" } root ROOT; }
    location = /ra.txt { root ROOT; add_header X-A 1 always; add_header X-B 2; expires 1h; }
    location /ad { access_by_LANG_block { ngx.header["X-C"] = "3" } root ROOT; }
`;

const head = headOf;
const PLAIN = ['HTTP/1.1 200 OK', 'Server: S', 'Date: D', 'Content-Type: text/plain'];
const FILE = [...PLAIN, 'Content-Length: 18', 'Last-Modified: L'];
const ZFILE = [...PLAIN, 'Last-Modified: L', 'Transfer-Encoding: chunked'];
const PART = ['HTTP/1.1 206 Partial Content', 'Server: S', 'Date: D', 'Content-Type: text/plain', 'Content-Length: 4', 'Last-Modified: L'];
const NOT = ['HTTP/1.1 304 Not Modified', 'Server: S', 'Date: D', 'Last-Modified: L'];
const KA = 'Connection: keep-alive';
const VARY = 'Vary: Accept-Encoding';
const AE = 'Accept-Encoding: gzip\r\n';
const RANGE = 'Range: bytes=0-3\r\n';
const EXP = ['Expires: E', 'Cache-Control: max-age=3600'];
const MOVED = ['HTTP/1.1 301 Moved Permanently', 'Server: S', 'Date: D', 'Content-Type: text/html', 'Content-Length: N', 'Location: http://h/d/'];
const BAD_RANGE = ['HTTP/1.1 416 Requested Range Not Satisfiable', 'Server: S', 'Date: D', 'Content-Type: text/html', 'Content-Length: N'];
const OUT = 'Range: bytes=100-200\r\n';
/** The file's own ETag (its time is MTIME, its length 18); normalHead sets aside the first ETag only. */
const FILE_TAG = '"5e0be100-12"';
const OWN_TAG = `ETag: ${FILE_TAG}`;
const SET_BEFORE = ['Accept-Ranges: none', 'ETag: E', 'X-A: 1', OWN_TAG];
const FAILED = ['HTTP/1.1 412 Precondition Failed', 'Server: S', 'Date: D', 'Content-Type: text/html', 'Content-Length: N', KA, 'X-B: 2'];

const EXPECTED: HeadCase[] = [
  ['add_header Vary with gzip_vary: two lines, add_header\'s at its place', 'GET', '/v.txt', '',
    head([...FILE, KA, VARY, 'ETag: E', VARY, 'Accept-Ranges: bytes'])],
  ['add_header Vary with gzip_vary, compressed', 'GET', '/v.txt', AE, head([...ZFILE, KA, VARY, 'ETag: E', VARY, 'Content-Encoding: gzip'])],
  ['add_header Vary with gzip_vary, HEAD compressed', 'HEAD', '/v.txt', AE,
    head([...PLAIN, 'Last-Modified: L', KA, VARY, 'ETag: E', VARY, 'Content-Encoding: gzip'])],
  ['add_header Vary then X-A with gzip_vary', 'GET', '/vx.txt', '', head([...FILE, KA, VARY, 'ETag: E', VARY, 'X-A: 1', 'Accept-Ranges: bytes'])],
  ['add_header Vary then X-A with gzip_vary, compressed', 'GET', '/vx.txt', AE,
    head([...ZFILE, KA, VARY, 'ETag: E', VARY, 'X-A: 1', 'Content-Encoding: gzip'])],
  ['add_header Vary without gzip_vary: at add_header\'s place', 'GET', '/nv.txt', '', head([...FILE, KA, 'ETag: E', VARY, 'Accept-Ranges: bytes'])],
  ['add_header Vary without gzip_vary, compressed', 'GET', '/nv.txt', AE, head([...ZFILE, KA, 'ETag: E', VARY, 'Content-Encoding: gzip'])],
  ['return with add_header Vary and gzip_vary: two lines', 'GET', '/rv', '', head([...PLAIN, 'Content-Length: 17', KA, VARY, VARY])],
  ['return with add_header Vary and gzip_vary, compressed', 'GET', '/rv', AE,
    head([...PLAIN, 'Transfer-Encoding: chunked', KA, VARY, VARY, 'Content-Encoding: gzip'])],
  ['return with add_header Vary and gzip_vary, HEAD compressed', 'HEAD', '/rv', AE, head([...PLAIN, KA, VARY, VARY, 'Content-Encoding: gzip'])],
  ['return, add_header X-A then Vary without gzip_vary: add_header\'s order', 'GET', '/rav', '', head([...PLAIN, 'Content-Length: 17', KA, 'X-A: 1', VARY])],
  ['return, add_header X-A then Vary without gzip_vary, compressed', 'GET', '/rav', AE,
    head([...PLAIN, 'Transfer-Encoding: chunked', KA, 'X-A: 1', VARY, 'Content-Encoding: gzip'])],
  ['return, add_header X-A then Vary without gzip_vary, HEAD compressed', 'HEAD', '/rav', AE, head([...PLAIN, KA, 'X-A: 1', VARY, 'Content-Encoding: gzip'])],
  ['access_by\'s header before a static file: the file\'s length and time before Connection', 'GET', '/a.txt', '',
    head([...FILE, KA, 'X-A: 1', 'ETag: E', 'Accept-Ranges: bytes'])],
  ['access_by\'s header before a static file, HEAD', 'HEAD', '/a.txt', '', head([...FILE, KA, 'X-A: 1', 'ETag: E', 'Accept-Ranges: bytes'])],
  ['access_by\'s header before a range of a static file', 'GET', '/a.txt', RANGE,
    head([...PART, KA, 'X-A: 1', 'ETag: E', 'Content-Range: bytes 0-3/18'])],
  ['access_by\'s header before a 304 of a static file', 'GET', '/a.txt', IMS, head([...NOT, KA, 'X-A: 1', 'ETag: E'])],
  ['access_by\'s header with expires and add_header', 'GET', '/ae.txt', '',
    head([...FILE, KA, 'X-C: 3', 'ETag: E', ...EXP, 'X-A: 1', 'Accept-Ranges: bytes'])],
  ['access_by\'s header with expires and add_header, a range', 'GET', '/ae.txt', RANGE,
    head([...PART, KA, 'X-C: 3', 'ETag: E', ...EXP, 'X-A: 1', 'Content-Range: bytes 0-3/18'])],
  ['access_by\'s header with expires and add_header, a 304', 'GET', '/ae.txt', IMS, head([...NOT, KA, 'X-C: 3', 'ETag: E', ...EXP, 'X-A: 1'])],
  ['expires and add_header, a range: Content-Range last', 'GET', '/e.txt', RANGE,
    head([...PART, KA, 'ETag: E', ...EXP, 'X-A: 1', 'Content-Range: bytes 0-3/18'])],
  ['expires and add_header, a 304', 'GET', '/e.txt', IMS, head([...NOT, KA, 'ETag: E', ...EXP, 'X-A: 1'])],
  ['the directory\'s 301 with add_header always and expires', 'GET', '/d', '', head([...MOVED, KA, ...EXP, 'X-A: 1', 'X-B: 2'])],
  ['the directory\'s 301, HEAD', 'HEAD', '/d', '', head([...MOVED, KA, ...EXP, 'X-A: 1', 'X-B: 2'])],
  ['the directory\'s index by internal redirect', 'GET', '/d/', '',
    head(['HTTP/1.1 200 OK', 'Server: S', 'Date: D', 'Content-Type: text/html', 'Content-Length: 6', 'Last-Modified: L', KA, 'ETag: E', ...EXP,
      'X-A: 1', 'X-B: 2', 'Accept-Ranges: bytes'])],
  ['access_by\'s header before the directory\'s 301: the Location before Connection', 'GET', '/ad', '',
    head([...MOVED.slice(0, -1), 'Location: http://h/ad/', KA, 'X-C: 3'])],
  ['access_by\'s header before the index by internal redirect', 'GET', '/ad/', '',
    head(['HTTP/1.1 200 OK', 'Server: S', 'Date: D', 'Content-Type: text/html', 'Content-Length: 6', 'Last-Modified: L', KA, 'X-C: 3', 'ETag: E',
      'Accept-Ranges: bytes'])],
  ['access_by\'s header before a 416', 'GET', '/a.txt', OUT, head([...BAD_RANGE, KA, 'X-A: 1', 'Content-Range: bytes */18'])],
  ['a handler\'s answer turned 412 by If-Match: its headers dropped, add_header always\'s only', 'GET', '/c412', 'If-Match: "b"\r\n', head(FAILED), true],
  ['a handler\'s answer turned 412, HEAD', 'HEAD', '/c412', 'If-Match: "b"\r\n', head(FAILED), true],
  ['a static file\'s 412 by If-Match: access_by\'s header dropped', 'GET', '/s412', 'If-Match: "b"\r\n', head(FAILED), true],
  ['a static file\'s 412 by If-Unmodified-Since', 'GET', '/s412', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n', head(FAILED), true],
  ['a static file\'s 412 by If-Match, no access_by: the connection closed after it', 'GET', '/e.txt', 'If-Match: "b"\r\n',
    head(FAILED.slice(0, -1)), true],
  ['a return 200\'s 412 by If-Unmodified-Since: the connection closed after it', 'GET', '/rav', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n',
    head(FAILED.slice(0, -1)), true],
  ['a Last-Modified access_by set before a static file: its line in the list, as set; no own one', 'GET', '/lm.txt', '',
    head([...PLAIN, 'Content-Length: 18', KA, 'X-C: 3', 'Last-Modified: L', 'ETag: E', 'Accept-Ranges: bytes'])],
  ['a Location access_by set before a static file: in the list, the file\'s Last-Modified before Connection', 'GET', '/lo.txt', '',
    head([...FILE, KA, 'X-C: 3', 'Location: /z', 'ETag: E', 'Accept-Ranges: bytes'])],
  ['a handler\'s 206 with its Content-Range: at its place', 'GET', '/up206', '',
    head(['HTTP/1.1 206 Partial Content', 'Server: S', 'Date: D', 'Content-Type: text/plain', 'Transfer-Encoding: chunked', KA, 'Content-Range: bytes 0-3/18', 'X-U: 1'])],
  ['a proxied 206: the upstream\'s Content-Range at its place, add_header\'s after', 'GET', '/px206', '',
    head(['HTTP/1.1 206 Partial Content', 'Server: S', 'Date: D', 'Content-Type: text/plain', 'Content-Length: 4', KA, 'Content-Range: bytes 0-3/18', 'X-U: 1',
      'X-A: 1'])],
  ['an ETag and Accept-Ranges access_by set before a static file: both lines each, the file\'s later', 'GET', '/et.txt', '',
    head([...FILE, KA, ...SET_BEFORE, 'Accept-Ranges: bytes'])],
  ['an ETag and Accept-Ranges access_by set, HEAD', 'HEAD', '/et.txt', '', head([...FILE, KA, ...SET_BEFORE, 'Accept-Ranges: bytes'])],
  ['an ETag and Accept-Ranges access_by set, a range: access_by\'s Accept-Ranges kept', 'GET', '/et.txt', RANGE,
    head([...PART, KA, ...SET_BEFORE, 'Content-Range: bytes 0-3/18'])],
  ['an ETag access_by set: If-None-Match goes by the file\'s, a 304 without access_by\'s Accept-Ranges', 'GET', '/et.txt', `If-None-Match: ${FILE_TAG}\r\n`,
    head([...NOT, KA, 'ETag: E', 'X-A: 1', OWN_TAG])],
  ['an ETag access_by set: If-None-Match with it is no match', 'GET', '/et.txt', 'If-None-Match: "mine"\r\n',
    head([...FILE, KA, ...SET_BEFORE, 'Accept-Ranges: bytes'])],
  ['an ETag access_by set: If-Match goes by the file\'s', 'GET', '/et.txt', `If-Match: ${FILE_TAG}\r\n`,
    head([...FILE, KA, ...SET_BEFORE, 'Accept-Ranges: bytes'])],
  ['an ETag access_by set: If-Range with it gives the whole file', 'GET', '/et.txt', `${RANGE}If-Range: "mine"\r\n`,
    head([...FILE, KA, ...SET_BEFORE, 'Accept-Ranges: bytes'])],
  ['an ETag access_by set: If-Range with the file\'s gives the range', 'GET', '/et.txt', `${RANGE}If-Range: ${FILE_TAG}\r\n`,
    head([...PART, KA, ...SET_BEFORE, 'Content-Range: bytes 0-3/18'])],
  ['an ETag and Accept-Ranges access_by set, a 416: access_by\'s ETag only', 'GET', '/et.txt', OUT,
    head([...BAD_RANGE, KA, 'ETag: E', 'X-A: 1', 'Content-Range: bytes */18'])],
  ['an ETag and Accept-Ranges access_by set, gzipped: the file\'s ETag weak, no Accept-Ranges', 'GET', '/etz.txt', AE,
    head([...ZFILE, KA, 'ETag: E', 'X-A: 1', `ETag: W/${FILE_TAG}`, 'Content-Encoding: gzip'])],
  ['a 416 with add_header always and expires: the always line again after Content-Range', 'GET', '/ra.txt', OUT,
    head([...BAD_RANGE, KA, ...EXP, 'X-A: 1', 'X-B: 2', 'Content-Range: bytes */18', 'X-A: 1'])],
  ['a 416 with add_header always and expires, HEAD', 'HEAD', '/ra.txt', OUT,
    head([...BAD_RANGE, KA, ...EXP, 'X-A: 1', 'X-B: 2', 'Content-Range: bytes */18', 'X-A: 1'])],
  ['a 416 with access_by\'s header, expires and add_header (not always): each once', 'GET', '/ae.txt', OUT,
    head([...BAD_RANGE, KA, 'X-C: 3', ...EXP, 'X-A: 1', 'Content-Range: bytes */18'])],
];

const checks = headChecks(EXPECTED, ([, , path], data) => {
  if (path === '/lm.txt') expect(data).toContain(`\r\nLast-Modified: ${EPOCH}\r\n`);
  if (path === '/et.txt' || path === '/etz.txt') expect(data).toContain('\r\nETag: "mine"\r\n');
});

const NAMES = ['v.txt', 'vx.txt', 'nv.txt', 'a.txt', 'ae.txt', 'e.txt', 's412', 'lm.txt', 'lo.txt', 'et.txt', 'etz.txt', 'ra.txt'];
const FILES: Record<string, string> = { 'html/d/index.html': 'index\n', 'html/ad/index.html': 'index\n' };
for (const n of NAMES) FILES[`html/${n}`] = `${TEXT}\n`;

onEnginesAndNginx('the head of static answers and return: gzip\'s lines, access_by\'s, ranges, 304, 301',
  (js) => LOCATIONS.replaceAll('LANG', js ? 'js' : 'lua').replaceAll('ROOT', js ? 'html' : '__PREFIX__/html'), checks,
  {
    files: FILES,
    prepare: (prefix) => {
      for (const n of [...NAMES, 'd/index.html', 'ad/index.html']) fs.utimesSync(path.join(prefix, 'html', n), MTIME, MTIME);
    },
  });
