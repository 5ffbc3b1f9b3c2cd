// Upstream failures and policies through the real server: an upstream that refuses, resets,
// hangs (proxy_read_timeout), answers 502 or garbage; proxy_next_upstream with its conditions,
// tries and non_idempotent; backup and down servers; max_fails taking a server out; hash and
// least_conn; proxy_intercept_errors; and the $upstream_* variables nginx logs for all of it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpGet, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { eventually, startRaw, startUpstream, type Upstream } from './helpers/upstream.js';

let t: TrestyProcess;
let port: number;
const ups: Array<{ close(): Promise<void> }> = [];
let ok1: Upstream;
let ok2: Upstream;
let ok3: Upstream;
let slow: Upstream;

afterAll(async () => {
  await stopAll();
  await Promise.all(ups.map((u) => u.close()));
});

/** The access-log line of `uri` (lines are written in batches: wait for it). */
async function logLine(uri: string): Promise<string[]> {
  const file = path.join(t.prefix, 'logs', 'up.log');
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const line = text.split('\n').reverse().find((l) => l.startsWith(`${uri}|`));
    if (line) return line.split('|');
    if (Date.now() > deadline) throw new Error(`no log line for ${uri} in:\n${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  ok1 = await startUpstream(undefined, { name: 'ok1' });
  ok2 = await startUpstream(undefined, { name: 'ok2' });
  ok3 = await startUpstream(undefined, { name: 'ok3' });
  slow = await startUpstream((_q, res) => { setTimeout(() => res.end('slow'), 400); }, { name: 'slow' });
  const s502 = await startUpstream((_q, res) => { res.statusCode = 502; res.setHeader('X-Upstream', 's502'); res.end('bad gateway from upstream'); }, { name: 's502' });
  const s404 = await startUpstream((_q, res) => { res.statusCode = 404; res.end('upstream 404 page'); }, { name: 's404' });
  const reset = await startRaw((s) => s.once('data', () => s.resetAndDestroy()));
  const hang = await startRaw(() => { /* never answers */ });
  const garbage = await startRaw((s) => s.once('data', () => s.end('garbage\r\n\r\n')));
  ups.push(ok1, ok2, ok3, slow, s502, s404, reset, hang, garbage);
  const refused = await freePort();
  const refused2 = await freePort();
  const L = (p: number): string => `127.0.0.1:${p}`;
  port = await freePort();
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  log_format up '$request_uri|$status|$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_response_time|$upstream_http_x_upstream';
  access_log logs/up.log up;
  upstream refuse { server ${L(refused)}; server ${L(ok1.port)}; }
  upstream reset { server ${L(reset.port)}; server ${L(ok1.port)}; }
  upstream hang { server ${L(hang.port)}; server ${L(ok1.port)}; }
  upstream garbage { server ${L(garbage.port)}; server ${L(ok1.port)}; }
  upstream s502 { server ${L(s502.port)}; server ${L(ok1.port)}; }
  upstream s502b { server ${L(s502.port)}; server ${L(ok1.port)}; }
  upstream s502c { server ${L(s502.port)}; server ${L(ok1.port)}; }
  upstream s502d { server ${L(s502.port)}; server ${L(ok1.port)}; }
  upstream hangonly { server ${L(hang.port)}; }
  upstream resetpost { server ${L(reset.port)}; server ${L(ok1.port)}; }
  upstream allbad { server ${L(refused)}; server ${L(refused2)}; }
  upstream three { server ${L(refused)}; server ${L(refused2)}; server ${L(ok1.port)}; }
  upstream backup { server ${L(refused)} max_fails=1 fail_timeout=30s; server ${L(ok2.port)} backup; }
  upstream down { server ${L(ok1.port)} down; server ${L(ok2.port)}; }
  upstream failing { server ${L(refused)} max_fails=2 fail_timeout=30s; server ${L(ok3.port)}; }
  upstream weighted { server ${L(ok1.port)} weight=3; server ${L(ok2.port)}; }
  upstream hashed { hash $arg_k consistent; server ${L(ok1.port)}; server ${L(ok2.port)}; server ${L(ok3.port)}; }
  upstream lc { least_conn; server ${L(slow.port)}; server ${L(ok2.port)}; }
  server {
    listen 127.0.0.1:${port};
    location /refuse/ { proxy_pass http://refuse; }
    location /reset/ { proxy_pass http://reset; }
    # The timeout bounds ok1's answer too, after the hang: 300 ms was too short on a loaded machine.
    location /hang/ { proxy_read_timeout 2s; proxy_pass http://hang; }
    location /hang-off/ { proxy_read_timeout 300ms; proxy_pass http://hangonly; }
    location /garbage/ { proxy_next_upstream error timeout invalid_header; proxy_pass http://garbage; }
    location /s502/ { proxy_next_upstream error timeout http_502; proxy_pass http://s502; }
    location /s502-pass/ { proxy_pass http://s502b; }
    location /post/ { proxy_next_upstream error timeout http_502; proxy_pass http://s502c; }
    location /post-ni/ { proxy_next_upstream error timeout http_502 non_idempotent; proxy_pass http://s502d; }
    location /allbad/ { proxy_pass http://allbad; }
    location /replay/ {
      client_max_body_size 10m; client_body_buffer_size 1k;
      proxy_next_upstream error timeout non_idempotent;
      proxy_pass http://resetpost;
    }
    location /tries2/ { proxy_next_upstream_tries 2; proxy_pass http://three; }
    location /tries0/ { proxy_pass http://three; }
    location /backup/ { proxy_pass http://backup; }
    location /down/ { proxy_pass http://down; }
    location /failing/ { proxy_pass http://failing; }
    location /weighted/ { proxy_pass http://weighted; }
    location /hashed/ { proxy_pass http://hashed; }
    location /lc/ { proxy_pass http://lc; }
    location /intercept/ { proxy_intercept_errors on; proxy_pass http://${L(s404.port)}; }
    location /nointercept/ { proxy_pass http://${L(s404.port)}; }
  }
}
`);
});

/** The error log gets a line matching `re` (lines are written in batches). */
async function logHas(re: RegExp): Promise<void> {
  expect(await eventually(() => t.errorLog(), re)).toMatch(re);
}

const nameOf = (body: string): string => (body === 'slow' ? 'slow' : (JSON.parse(body) as { name: string }).name);

describe('failures move to the next server (proxy_next_upstream error timeout, the default)', () => {
  it('an upstream that refuses', async () => {
    const r = await httpGet(port, '/refuse/a');
    expect(r.status).toBe(200);
    expect(nameOf(r.body)).toBe('ok1');
    const [, status, addr, ustatus, connect] = await logLine('/refuse/a');
    expect(status).toBe('200');
    expect(addr).toMatch(/^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/);
    expect(ustatus).toBe('502, 200');
    expect(connect).toMatch(/^-, \d+\.\d{3}$/);
    await logHas(/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: [^,]*, request: "GET \/refuse\/a HTTP\/1\.1", upstream: "http:\/\/127\.0\.0\.1:\d+\/refuse\/a"/);
  });

  it('an upstream that resets the connection', async () => {
    const r = await httpGet(port, '/reset/a');
    expect(nameOf(r.body)).toBe('ok1');
    expect((await logLine('/reset/a'))[3]).toBe('502, 200');
    await logHas(/failed \(104: Connection reset by peer\) while reading response header from upstream/);
  });

  it('an upstream that times out (proxy_read_timeout), and 504 when no retry is allowed', async () => {
    const r = await httpGet(port, '/hang/a');
    expect(nameOf(r.body)).toBe('ok1');
    expect((await logLine('/hang/a'))[3]).toBe('504, 200');
    await logHas(/upstream timed out \(110: Connection timed out\) while reading response header from upstream/);
    const off = await httpGet(port, '/hang-off/a');
    expect(off.status).toBe(504);
    expect(off.body).toContain('504 Gateway Time-out');
  });

  it('an upstream that answers garbage (invalid_header)', async () => {
    const r = await httpGet(port, '/garbage/a');
    expect(nameOf(r.body)).toBe('ok1');
    await logHas(/upstream sent no valid HTTP\/1\.0 header while reading response header from upstream/);
  });

  it('502 with no server left, logging "no live upstreams" once every server is out', async () => {
    const r = await httpGet(port, '/allbad/a');
    expect(r.status).toBe(502);
    expect(r.body).toContain('502 Bad Gateway');
    expect((await logLine('/allbad/a'))[3]).toBe('502, 502');
    // Both are out now (max_fails=1): the next request finds no live upstream.
    expect((await httpGet(port, '/allbad/b')).status).toBe(502);
    const line = await logLine('/allbad/b');
    expect(line[2]).toBe('allbad');
    await logHas(/no live upstreams while connecting to upstream, client: [^,]*, server: [^,]*, request: "[^"]*", upstream: "http:\/\/allbad\/allbad\/b"/);
  });
});

describe('proxy_next_upstream conditions and limits', () => {
  it('http_502 moves on; without it the 502 answer is passed as it came', async () => {
    const r = await httpGet(port, '/s502/a');
    expect(nameOf(r.body)).toBe('ok1');
    const [, , , ustatus, , , xup] = await logLine('/s502/a');
    expect(ustatus).toBe('502, 200');
    expect(xup).toBe('ok1');
    const p = await httpGet(port, '/s502-pass/a');
    expect(p.status).toBe(502);
    expect(p.body).toBe('bad gateway from upstream');
    expect((await logLine('/s502-pass/a'))[3]).toBe('502');
  });

  it('a POST is not sent to a second server unless non_idempotent is listed', async () => {
    const post = await httpGet(port, '/post/a', { method: 'POST', body: 'data' });
    expect(post.status).toBe(502);
    expect(post.body).toBe('bad gateway from upstream');
    for (let i = 0; i < 2; i++) {
      const ni = await httpGet(port, `/post-ni/${i}`, { method: 'POST', body: 'data' });
      expect(ni.status).toBe(200);
      expect(JSON.parse(ni.body).bodyBytes).toBe(4);
    }
  });

  it('a buffered body is sent again to the next server (from its temp file past client_body_buffer_size)', async () => {
    const body = 'b'.repeat(300 * 1024);
    const r = await httpGet(port, '/replay/a', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).bodyBytes).toBe(body.length);
    expect((await logLine('/replay/a'))[3]).toBe('502, 200');
    expect(fs.readdirSync(path.join(t.prefix, 'client_body_temp'))).toEqual([]); // unlinked when opened
  });

  it('proxy_next_upstream_tries limits the tries', async () => {
    const r = await httpGet(port, '/tries2/a');
    expect(r.status).toBe(502);
    expect((await logLine('/tries2/a'))[3]).toBe('502, 502');
    const all = await httpGet(port, '/tries0/a');
    expect(all.status).toBe(200);
  });
});

describe('server states and balancing', () => {
  it('backup servers take over when the primary one is out', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await httpGet(port, `/backup/${i}`);
      expect(nameOf(r.body)).toBe('ok2');
    }
    // After the first failure, the primary is skipped for fail_timeout (no more connect errors).
    const lines = await Promise.all([0, 1, 2].map((i) => logLine(`/backup/${i}`)));
    expect(lines[0][3]).toBe('502, 200');
    expect(lines[1][3]).toBe('200');
  });

  it('down servers are never used', async () => {
    for (let i = 0; i < 4; i++) expect(nameOf((await httpGet(port, `/down/${i}`)).body)).toBe('ok2');
  });

  it('max_fails=2: the server is tried until it failed twice, then left out for fail_timeout', async () => {
    const statuses: string[] = [];
    for (let i = 0; i < 8; i++) {
      expect(nameOf((await httpGet(port, `/failing/${i}`)).body)).toBe('ok3');
      statuses.push((await logLine(`/failing/${i}`))[3]!);
    }
    expect(statuses.filter((s) => s === '502, 200')).toHaveLength(2);
    expect(statuses.slice(-4)).toEqual(['200', '200', '200', '200']);
  });

  it('weights share the requests (3:1)', async () => {
    const names: string[] = [];
    for (let i = 0; i < 8; i++) names.push(nameOf((await httpGet(port, `/weighted/${i}`)).body));
    expect(names.filter((n) => n === 'ok1')).toHaveLength(6);
    expect(names.filter((n) => n === 'ok2')).toHaveLength(2);
  });

  it('hash $arg_k consistent sends one key to one server', async () => {
    const byKey = new Map<string, Set<string>>();
    const keys = Array.from({ length: 20 }, (_, i) => `key${i}`);
    for (let round = 0; round < 2; round++) {
      for (const k of keys) {
        const n = nameOf((await httpGet(port, `/hashed/x?k=${k}`)).body);
        (byKey.get(k) ?? byKey.set(k, new Set()).get(k)!).add(n);
      }
    }
    for (const s of byKey.values()) expect(s.size).toBe(1);
    expect(new Set([...byKey.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
  });

  it('least_conn sends new requests away from a server busy with slow ones', async () => {
    // The first goes to `slow` (round robin among equals) and stays in flight 400 ms.
    const first = httpGet(port, '/lc/0');
    await new Promise((r) => setTimeout(r, 100));
    const names = [];
    for (let i = 1; i <= 3; i++) names.push(nameOf((await httpGet(port, `/lc/${i}`)).body));
    expect(nameOf((await first).body)).toBe('slow');
    expect(names).toEqual(['ok2', 'ok2', 'ok2']);
  });
});

describe('proxy_intercept_errors', () => {
  it('replaces an upstream error answer by tresty\'s own page for the status; off passes it', async () => {
    const r = await httpGet(port, '/intercept/x');
    expect(r.status).toBe(404);
    expect(r.body).toContain('<center><h1>404 Not Found</h1></center>');
    expect(r.body).not.toContain('upstream 404 page');
    const off = await httpGet(port, '/nointercept/x');
    expect(off.status).toBe(404);
    expect(off.body).toBe('upstream 404 page');
  });
});
