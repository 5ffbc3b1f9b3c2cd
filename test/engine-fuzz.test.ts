// The native engine under AddressSanitizer + UBSan (native/build/asan/, built here): thousands of
// connections with random bytes, valid requests mutated at random bytes, split at random points,
// pipelined, and cut early, against static files (with gzip, charset, expires and try_files),
// return, bodies read and streamed answers. The
// worker must stay up, answer afterwards, and the sanitizers must report nothing.
import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asanEnv, asanMissing as why, buildAsanEngine, SANITIZER_REPORT } from './helpers/asan.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';

const REQUESTS = [
  'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /d HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /r HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  'POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /a//b/../a.txt HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /\r\n',
  'POST /read HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  'POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  // the stock-conf filters: gzip decided (and done) in C, charset, expires, try_files
  'GET /gz/t.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip;q=0.5\r\n\r\n', 'GET /gz/nope HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n',
  'GET /gz/ HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\nUser-Agent: MSIE 6.0; SV1\r\n\r\n', 'GET /gz/t.txt HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n',
];

/** Sends `bytes` in pieces, then half-closes (or cuts the connection early); resolves on close. */
function send(port: number, bytes: Buffer, splits: number[], cut: boolean): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(); });
    s.on('connect', async () => {
      let at = 0;
      for (const k of splits) {
        if (s.destroyed) return;
        s.write(bytes.subarray(at, at + k));
        at += k;
        await new Promise((r) => setImmediate(r));
      }
      if (!s.destroyed) s.write(bytes.subarray(at));
      if (cut) setTimeout(() => s.destroy(), Math.random() * 20);
      else setTimeout(() => s.end(), 50);
    });
  });
}

describe.skipIf(why !== null)(`the native engine under ASan + UBSan${why ? ` (skipped: ${why})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    buildAsanEngine();
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
http {
  access_log logs/access.log;
  client_header_timeout 2s; client_body_timeout 2s; keepalive_timeout 2s; lingering_timeout 1s;
  server {
    listen 127.0.0.1:${port};
    location / { root html; }
    location = /r { return 302 /x; }
    location = /read { client_max_body_size 100k; content_by_js_block { await ngx.req.read_body(); ngx.say((ngx.req.get_body_data() ?? '').length); } }
    location /gz/ { gzip on; gzip_types text/plain; gzip_vary on; gzip_disable msie6; charset utf-8; expires 1h; try_files $uri $uri/ /gz/t.txt; }
    location = /stream { content_by_js_block { for (let i = 0; i < 20; i++) { ngx.print("chunk " + i + "\\n"); await ngx.flush(true); } } }
  }
}
`, {
      files: { 'html/a.txt': 'hi\n', 'html/big.bin': 'b'.repeat(200_000), 'html/d/.keep': '', 'html/gz/t.txt': 'compress me, '.repeat(30) },
      env: asanEnv(),
      timeoutMs: 60_000,
    });
  }, 180_000);
  afterAll(async () => { await t?.stop(); });

  it('survives random, mutated, split and cut requests with no sanitizer report', async () => {
    for (let round = 0; round < 150; round++) {
      const jobs: Array<Promise<void>> = [];
      for (let j = 0; j < 10; j++) {
        const r = Math.random();
        let bytes: Buffer;
        if (r < 0.3) {
          bytes = crypto.randomBytes(Math.floor(Math.random() * 300));
        } else {
          let text = '';
          for (let k = 1 + Math.floor(Math.random() * 3); k > 0; k--) text += REQUESTS[Math.floor(Math.random() * REQUESTS.length)];
          bytes = Buffer.from(text, 'latin1');
          if (r < 0.6) for (let m = 0; m < 3; m++) bytes[Math.floor(Math.random() * bytes.length)] = Math.floor(Math.random() * 256);
        }
        const splits = Array.from({ length: Math.floor(Math.random() * 4) }, () => 1 + Math.floor(Math.random() * 20));
        jobs.push(send(port, bytes, splits, Math.random() < 0.2));
      }
      await Promise.all(jobs);
    }
    expect((await httpGet(port, '/a.txt')).body).toBe('hi\n');
    expect(t.stderr).not.toMatch(SANITIZER_REPORT);
    expect(t.events.filter((e) => e.tresty === 'worker-exit')).toEqual([]);
  }, 180_000);
});
