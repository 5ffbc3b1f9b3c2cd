// Heads nginx refuses and node:http's parser takes, sent over TLS: a request line longer than a
// large_client_header_buffers buffer (414), a second Host or a second line of a header nginx keeps
// one of (400), a Host nginx finds invalid (400). Each gets nginx's status, the close and nginx's
// info line (test/fixtures/http-refusals.ts, recorded from nginx 1.22 over plain HTTP). Run on the
// node:tls front (`listen ... ssl http2`, and `ssl` with TRESTY_TLS_ENGINE=node), on the native
// engine's TLS, and on nginx 1.22 + lua over TLS with the same expectations. Before, the node:tls
// front served them all with 200 (its HTTP/1 had none of the node:http front's checks).
import { afterAll, expect, it } from 'vitest';
import { httpShapes } from './fixtures/http-refusals.js';
import { raw, statuses } from './helpers/conn.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';
import { ALL_TLS, onNginxTls, onTlsFronts } from './helpers/tls-fronts.js';
import { eventually } from './helpers/upstream.js';

const noOpenssl = opensslMissing;
const files = tlsFiles('tlsref');
if (noOpenssl === null) files.selfSigned('c', 'h.test');
afterAll(() => { files.remove(); });
const CRT = files.file('c.crt');
const KEY = files.file('c.key');

const SHAPES = ['limit-request-line-8193', 'host-duplicate', 'host-empty', 'host-slash', 'host-double-dot', 'host-port-only', 'host-dot-only',
  'host-space', 'expect-duplicate', 'if-modified-since-duplicate', 'authorization-duplicate', 'if-none-match-duplicate', 'if-range-duplicate'];

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** nginx's info line for the shape's refusal (whole, or up to where the table cut it). */
function expected(log: string): RegExp {
  const cut = log.endsWith('...') && !log.endsWith('..."');
  if (cut) return new RegExp(`\\[info\\] \\d+#\\d+: \\*\\d+ ${esc(log.slice(0, -3))}`);
  return new RegExp(`\\[info\\] \\d+#\\d+: \\*\\d+ ${esc(log)} while reading client request (?:line|headers), client: 127\\.0\\.0\\.1, server: `);
}

const SERVER = `ssl_certificate ${CRT}; ssl_certificate_key ${KEY};
    location / { return 200 "tls\\n"; }`;

function checks(port: () => number, log: () => string): void {
  for (const name of SHAPES) {
    it(name, async () => {
      const shape = httpShapes.find((s) => s.name === name)!;
      const mark = log().length;
      const r = await raw(port(), [shape.raw], { timeoutMs: 3000, tls: { servername: 'h.test' } });
      expect(statuses(r.data)).toEqual(shape.statuses);
      expect(r.data).toMatch(/\r\nConnection: close\r\n/);
      expect(r.closed).toBe(true);
      await eventually(() => log().slice(mark), expected(shape.log!), 3000);
    });
  }

  it('a Host with a trailing dot, an Expect other than 100-continue (node answered 417), unique headers sent once: served', async () => {
    const r = await raw(port(), ['GET / HTTP/1.1\r\nHost: a.b.\r\nExpect: x\r\nIf-Range: a\r\nConnection: close\r\n\r\n'],
      { timeoutMs: 3000, tls: { servername: 'h.test' } });
    expect(r.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ntls\n$/);
  });
}

onTlsFronts('nginx\'s refusals of a head over TLS', ALL_TLS, noOpenssl, SERVER, checks);

onNginxTls('nginx\'s refusals of a head over TLS', noOpenssl, SERVER, checks);
