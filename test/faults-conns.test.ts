// Connection faults of issue 11 (items 1, 3 and 8), through the real server on both engines:
// idle keep-alive connections at worker_connections cannot lock new clients out (the oldest idle
// ones are closed, as nginx does); a static file that shrinks while sent closes its connection with
// nginx's [alert]; an HTTP/0.9 request is answered at once; a 413 for a chunked body closes.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { engineOf, freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { SHRUNK, shrinkWhileSent } from './helpers/shrink.js';

const LIMIT = 40;
const SIZE = 200 * 1024 * 1024; // sparse: no disk used

const conf = (port: number): string => `
worker_processes 1;
error_log logs/error.log info;
events { worker_connections ${LIMIT}; }
http {
  access_log off;
  client_max_body_size 10;
  server {
    listen 127.0.0.1:${port};
    location = /read { content_by_js_block { await ngx.req.read_body(); ngx.say("read ", (ngx.req.get_body_data() ?? "").length); } }
    location /plain/ { root html; }
    location /js/ { root html; access_by_js_block { ngx.ctx.seen = 1; } }
    location / { return 200 "ok\\n"; }
  }
}
`;

/** A keep-alive connection that made one request and now sits idle; `closed` flips when the server closes it. */
interface Held { socket: net.Socket; closed: boolean }
function idleConn(port: number): Promise<Held> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const held: Held = { socket: s, closed: false };
    s.on('close', () => { held.closed = true; });
    s.on('error', () => { /* a reset of an evicted connection */ });
    s.once('data', () => resolve(held));
    s.once('close', () => reject(new Error('closed before its answer')));
  });
}


for (const engine of ENGINES) {
  describe.skipIf(engine.skip !== null)(titled(engine, 'connection faults'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(conf(port), { env: engine.env, files: { 'html/plain/.keep': '', 'html/js/.keep': '' } });
      expect(engineOf(t)).toBe(engine.name === 'native' ? 'native' : 'node');
    });
    afterAll(async () => { await t?.stop(); });

    it(`idle keep-alive connections at worker_connections: the oldest are closed, every new client is served (issue 11, 1)`, async () => {
      const from = t.errorLog().length;
      const held: Held[] = [];
      for (let i = 0; i < LIMIT; i += 10) held.push(...await Promise.all(Array.from({ length: 10 }, () => idleConn(port))));
      // Then new clients, 30 at a time (fewer than the limit: more could never be open at once),
      // 90 in all, more than twice the limit: every one is answered.
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 30 }, () => httpGet(port, '/', { timeoutMs: 10_000 }).catch((e: Error) => e)));
        expect(answers.map((a) => (a instanceof Error ? a.message : a.status)).filter((s) => s !== 200)).toEqual([]);
      }
      const log = t.errorLog().slice(from);
      expect(log).toMatch(new RegExp(`\\[warn\\] \\d+#0: ${LIMIT} worker_connections are not enough, reusing connections`));
      expect(log).not.toMatch(/\[alert\].*worker_connections are not enough$/m);
      // Oldest idle first: the first connection held is gone, some of the last ones still open.
      await expect.poll(() => held[0]!.closed).toBe(true);
      expect(held.slice(-5).some((h) => !h.closed)).toBe(true);
      for (const h of held) h.socket.destroy();
    }, 60_000);

    for (const dir of ['plain', 'js']) {
      it(`a static file that shrinks while sent closes the connection, with nginx's [alert] (${dir}; issue 11, 3)`, async () => {
        const file = path.join(t.prefix, 'html', dir, 'big.bin');
        fs.writeFileSync(file, '');
        fs.truncateSync(file, SIZE);
        const r = await shrinkWhileSent(port, `/${dir}/big.bin`, file, true);
        expect(r.length).toBe(SIZE);
        expect(r.closed).toBe(true);
        // Short, and never the pipelined second answer inside the body.
        expect(r.bytes).toBeLessThanOrEqual(SHRUNK);
        await expect.poll(() => t.errorLog()).toMatch(
          new RegExp(`\\[alert\\] \\d+#0: \\*\\d+ pread\\(\\) read only \\d+ of \\d+ from ".*/html/${dir}/big\\.bin" while sending response to client, client: 127\\.0\\.0\\.1`));
        // The next request, on a new connection, is answered whole.
        const next = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
        expect(statuses(next.data)).toEqual([200]);
        expect(next.data.endsWith('\r\n\r\nok\n')).toBe(true);
        fs.rmSync(file);
      }, 40_000);
    }

    it('an HTTP/0.9 request is answered at once with the body only, and closed; another method is 400 (issue 11, 8)', async () => {
      const r = await raw(port, ['GET /\r\n'], { timeoutMs: 5000 });
      expect(r.data).toBe('ok\n');
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(2000);
      const bad = await raw(port, ['POST /\r\n'], { timeoutMs: 5000 });
      expect(bad.data).toMatch(/^<html>\r\n<head><title>400 Bad Request<\/title>/);
      expect(bad.closed).toBe(true);
      expect(bad.ms).toBeLessThan(2000);
      // A request line that comes in pieces is still HTTP/1.1.
      const split = await raw(port, ['GE', 'T /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 50 });
      expect(statuses(split.data)).toEqual([200]);
    });

    it('a chunked body past client_max_body_size gets 413 and the connection closes (issue 11, 8)', async () => {
      const r = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '8\r\n01234567\r\n', '8\r\n89abcdef\r\n'], { gapMs: 50, timeoutMs: 10_000 });
      expect(statuses(r.data)).toEqual([413]);
      expect(r.data).toMatch(/\r\nConnection: close\r\n/);
      expect(r.closed).toBe(true);
      expect(r.ms).toBeLessThan(7000); // nginx's lingering_timeout 5s at most, never keepalive_timeout
      await expect.poll(() => t.errorLog()).toMatch(/client intended to send too large chunked body: \d+\+\d* ?bytes/);
    });
  });
}
