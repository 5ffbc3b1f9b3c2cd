// No engine record is ever lost when the JS inbox is full: TRESTY_ENGINE_INBOX makes the native
// engine's inbox tiny (16 KiB), then real traffic through the real tresty fills it again and again
// (request bodies in inbox-sized pieces, proxied requests whose upstream resets or answers, many
// pipelined requests on many connections) and every request must get its answer. A lost BODY_END
// or upstream CONNECT / ERROR / DRAIN record left its request waiting forever.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineOf, freePort, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { startRaw, startUpstream, type Upstream } from './helpers/upstream.js';

const INBOX = 16384;
/* A body piece as body.c takes it from an empty 16 KiB inbox: the one that filled it to the last
   byte the BODY_END record could have used. */
const PIECE = INBOX - 8192 - 24;

let t: TrestyProcess;
let port: number;
let ok: Upstream;
let reset: { port: number; close(): Promise<void> };

afterAll(async () => {
  await stopAll();
  await ok?.close();
  await reset?.close();
});

beforeAll(async () => {
  ok = await startUpstream((_req, res) => res.end('upstream-ok'), { name: 'ok' });
  // Reads the request, then resets: the proxy's read fails (an upstream ERROR record).
  reset = await startRaw((s) => s.once('data', () => s.resetAndDestroy()));
  port = await freePort();
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location /ok/ { proxy_pass http://127.0.0.1:${ok.port}; }
    location /reset/ { proxy_pass http://127.0.0.1:${reset.port}; }
    # In memory for get_body_data(): past client_body_buffer_size (8k by default) nginx, and
    # tresty, keep a body in a temp file and get_body_data() is nil.
    location /body { client_body_buffer_size 1m; content_by_js_block { await ngx.req.read_body(); const b = ngx.req.get_body_data(); ngx.print("len=" + (b ? b.length : 0) + ";"); } }
    location /hi { content_by_js_block { ngx.print("hi" + ngx.var.arg_i + ";"); } }
  }
}
`, { env: { TRESTY_ENGINE_INBOX: String(INBOX) } });
}, 60_000);

/** Sends bytes on one connection and reads until the server closes it or `within` ms pass. */
function exchange(bytes: Buffer | string, within: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve(got); }, within);
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', () => { /* a reset ends it like a close */ });
    s.on('close', () => { clearTimeout(timer); resolve(got); });
    s.write(bytes);
  });
}

function get(urlPath: string, within: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: within }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => { req.destroy(); resolve(-1); });
    req.on('error', () => resolve(-2));
  });
}

function chunked(size: number, piece: number): string {
  let out = '';
  for (let left = size; left > 0; left -= piece) {
    const n = Math.min(piece, left);
    out += `${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`;
  }
  return out + '0\r\n\r\n';
}

describe('the native engine with a 16 KiB inbox (TRESTY_ENGINE_INBOX)', () => {
  it('runs the native engine', () => {
    expect(engineOf(t)).toBe('native');
  });

  it('answers every request body, Content-Length and chunked, whatever piece fills the inbox', async () => {
    const sizes = [PIECE, 2 * PIECE, 3 * PIECE, PIECE - 8, PIECE + 8, 70_000, 100_000, 1000];
    const asks: Array<Promise<{ want: number; got: string }>> = [];
    for (let round = 0; round < 4; round++) {
      for (const n of sizes) {
        const cl = `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n${'b'.repeat(n)}`;
        asks.push(exchange(cl, 20_000).then((got) => ({ want: n, got })));
        const ch = `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(n, round % 2 ? 4096 : PIECE)}`;
        asks.push(exchange(ch, 20_000).then((got) => ({ want: n, got })));
      }
    }
    const done = await Promise.all(asks);
    const missing = done.filter((d) => !d.got.includes(`len=${d.want};`)).map((d) => `${d.want}: ${JSON.stringify(d.got.slice(0, 80))}`);
    expect(missing).toEqual([]);
  }, 90_000);

  it('answers every proxied request, the upstream answering or resetting', async () => {
    const asks: Array<Promise<number>> = [];
    for (let i = 0; i < 300; i++) asks.push(get(`/${i % 2 ? 'ok' : 'reset'}/${i}`, 20_000));
    const statuses = await Promise.all(asks);
    const wrong = statuses.map((s, i) => [i, s] as const).filter(([i, s]) => s !== (i % 2 ? 200 : 502));
    expect(wrong).toEqual([]);
  }, 90_000);

  it('answers every one of many pipelined requests on many connections', async () => {
    const CONNS = 60;
    const EACH = 40;
    const asks: Array<Promise<string>> = [];
    for (let c = 0; c < CONNS; c++) {
      let bytes = '';
      for (let i = 0; i < EACH; i++) {
        const last = i === EACH - 1 ? 'Connection: close\r\n' : '';
        bytes += `GET /hi?i=${c}-${i} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(200)}\r\n${last}\r\n`;
      }
      asks.push(exchange(bytes, 30_000));
    }
    const got = await Promise.all(asks);
    const missing: string[] = [];
    got.forEach((g, c) => {
      for (let i = 0; i < EACH; i++) if (!g.includes(`hi${c}-${i};`)) missing.push(`${c}-${i}`);
    });
    expect(missing).toEqual([]);
  }, 90_000);
});
