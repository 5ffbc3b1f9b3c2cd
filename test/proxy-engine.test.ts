// The proxy's upstream sockets in the native engine (issue 14): with the native front and a plain
// http upstream, connections are the engine's (counted in the worker through the engine itself),
// reused with keepalive, freed when a client leaves mid-answer; TRESTY_PROXY_TRANSPORT=net puts
// them back on node:net. The failure and streaming tests (proxy-upstream, proxy-stream) run on
// both transports (vitest.config.ts, project "proxy:net").
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, engineOf, freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { startRaw, startUpstream, type Upstream } from './helpers/upstream.js';

const PROBE = path.join(ROOT, 'dist', 'src', 'http', 'native-upstream.js');
const onNet = process.env.TRESTY_PROXY_TRANSPORT === 'net';

let t: TrestyProcess;
let port: number;
let ok: Upstream;
let slow: Upstream;
/** The upstream's sockets of the streaming answers, to see them closed. */
const streams: Array<{ closed: boolean }> = [];
const ups: Array<{ close(): Promise<void> }> = [];
/** The close-delimited answer's body. */
const BIG = 32 * 1024 * 1024;

const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-engsock-'));
const SOCK = path.join(sockDir, 'up.sock');

afterAll(async () => {
  await stopAll();
  fs.rmSync(sockDir, { recursive: true, force: true });
  await Promise.all(ups.map((u) => u.close()));
});

beforeAll(async () => {
  ok = await startUpstream(undefined, { name: 'ok' });
  // An answer that never ends: 64 KB every 20 ms until the proxy closes the connection.
  slow = await startUpstream((req, res) => {
    const s = { closed: false };
    streams.push(s);
    req.socket.on('close', () => { s.closed = true; });
    res.setHeader('Content-Type', 'application/octet-stream');
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const tick = setInterval(() => { if (!res.destroyed) res.write(chunk); }, 20);
    res.on('close', () => clearInterval(tick));
  }, { name: 'slow' });
  // A close-delimited answer: the upstream writes it all and closes at once, so its end (EOF)
  // arrives while the proxy has stopped reading for a client that does not read.
  const closing = await startRaw((sock) => sock.once('data', () => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n');
    const chunk = Buffer.alloc(1024 * 1024, 'z');
    for (let i = 0; i < BIG / chunk.length; i++) sock.write(chunk);
    sock.end();
  }));
  const unixUp = http.createServer((req, res) => res.end(`unix ${req.url}`));
  await new Promise<void>((resolve) => unixUp.listen(SOCK, resolve));
  ups.push(ok, slow, closing, { close: () => new Promise<void>((resolve) => { unixUp.closeAllConnections(); unixUp.close(() => resolve()); }) });
  port = await freePort();
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  upstream ka { server 127.0.0.1:${ok.port}; keepalive 4; }
  upstream ux { server unix:${SOCK}; keepalive 4; }
  server {
    listen 127.0.0.1:${port};
    location /ka/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://ka; }
    location /slow/ { proxy_pass http://127.0.0.1:${slow.port}; }
    location /ux/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://ux; }
    location /ux-gone/ { proxy_pass http://unix:${sockDir}/gone.sock:/; }
    location /closing/ { proxy_pass http://127.0.0.1:${closing.port}; }
    # The worker's count of upstream sockets open in the native engine.
    location = /probe { content_by_js_block { const m = await import(${JSON.stringify(PROBE)}); ngx.print(String(m.engineSocketCount())); } }
  }
}
`);
});

async function engineSockets(): Promise<number> {
  const r = await httpGet(port, '/probe');
  expect(r.status).toBe(200);
  return Number(r.body);
}

describe('upstream connections through the native engine', () => {
  it('keepalive reuses one connection, counted on the upstream and in the engine', async () => {
    const before = ok.connections;
    for (let i = 0; i < 5; i++) {
      const r = await httpGet(port, `/ka/${i}`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).url).toBe(`/ka/${i}`);
    }
    expect(ok.connections - before).toBe(1);
    expect(ok.requests).toBeGreaterThanOrEqual(5);
    // the one kept idle in the pool is the engine's (none with node:net or the node:http front)
    const native = engineOf(t) === 'native' && !onNet;
    expect(await engineSockets()).toBe(native ? 1 : 0);
  });

  it('a client that leaves mid-answer frees the upstream connection', async () => {
    const base = await engineSockets();
    const n = streams.length;
    const c = net.connect(port, '127.0.0.1');
    c.write('GET /slow/x HTTP/1.1\r\nHost: a\r\n\r\n');
    // wait for part of the answer, then go
    await new Promise<void>((resolve) => {
      let got = 0;
      c.on('data', (b: Buffer) => {
        got += b.length;
        if (got > 256 * 1024) resolve();
      });
    });
    expect(streams.length).toBe(n + 1);
    c.destroy();
    const deadline = Date.now() + 5000;
    while (!streams[n]!.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(streams[n]!.closed).toBe(true);
    expect(await engineSockets()).toBe(base);
  });

  it('an answer ended by the upstream closing, to a client that stops reading for a second, arrives whole', async () => {
    const got = await new Promise<{ bytes: number; bad: boolean }>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1');
      // HTTP/1.0: the answer is close-delimited to the client too (no chunked framing to undo)
      c.write('GET /closing/x HTTP/1.0\r\nHost: a\r\n\r\n');
      let head = '';
      let bytes = 0;
      let bad = false;
      let paused = false;
      c.on('data', (b: Buffer) => {
        if (!head.includes('\r\n\r\n')) {
          head += b.toString('latin1');
          const i = head.indexOf('\r\n\r\n');
          if (i < 0) return;
          b = Buffer.from(head.slice(i + 4), 'latin1');
        }
        bytes += b.length;
        if (b.some((x) => x !== 0x7a)) bad = true;
        if (!paused && bytes > 1024 * 1024) {
          paused = true;
          c.pause();
          setTimeout(() => c.resume(), 1000);
        }
      });
      c.on('end', () => resolve({ bytes, bad }));
      c.on('error', reject);
    });
    expect(got.bad).toBe(false);
    expect(got.bytes).toBe(BIG);
  });

  it('a unix-socket upstream: kept alive (in the engine on the native front); a missing socket is a 502 with the errno', async () => {
    const base = await engineSockets();
    for (let i = 0; i < 3; i++) {
      const r = await httpGet(port, `/ux/${i}`);
      expect(r.status).toBe(200);
      expect(r.body).toBe(`unix /ux/${i}`);
    }
    const native = engineOf(t) === 'native' && !onNet;
    expect(await engineSockets()).toBe(base + (native ? 1 : 0));
    const r = await httpGet(port, '/ux-gone/a');
    expect(r.status).toBe(502);
    const deadline = Date.now() + 5000;
    while (!/2: No such file or directory\) while connecting to upstream/.test(t.errorLog()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(t.errorLog()).toMatch(/connect\(\) failed \(2: No such file or directory\) while connecting to upstream/);
  });
});
