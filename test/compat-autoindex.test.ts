// autoindex as nginx 1.22 lists a folder, byte for byte (observed with nginx, written here as the
// expectations; the same cases run on the native engine, on node:http and on real nginx): the
// HTML `<pre>` table (CRLF, folders first, byte order, dot files skipped, links %-escaped, names
// HTML-escaped and cut past 50 bytes with `..>`, sizes right-aligned), xml, json, jsonp with its
// callback checks, 403 with autoindex off, 404 for a missing folder, an index file first.
import { compatSuite } from './helpers/compat.js';
import { type Case, phaseSuite } from './helpers/phases-harness.js';

const LONG = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq.txt'; // 57 bytes
const files = {
  'html/ai/b.txt': 'hello',
  'html/ai/big.bin': 'x'.repeat(12345),
  'html/ai/.hidden': 'h',
  'html/ai/sub/x.txt': 'x',
  'html/ai/Zdir/y.txt': 'y',
  'html/ai/a&b<c>"q\'.txt': 'yy',
  'html/ai/sp ace%#?.txt': '',
  [`html/ai/${LONG}`]: 'z',
  'html/ai/héllo.txt': 'é',
  'html/ai/empty/.keep': '',
  'html/idx/index.html': 'IDX\n',
};

/** One line's text up to the date, for a regex: the date is the files' write time. */
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const DATE = '\\d\\d-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\\d{4} \\d\\d:\\d\\d';
const line = (a: string, size: string): string => `${esc(a)} ${DATE} ${esc(size)}\r\n`;
const sp = (n: number): string => ' '.repeat(n);

const HTML = new RegExp(`^${esc('<html>\r\n<head><title>Index of /ai/</title></head>\r\n<body>\r\n<h1>Index of /ai/</h1><hr><pre><a href="../">../</a>\r\n')}`
  + line(`<a href="Zdir/">Zdir/</a>${sp(45)}`, `${sp(18)}-`)
  + line(`<a href="empty/">empty/</a>${sp(44)}`, `${sp(18)}-`)
  + line(`<a href="sub/">sub/</a>${sp(46)}`, `${sp(18)}-`)
  + line(`<a href="a%26b%3Cc%3E%22q%27.txt">a&amp;b&lt;c&gt;&quot;q'.txt</a>${sp(37)}`, `${sp(18)}2`)
  + line(`<a href="${LONG}">abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk..&gt;</a>`, `${sp(18)}1`)
  + line(`<a href="b.txt">b.txt</a>${sp(45)}`, `${sp(18)}5`)
  + line(`<a href="big.bin">big.bin</a>${sp(43)}`, `${sp(14)}12345`)
  + line(`<a href="h%C3%A9llo.txt">héllo.txt</a>${sp(40)}`, `${sp(18)}2`)
  + line(`<a href="sp%20ace%25%23%3F.txt">sp ace%#?.txt</a>${sp(37)}`, `${sp(18)}0`)
  + `${esc('</pre><hr></body>\r\n</html>\r\n')}$`);

const ROUNDED = new RegExp(`${line(`<a href="Zdir/">Zdir/</a>${sp(45)}`, '      -')}[^]*`
  + `${line(`<a href="b.txt">b.txt</a>${sp(45)}`, '      5')}${line(`<a href="big.bin">big.bin</a>${sp(43)}`, '    12K')}`);

const HTTP_DATE = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} \\d\\d:\\d\\d:\\d\\d GMT';
const jd = (name: string, type: string, size?: number): string =>
  `${esc(`{ "name":"${name}", "type":"${type}", "mtime":"`)}${HTTP_DATE}${esc(`"${size === undefined ? '' : `, "size":${size}`} }`)}`;
const JSON_BODY = `${esc('[\r\n')}${[jd('Zdir', 'directory'), jd('empty', 'directory'), jd('sub', 'directory'), jd('a&b<c>\\"q\'.txt', 'file', 2),
  jd(LONG, 'file', 1), jd('b.txt', 'file', 5), jd('big.bin', 'file', 12345), jd('héllo.txt', 'file', 2), jd('sp ace%#?.txt', 'file', 0)].join(',\r\n')}${esc('\r\n]')}`;

const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
const xd = (name: string, type: string, size?: number): string =>
  `${esc(`<${type} mtime="`)}${ISO}${esc(`"${size === undefined ? '' : ` size="${size}"`}>${name}</${type}>\r\n`)}`;
const XML = new RegExp(`^${esc('<?xml version="1.0"?>\r\n<list>\r\n')}${xd('Zdir', 'directory')}${xd('empty', 'directory')}${xd('sub', 'directory')}`
  + `${xd('a&amp;b&lt;c&gt;&quot;q\'.txt', 'file', 2)}${xd(LONG, 'file', 1)}${xd('b.txt', 'file', 5)}${xd('big.bin', 'file', 12345)}`
  + `${xd('héllo.txt', 'file', 2)}${xd('sp ace%#?.txt', 'file', 0)}${esc('</list>\r\n')}$`);

const cases: Case[] = [
  {
    name: 'html: nginx\'s table, folders first, dot files skipped, escaping, the 50-byte cut; chunked, no Last-Modified; HEAD has no body',
    conf: 'location /ai/ { autoindex on; }',
    requests: [
      { path: '/ai/', status: 200, resBody: HTML, resHeaders: { 'Content-Type': 'text/html', 'Content-Length': undefined, 'Transfer-Encoding': 'chunked', 'Last-Modified': undefined } },
      { path: '/ai/', method: 'HEAD', status: 200, resBody: '', resHeaders: { 'Content-Type': 'text/html', 'Content-Length': undefined } },
      { path: '/ai/empty/', status: 200, resBody: '<html>\r\n<head><title>Index of /ai/empty/</title></head>\r\n<body>\r\n<h1>Index of /ai/empty/</h1><hr><pre><a href="../">../</a>\r\n</pre><hr></body>\r\n</html>\r\n' },
      { path: '/ai/sub', status: 301 },
    ],
  },
  {
    name: 'autoindex_exact_size off rounds to K/M/G in 7 columns; `-` for folders',
    conf: 'location /air/ { alias html/ai/; autoindex on; autoindex_exact_size off; }',
    requests: [{ path: '/air/', status: 200, resBody: ROUNDED }],
  },
  {
    name: 'json and xml (names escaped for each; always UTC)',
    conf: `location /aij/ { alias html/ai/; autoindex on; autoindex_format json; }
    location /aix/ { alias html/ai/; autoindex on; autoindex_format xml; }`,
    requests: [
      { path: '/aij/', status: 200, resBody: new RegExp(`^${JSON_BODY}$`), resHeaders: { 'Content-Type': 'application/json' } },
      { path: '/aij/empty/', status: 200, resBody: '[\r\n]' },
      { path: '/aix/', status: 200, resBody: XML, resHeaders: { 'Content-Type': 'text/xml; charset=utf-8' } },
    ],
  },
  {
    name: 'jsonp: ?callback= (any case) wraps it; none is plain json; a bad or too long name is a 400',
    conf: 'location /aip/ { alias html/ai/; autoindex on; autoindex_format jsonp; }',
    requests: [
      { path: '/aip/?callback=cb.x_1', status: 200, resBody: new RegExp(`^${esc('/* callback */\r\ncb.x_1(')}${JSON_BODY}${esc(');')}$`), resHeaders: { 'Content-Type': 'application/javascript' } },
      { path: '/aip/', status: 200, resBody: new RegExp(`^${JSON_BODY}$`), resHeaders: { 'Content-Type': 'application/json' } },
      // the argument's name without case, as nginx's ngx_http_arg
      { path: '/aip/?x=1&CallBack=cb2', status: 200, resBody: new RegExp(`^${esc('/* callback */\r\ncb2(')}${JSON_BODY}${esc(');')}$`) },
      { path: `/aip/?callback=${'a'.repeat(128)}`, status: 200 },
      { path: `/aip/?callback=${'a'.repeat(129)}`, status: 400 },
      { path: '/aip/?callback=a-b', status: 400 },
      { path: '/aip/?callback=a%24', status: 400 },
    ],
    errorLog: ['client sent invalid callback name: "a-b"'],
  },
  {
    name: 'off is a 403, a missing folder a 404, an index file wins over the listing',
    conf: `location /aioff/ { alias html/ai/; }
    location /idx/ { autoindex on; }`,
    requests: [
      { path: '/aioff/', status: 403 },
      { path: '/ai/nope/', status: 404 },
      { path: '/idx/', status: 200, resBody: 'IDX\n' },
    ],
    errorLog: [/directory index of ".*\/html\/ai\/" is forbidden/],
  },
];

compatSuite('autoindex (html, xml, json, jsonp)', { files, luaServer: '' }, cases.map((c) => ({ ...c, lua: c.conf })));
phaseSuite('autoindex (html, xml, json, jsonp) on node:http', { files, http: 'http_engine node;' }, cases);
