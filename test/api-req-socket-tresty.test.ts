// ngx.req.socket() where nginx has nothing to compare with (api-req-socket.test.ts holds what
// nginx 1.22 + lua-nginx-module decided): memory over a 50 MB body read in pieces, keep-alive
// after bodies that came in pieces or were left unread (tresty discards the rest), bad
// arguments, and HTTP/2 (tresty serves it on TLS; nginx raises over h2c as tresty does).
import http from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { bodies, post, reqSocketTresty } from './helpers/req-socket.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';

/** Sends `total` bytes of body in `piece`-byte writes, as fast as the server takes them. */
function upload(port: number, p: string, total: number, piece: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', headers: { 'Content-Length': String(total) }, agent: false }, (res) => {
      let got = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { got += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: got }));
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer to ${p}`)));
    const buf = Buffer.alloc(piece, 0x61);
    let sent = 0;
    const more = (): void => {
      while (sent < total) {
        const n = Math.min(piece, total - sent);
        sent += n;
        if (!req.write(n === piece ? buf : buf.subarray(0, n))) { req.once('drain', more); return; }
      }
      req.end();
    };
    more();
  });
}

// Read in 64 KB pieces, the worker's peak RSS over the read against where it started (MB).
// Garbage is collected every 32 pieces (--expose-gc), so the peak shows what is live rather than
// what GC has not freed yet (rack-stream.test.ts measures the same way).
const MEASURE = `
  const gc = globalThis.gc;
  if (!gc) { ngx.say('no gc'); return; }
  const mem = () => process.memoryUsage().rss;
  gc();
  const base = mem(); let peak = base; let n = 0; let i = 0;
  const [s, err] = ngx.req.socket({ binary: true });
  if (!s) { ngx.say('socket: ', err); return; }
  for (;;) {
    const [d, e, partial] = await s.receive(65536);
    if (d === null) { n += partial?.length ?? 0; if (e !== 'closed') ngx.say('error ', e); break; }
    n += d.length;
    if (++i % 32 === 0) gc();
    const m = mem(); if (m > peak) peak = m;
  }
  ngx.say(n, ' ', Math.round((peak - base) / 1048576));`;
// The same body read whole (read_body): the control, showing the measure sees a held body.
const WHOLE = `
  globalThis.gc();
  const base = process.memoryUsage().rss;
  await ngx.req.read_body();
  globalThis.gc();
  const n = ngx.req.get_body_data().length;
  ngx.say(n, ' ', Math.round((process.memoryUsage().rss - base) / 1048576));`;

const MB50 = 50 * 1024 * 1024;

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'ngx.req.socket(): what nginx cannot show'), () => {
    // The control reads the body whole in memory: past client_body_buffer_size (8k by default)
    // nginx, and tresty, keep it in a temp file instead.
    const got = reqSocketTresty(e, '100m', `location = /measure { content_by_js_block { ${MEASURE} } }
    location = /whole { client_body_buffer_size 64m; content_by_js_block { ${WHOLE} } }`, { NODE_OPTIONS: '--expose-gc' });

    it('a 50 MB body read in 64 KB pieces does not grow the worker by 50 MB (read whole, it does)', async () => {
      const streamed = await upload(got().port, '/measure', MB50, 64 * 1024);
      const [n, grew] = streamed.body.trim().split(' ').map(Number);
      expect(streamed.body).toMatch(/^\d+ -?\d+\n$/);
      expect(n).toBe(MB50);
      expect(grew).toBeLessThan(20);
      const whole = await upload(got().port, '/whole', MB50, 64 * 1024);
      const [n2, grew2] = whole.body.trim().split(' ').map(Number);
      console.log(`ngx.req.socket (${e.name}): 50 MB in 64 KB receives, worker RSS +${grew} MB (GC every 32); read_body: +${grew2} MB`);
      expect(n2).toBe(MB50);
      expect(grew2).toBeGreaterThanOrEqual(45);
    }, 120_000);

    it('a pattern cut across packets is found; keep-alive after a body that came in pieces', async () => {
      const body = '--XB\r\nContent-Disposition: form-data; name="f"\r\n\r\n0123456789\r\n--XB--\r\n';
      const head = `POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`;
      const cut = body.indexOf('\r\n--XB--') + 3;
      const r = await raw(got().port, [head + body.slice(0, 7), body.slice(7, cut), body.slice(cut) + 'GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      expect(statuses(r.data)).toEqual([200, 200]);
      expect(bodies(r.data)).toEqual(['--XB|nil|nil Content-Disposition: form-data; name="f"|nil|nil |nil|nil 012 345 678 9 end:nil --|nil|nil\n', 'hello\n']);
    });

    // nginx 1.22 + lua 0.10.23 reads the unread rest of such a body as the next request (400,
    // "client sent invalid method"); tresty discards it, as it does any body a handler left unread.
    it('keep-alive after part of the body was read and the rest (1 MB) came later: the rest is discarded', async () => {
      const rest = 'x'.repeat(1024 * 1024);
      const r = await raw(got().port, [`POST /partial HTTP/1.1\r\nHost: h\r\nContent-Length: ${rest.length + 2}\r\n\r\nhe`, `${rest}GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`], { gapMs: 300, timeoutMs: 10_000 });
      expect(statuses(r.data)).toEqual([200, 200]);
      expect(bodies(r.data)).toEqual(['got he\n', 'hello\n']);
    });

    // nginx 1.22 + lua 0.10.23 parses an unread body as the next request here too ("hello": 400).
    it('keep-alive after a socket was made and never read: the body is discarded', async () => {
      const r = await raw(got().port, ['POST /twice HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n', 'helloGET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { gapMs: 300 });
      expect(statuses(r.data)).toEqual([200, 200]);
      expect(bodies(r.data)).toEqual(['true nil nil request body already exists\n', 'hello\n']);
    });

    // ngx.req.socket(true) is provided now: api-req-socket-raw.test.ts.
    it('bad arguments throw', async () => {
      expect(await said(got().port, 'badarg')).toBe("bad argument #1 to 'socket' (boolean expected, got string)\n");
    });
  });
}

async function said(port: number, name: string): Promise<string> {
  const a = await post(port, `/${name}`, 'hello');
  expect(a.status).toBe(200);
  return a.body;
}

// nginx 1.22 + lua 0.10.23 over h2c raises "http v2 not supported yet" (body or not); tresty serves
// HTTP/2 on TLS only, so this runs there.
describe.skipIf(opensslMissing !== null)(`ngx.req.socket() over HTTP/2${opensslMissing ? ` (skipped: ${opensslMissing})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  const files = tlsFiles('reqsock');
  beforeAll(async () => {
    files.selfSigned('c', 'a.test');
    port = await freePort();
    t = await startTresty(oneServerConf(port, `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};
    location = /h2 { content_by_js_block { try { ngx.req.socket(); ngx.say('no error'); } catch (e) { ngx.say(e.code, ' ', e.message); } } }
    location = /h2raw { content_by_js_block { try { ngx.req.socket(true); ngx.say('no error'); } catch (e) { ngx.say(e.code, ' ', e.message); } } }`, { listen: ' ssl http2' }));
  });
  afterAll(async () => { await t?.stop(); files.remove(); });

  // The raw socket too, GET or POST (nginx 1.22 + lua 0.10.23 over h2c, observed 2026-12-02).
  it('throws "http v2 not supported yet" (the raw socket too)', async () => {
    for (const p of ['/h2', '/h2raw']) await h2said(p);
  });

  async function h2said(p: string): Promise<void> {
    const c = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const req = c.request({ ':method': 'POST', ':path': p, 'content-length': '5' });
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => { body += d; });
        req.on('end', () => resolve(body));
        req.on('error', reject);
        req.end('hello');
      });
      expect(got).toBe('TRESTY_ERR_API_UNSUPPORTED http v2 not supported yet\n');
    } finally {
      c.close();
    }
  }
});
