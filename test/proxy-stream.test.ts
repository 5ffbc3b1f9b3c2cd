// Proxied bodies stream both ways with back-pressure (a few hundred MB through the worker with
// a client or an upstream that stops reading, the worker's memory staying flat), proxy_buffering
// on/off, the phases around a proxied request (rewrite, access before; header and body filters
// on the upstream's answer, chunk by chunk; log after) and ngx.location.capture of proxied
// locations (fan-out to two backends).
import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const MB = 1024 * 1024;
const TOTAL = 192 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

let t: TrestyProcess;
let port: number;
const ups: Upstream[] = [];
let release: (() => void) | null = null;
let sink: Upstream;

/** The process's resident size, or null when it is gone (its /proc entry went with it). */
function rssOf(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') return null;
    throw e;
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Samples the worker's RSS until stopped: the growth over its size at the start. A worker that
 * went away meanwhile (it crashed, the master forked another) is a failure of its own, named as
 * such rather than a read error from inside a timer.
 */
function sampler(pid: number): { stop(): number } {
  const base = rssOf(pid);
  let peak = base ?? 0;
  let lost = base === null;
  const sample = (): void => {
    const v = rssOf(pid);
    if (v === null) lost = true;
    else peak = Math.max(peak, v);
  };
  const timer = setInterval(sample, 25);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      expect(lost, `worker ${pid} went away during the transfer; error.log:\n${t.errorLog().slice(-2000)}`).toBe(false);
      return peak - base!;
    },
  };
}

/** The worker now serving (the newest one alive: a crashed worker's pid stays in the set). */
function worker(): number {
  const alive = [...t.workerPids].filter((pid) => rssOf(pid) !== null);
  expect(alive.length, 'no live worker').toBeGreaterThan(0);
  return alive.at(-1)!;
}

afterAll(async () => {
  await stopAll();
  await Promise.all(ups.map((u) => u.close()));
});

beforeAll(async () => {
  // Streams TOTAL bytes as fast as the proxy takes them (honouring back-pressure).
  const big = await startUpstream((_q, res) => {
    res.writeHead(200, { 'Content-Length': String(TOTAL), 'Content-Type': 'application/octet-stream' });
    let sent = 0;
    const more = (): void => {
      while (sent < TOTAL) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) { res.once('drain', more); return; }
      }
      res.end();
    };
    more();
  }, { name: 'big' });
  // Reads an upload and answers with its size; stops reading for a while first (a slow upstream).
  sink = await startUpstream((req, res) => {
    let n = 0;
    req.pause();
    setTimeout(() => {
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => res.end(String(n)));
      req.resume();
    }, 1000);
  }, { name: 'sink', streamBody: true });
  // Sends "first", then the rest only when the test says so.
  const trickle = await startUpstream((req, res) => {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
    if (req.url?.includes('accel')) headers['X-Accel-Buffering'] = 'no';
    res.writeHead(200, headers);
    res.write('first;');
    if (req.url?.includes('timed')) { setTimeout(() => res.end('second;third'), 300); return; }
    release = () => { res.write('second;'); res.end('third'); };
  }, { name: 'trickle' });
  // Two 12 KB pieces 150 ms apart (chunked, or with a Content-Length), each its own read: the
  // first is gathered (proxy_buffering) while the second is read, so it must not share memory
  // with the read that follows.
  const halves = await startUpstream((req, res) => {
    if (req.url?.includes('length')) res.setHeader('Content-Length', String(24 * 1024));
    res.write(Buffer.alloc(12 * 1024, 'a'));
    setTimeout(() => res.end(Buffer.alloc(12 * 1024, 'b')), 150);
  }, { name: 'halves' });
  const a = await startUpstream((_q, res, seen) => { res.setHeader('X-Seen', seen.headers['x-from-rewrite'] ?? ''); res.end(`A:${seen.url}:${seen.bodyBytes}`); }, { name: 'a' });
  const b = await startUpstream((_q, res, seen) => res.end(`B:${seen.url}`), { name: 'b' });
  ups.push(big, sink, trickle, a, b, halves);
  port = await freePort();
  const L = (u: Upstream): string => `127.0.0.1:${u.port}`;
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    location /big { proxy_pass http://${L(big)}; }
    location /upload/stream { proxy_request_buffering off; proxy_http_version 1.1; proxy_pass http://${L(sink)}; }
    location /upload/buffered { proxy_pass http://${L(sink)}; }
    location /small-limit/ { client_max_body_size 1k; proxy_pass http://${L(sink)}; }
    location /small-limit-stream/ { client_max_body_size 1k; proxy_request_buffering off; proxy_http_version 1.1; proxy_pass http://${L(sink)}; }
    location /trickle/on { proxy_pass http://${L(trickle)}; }
    location /halves/ { proxy_pass http://${L(halves)}; }
    location /trickle/off { proxy_buffering off; proxy_pass http://${L(trickle)}; }
    location /trickle/accel { proxy_pass http://${L(trickle)}; }
    location /phases/ {
      rewrite_by_js_block { ngx.req.set_header('X-From-Rewrite', 'rw'); }
      access_by_js_block { if (ngx.var.arg_deny) ngx.exit(403); }
      header_filter_by_js_block { ngx.header['X-Filtered'] = 'status ' + ngx.status; ngx.header['Content-Length'] = null; }
      body_filter_by_js_block {
        ngx.ctx.n = (ngx.ctx.n ?? 0) + 1;
        ngx.arg[1] = ngx.arg[1].toUpperCase();
        if (ngx.arg[2]) ngx.arg[1] += '|chunks>=' + (ngx.ctx.n > 1 ? 2 : 1);
      }
      log_by_js_block { ngx.log(ngx.NOTICE, 'logged ', ngx.var.upstream_status, ' ', ngx.var.upstream_addr); }
      proxy_buffering off;
      proxy_pass http://${L(trickle)}/timed;
    }
    location /rw/ {
      rewrite_by_js_block { ngx.req.set_header('X-From-Rewrite', 'rw'); }
      proxy_pass http://${L(a)};
    }
    location /p1/ { proxy_pass http://${L(a)}/one/; }
    location /p2/ { proxy_pass http://${L(b)}/two/; }
    location = /fanout {
      content_by_js_block {
        await ngx.req.read_body();
        const [x, y] = await ngx.location.capture_multi([['/p1/x', { method: 'POST' }], ['/p2/y', { args: 'q=1' }]]);
        ngx.say(x.status, ' ', x.body, ' ', y.status, ' ', y.body);
      }
    }
  }
}
`);
});

describe('streaming with back-pressure, memory flat', () => {
  it(`a ${TOTAL / MB} MB download to a client that stops reading for a second`, async () => {
    const s = sampler(worker());
    const got = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/big', agent: false }, (res) => {
        let n = 0;
        let paused = false;
        res.on('data', (d: Buffer) => {
          n += d.length;
          if (!paused && n > 32 * MB) {
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), 1000);
          }
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
        expect(res.headers['content-length']).toBe(String(TOTAL));
      }).on('error', reject);
    });
    const growth = s.stop();
    expect(got).toBe(TOTAL);
    expect(growth).toBeLessThan(96 * MB);
  });

  for (const mode of ['stream', 'buffered'] as const) {
    it(`a ${TOTAL / MB} MB upload to an upstream that stops reading for a second (proxy_request_buffering ${mode === 'stream' ? 'off' : 'on: a temp file'})`, async () => {
      const s = sampler(worker());
      const answer = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: `/upload/${mode}`, method: 'POST', agent: false, headers: { 'Content-Length': String(TOTAL) } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d; });
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        let sent = 0;
        const more = (): void => {
          while (sent < TOTAL) {
            sent += CHUNK.length;
            if (!req.write(CHUNK)) { req.once('drain', more); return; }
          }
          req.end();
        };
        more();
      });
      const growth = s.stop();
      expect(answer).toBe(String(TOTAL));
      expect(growth).toBeLessThan(96 * MB);
    });
  }

  it('a chunked upload streams to the upstream chunked; client_max_body_size still applies (413)', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/upload/stream', method: 'POST', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(1000));
      req.end();
    });
    expect(r).toEqual({ status: 200, body: '10000' });
    expect(sink.seen.at(-1)?.headers['transfer-encoding']).toBe('chunked');
    const big = await httpGet(port, '/small-limit/x', { method: 'POST', body: 'z'.repeat(2000) });
    expect(big.status).toBe(413);
    // Without a length the limit is found while the body streams: buffered, and streamed.
    for (const where of ['/small-limit/x', '/small-limit-stream/x']) {
      const before = sink.requests;
      const chunked = await chunkedPost(where, 3, 1000);
      expect(chunked.status, where).toBe(413);
      if (where === '/small-limit/x') expect(sink.requests).toBe(before); // buffered: the upstream never saw it
    }
  });
});

/** A chunked POST of `n` pieces of `size` bytes; the status (0: the connection was cut first). */
function chunkedPost(where: string, n: number, size: number): Promise<{ status: number }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: where, method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', () => resolve({ status: 0 }));
    for (let i = 0; i < n; i++) req.write('w'.repeat(size));
    req.end();
  });
}

/** The first `data` event the client sees, and the whole body. */
function firstAndAll(path: string, onFirst?: () => void): Promise<{ first: string; all: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let first: string | null = null;
      let all = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (first === null) { first = d; onFirst?.(); }
        all += d;
      });
      res.on('end', () => resolve({ first: first ?? '', all, headers: res.headers }));
    }).on('error', reject);
  });
}

describe('proxy_buffering', () => {
  it('off: the answer reaches the client as it arrives (the upstream waits for the client to see it)', async () => {
    const r = await firstAndAll('/trickle/off', () => release?.());
    expect(r.first).toBe('first;');
    expect(r.all).toBe('first;second;third');
  });

  it('"X-Accel-Buffering: no" from the upstream streams too', async () => {
    const r = await firstAndAll('/trickle/accel', () => release?.());
    expect(r.first).toBe('first;');
    expect(r.all).toBe('first;second;third');
  });

  it('on: pieces gathered across reads keep their bytes (chunked and with a length)', async () => {
    for (const shape of ['chunked', 'length']) {
      const r = await httpGet(port, `/halves/${shape}`);
      expect(r.status).toBe(200);
      expect(r.body.length, shape).toBe(24 * 1024);
      expect(r.body === 'a'.repeat(12 * 1024) + 'b'.repeat(12 * 1024), shape).toBe(true);
    }
  });

  it('on: small answers are gathered and sent in one piece, with their length', async () => {
    const r = await firstAndAll('/trickle/on?timed');
    expect(r.first).toBe('first;second;third');
    expect(r.headers['content-length']).toBe('18');
  });
});

describe('phases around a proxied request', () => {
  it('rewrite and access run before; header and body filters see the upstream answer chunk by chunk; log runs after', async () => {
    const before = ups[2]!.requests;
    const denied = await httpGet(port, '/phases/x?deny=1');
    expect(denied.status).toBe(403);
    expect(ups[2]!.requests).toBe(before); // access ended it: the upstream never saw it
    const r = await httpGet(port, '/phases/x');
    expect(r.status).toBe(200);
    expect(r.headers['x-filtered']).toBe('status 200');
    expect(r.body).toBe('FIRST;SECOND;THIRD|chunks>=2');
    const deadline = Date.now() + 5000;
    while (!/logged 200 127\.0\.0\.1:\d+/.test(t.errorLog()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(t.errorLog()).toMatch(/\[notice\] .*\[js\] .*logged 200 127\.0\.0\.1:\d+/);
  });

  it('headers set in rewrite reach the upstream', async () => {
    const r = await httpGet(port, '/rw/x');
    expect(r.headers['x-seen']).toBe('rw');
  });

  it('ngx.location.capture_multi fans out to two proxied locations (the POST body forwarded)', async () => {
    const r = await httpGet(port, '/fanout', { method: 'POST', body: 'hello' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('200 A:/one/x:5 200 B:/two/y?q=1\n');
  });
});
