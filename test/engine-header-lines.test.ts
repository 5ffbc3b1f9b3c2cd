// The native engine's error-log line for a refused header, as nginx 1.22 writes it:
//   client sent invalid header line: "X-A\x20..." while reading client request headers,
//     client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "x"
// nginx prints the line up to the byte it blames, that byte in hex, then `...` (the recorded
// lines of test/fixtures/http-refusals.ts, from nginx itself), and `host:` / `referrer:` when
// those headers came before the bad line. A unique header sent twice names both lines:
//   client sent duplicate header line: "if-match: 2", previous value: "If-Match: 1"
// The cases with Host and Referer around the bad line run on nginx too, with the same checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_BUILT } from './helpers/engine.js';
import { httpShapes, shapeBytes } from './fixtures/http-refusals.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { latin1, sendRaw } from './helpers/raw-http.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const TAIL = 'while reading client request headers, client: 127.0.0.1, server: ';

/** Sends bytes and returns the error-log text written about them (`lines` lines of it). */
async function logged(port: number, log: () => string, bytes: Buffer, status = 400, lines = 1): Promise<string> {
  const from = log().length;
  const a = await sendRaw(port, bytes);
  expect(a.statuses[0]).toBe(status);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const text = log().slice(from);
    if (text.split('while reading client request headers').length > lines && text.endsWith('\n')) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
  return log().slice(from);
}

/** Cases whose whole line is known here: [request bytes, the line after the time and pid]. */
const CASES: Array<[string, string, string]> = [
  ['Host before the bad line: host:', 'GET /a HTTP/1.1\r\nHost: h.test\r\nBad Header: x\r\n\r\n',
    `client sent invalid header line: "Bad\\x20..." ${TAIL}SRV, request: "GET /a HTTP/1.1", host: "h.test"`],
  ['Host after the bad line: no host:', 'GET /b HTTP/1.1\r\nBad Header: x\r\nHost: h.test\r\n\r\n',
    `client sent invalid header line: "Bad\\x20..." ${TAIL}SRV, request: "GET /b HTTP/1.1"`],
  ['Referer before: referrer: after host:', 'GET /c HTTP/1.1\r\nReferer: http://r.test/\r\nHost: h.test\r\nX: a\x00b\r\n\r\n',
    `client sent invalid header line: "X: a\\x00..." ${TAIL}SRV, request: "GET /c HTTP/1.1", host: "h.test", referrer: "http://r.test/"`],
  ['a value ended by trailing spaces then a CR without LF', 'GET /d HTTP/1.1\r\nHost: h.test\r\nX: a  \rb\r\n\r\n',
    `client sent invalid header line: "X: a\\x20..." ${TAIL}SRV, request: "GET /d HTTP/1.1", host: "h.test"`],
  ['an empty value, then a CR without LF', 'GET /e HTTP/1.1\r\nHost: h.test\r\nX:   \rb\r\n\r\n',
    `client sent invalid header line: "X:   \\x0d..." ${TAIL}SRV, request: "GET /e HTTP/1.1", host: "h.test"`],
  ['CR CR then not LF', 'GET /f HTTP/1.1\r\nHost: h.test\r\nX: a\r\r\rb\r\n\r\n',
    `client sent invalid header line: "X: a\\x0d..." ${TAIL}SRV, request: "GET /f HTTP/1.1", host: "h.test"`],
  ['a duplicate Host: both lines, and the first as host:', 'GET /g HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n',
    `client sent duplicate host header: "host: b.test", previous value: "Host: a.test" ${TAIL}SRV, request: "GET /g HTTP/1.1", host: "a.test"`],
  ['a duplicate unique header: both lines', 'GET /h HTTP/1.1\r\nHost: h.test\r\nIf-Match: 1\r\nif-match: 2  \r\n\r\n',
    `client sent duplicate header line: "if-match: 2", previous value: "If-Match: 1" ${TAIL}SRV, request: "GET /h HTTP/1.1", host: "h.test"`],
  ['an invalid Host: its value as host:', 'GET /i HTTP/1.1\r\nHost: a..test\r\n\r\n',
    `client sent invalid host header ${TAIL}SRV, request: "GET /i HTTP/1.1", host: "a..test"`],
];

function checks(get: () => { port: number; log: () => string }, server: string): void {
  for (const [title, raw, line] of CASES) {
    it(title, async () => {
      const { port, log } = get();
      const text = await logged(port, log, latin1(raw));
      expect(text).toContain(`${line.replace('SRV', server)}\n`);
    });
  }

  // ignore_invalid_headers (on): the header is dropped, the request served, and a line logged
  // for it at info, with the host: of a Host before it only.
  it('headers dropped for their names: one info line each, host: when Host came before', async () => {
    const { port, log } = get();
    const text = await logged(port, log, latin1('GET /j HTTP/1.1\r\nX_Y: 1\r\nHost: h.test\r\nA\\B: 2  \r\nC.D:   \r\n\r\n'), 200, 3);
    expect(text).toMatch(new RegExp(`\\[info\\] [^\\n]*client sent invalid header line: "X_Y: 1" ${TAIL}${server}, request: "GET /j HTTP/1\\.1"\\n`));
    expect(text).toContain(`client sent invalid header line: "A\\B: 2" ${TAIL}${server}, request: "GET /j HTTP/1.1", host: "h.test"\n`);
    expect(text).toContain(`client sent invalid header line: "C.D:   " ${TAIL}${server}, request: "GET /j HTTP/1.1", host: "h.test"\n`);
  });
}

const ENGINE = { TRESTY_HTTP_ENGINE: 'native' };

describe.skipIf(!ENGINE_BUILT)(`refused header lines in the native engine's error log${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server { listen 127.0.0.1:${port}; location / { return 200 "ok"; } }
}
`, { env: ENGINE });
  });
  afterAll(async () => { await t?.stop(); });

  checks(() => ({ port, log: () => t.errorLog() }), '');

  // Every refused shape nginx's line was recorded for, with its detail (the fixtures' G and P
  // send Host: x first; a fold before any header has none).
  const shapes = httpShapes.filter((s) => s.close && s.log !== undefined
    && (/^client sent invalid header line: ".*\.\.\."$/.test(s.log) || /^client sent duplicate host header: /.test(s.log)));
  // The headers nginx dropped and logged (ASCII names: the log is compared as text).
  const dropped = httpShapes.filter((s) => !s.close && s.log !== undefined && !s.name.startsWith('limit-')
    && /^client sent invalid header line: "[\x20-\x7e]*"$/.test(s.log));
  it(`the recorded lines of headers nginx dropped (${dropped.length} shapes)`, async () => {
    expect(dropped.length).toBeGreaterThan(2);
    for (const s of dropped) {
      const text = await logged(port, () => t.errorLog(), shapeBytes(s), 200);
      expect(text, s.name).toContain(`${s.log} ${TAIL}, request: "GET / HTTP/1.1", host: "x"\n`);
    }
  });

  it(`the recorded lines of nginx (${shapes.length} shapes)`, async () => {
    expect(shapes.length).toBeGreaterThan(15);
    for (const s of shapes) {
      const text = await logged(port, () => t.errorLog(), shapeBytes(s));
      const host = /^[A-Z]+ [^\r]*\r\nHost: x\r\n/.test(s.raw) ? ', host: "x"' : '';
      const request = s.raw.slice(0, s.raw.indexOf('\r\n'));
      expect(text, s.name).toContain(`${s.log} ${TAIL}, request: "${request}"${host}\n`);
    }
  });
});

const missing = nginxMissing();
describe.skipIf(missing !== null)(`refused header lines on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx('location / { return 200 "ok"; }'); });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, log: () => n.errorLog() }), '');
});
