// The native engine's upstream sockets and the proxy's parsing of what comes on them, under
// AddressSanitizer + UBSan, against a hostile upstream (helpers/hostile-upstream.ts): thousands of
// seeded cases (helpers/upstream-cases.ts) of bad status lines, 0.9-like answers, 1xx first, huge
// and many headers, conflicting framing, bad chunks, trailers, short and long bodies, answers
// split and slow, closed or reset at every stage, sent before the request body, connections
// refused; through
// proxy_pass with buffering on and off, request bodies (buffered and streamed), keepalive and
// proxy_next_upstream over two servers. Each client gets what nginx would give (the upstream's
// answer, 502, 504, or a cut body); the worker stays up and serves afterwards, no upstream
// connection is left behind, and the sanitizers report nothing.
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asanEnv, asanMissing, buildAsanEngine, SANITIZER_REPORT } from './helpers/asan.js';
import { startHostileUpstream, type HostileUpstream } from './helpers/hostile-upstream.js';
import { ROOT, freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { type Case, makeCase, mismatch, parseAnswer, requestBytes, rng } from './helpers/upstream-cases.js';

/** Fixed: a failure names its case id, and the same seed makes the same case again. */
const SEED = Number(process.env.UPFUZZ_SEED ?? 20261202);
const CASES = Number(process.env.UPFUZZ_CASES ?? 3000);
/** Only these case ids (comma-separated), to reproduce a failure alone; all are still generated.
 *  UPFUZZ_SHOW=1 lists the cases whose client got a close with no bytes. */
const ONLY = new Set((process.env.UPFUZZ_ONLY ?? '').split(',').filter(Boolean).map(Number));
const PARALLEL = 24;
const PROBE = path.join(ROOT, 'dist', 'src', 'http', 'native-upstream.js');

/** Sends the case's request (in pieces), reads until the connection closes (bounded). */
function exchange(port: number, c: Case): Promise<{ data: Buffer; timedOut: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; s.destroy(); }, 10_000);
    s.on('error', () => { /* a reset after a cut answer: what came is judged */ });
    s.on('data', (b: Buffer) => {
      got.push(b);
      if (c.slowRead > 0 && got.length === 1) {
        // A slow client: the proxy holds the upstream back (the engine pauses its socket).
        s.pause();
        setTimeout(() => s.resume(), c.slowRead);
      }
    });
    s.on('close', () => { clearTimeout(timer); resolve({ data: Buffer.concat(got), timedOut }); });
    s.on('connect', async () => {
      const bytes = requestBytes(c);
      let at = 0;
      for (const n of c.pieces) {
        if (s.destroyed) return;
        s.write(bytes.subarray(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, c.pause));
      }
      if (!s.destroyed) s.write(bytes.subarray(at));
    });
  });
}

describe.skipIf(asanMissing !== null)(`the proxy against hostile upstreams, engine under ASan + UBSan${asanMissing ? ` (skipped: ${asanMissing})` : ''}`, () => {
  let t: TrestyProcess;
  let port: number;
  let up: HostileUpstream;
  beforeAll(async () => {
    buildAsanEngine();
    up = await startHostileUpstream();
    const [a, b] = up.ports;
    const gone = await freePort();
    port = await freePort();
    t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
http {
  access_log off;
  proxy_buffer_size 4k;
  client_max_body_size 8m;
  proxy_connect_timeout 2s; proxy_send_timeout 2s; proxy_read_timeout 1s;
  upstream fz { server 127.0.0.1:${a} max_fails=0; keepalive 8; }
  upstream two { server 127.0.0.1:${a} max_fails=0; server 127.0.0.1:${b} max_fails=0; keepalive 4; }
  server {
    listen 127.0.0.1:${port};
    location /b/ { proxy_pass http://127.0.0.1:${a}; }
    location /nb/ { proxy_buffering off; proxy_pass http://127.0.0.1:${a}; }
    location /nrb/ { proxy_request_buffering off; proxy_pass http://127.0.0.1:${a}; }
    location /ka/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://fz; }
    location /kanb/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_request_buffering off; proxy_pass http://fz; }
    location /gone/ { proxy_pass http://127.0.0.1:${gone}; }
    location /two/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_next_upstream error timeout invalid_header; proxy_pass http://two; }
    location = /probe { content_by_js_block { const m = await import(${JSON.stringify(PROBE)}); ngx.print(String(m.engineSocketCount())); } }
    location = /ok { return 200 "ok\\n"; }
  }
}
`, { env: asanEnv(), timeoutMs: 60_000 });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
    await up?.close();
  });

  it('every client gets the answer nginx would give; the worker lives on, leaks no connection, and no sanitizer reports', async () => {
    const r = rng(SEED);
    const cases: Case[] = [];
    for (let id = 1; id <= CASES; id++) {
      const c = makeCase(r, id);
      up.scripts.set(id, c.scripts);
      if (ONLY.size === 0 || ONLY.has(id)) cases.push(c);
    }
    const failures: Array<{ id: number; raced: boolean; text: string }> = [];
    let next = 0;
    const kinds = new Map<string, number>();
    const runner = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const { data, timedOut } = await exchange(port, c);
        const got = parseAnswer(data, c.req === 'head');
        kinds.set(`${c.expect.t} -> ${got.status}`, (kinds.get(`${c.expect.t} -> ${got.status}`) ?? 0) + 1);
        if (process.env.UPFUZZ_SHOW && got.status < 0) console.log(`case ${c.id} ${c.req} ${c.loc} ${c.label}: empty close`);
        const why = timedOut ? 'no answer and no close in 10 s' : mismatch(c.expect, got);
        if (why !== null) failures.push({ id: c.id, raced: got.status === 502 || got.status === 504, text: `case ${c.id} (${c.req} ${c.loc}, ${c.label}): ${why}` });
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, runner));
    console.log(`upstream fuzz, seed ${SEED}: ${cases.length} cases, ${up.accepted()} upstream connections;`, Object.fromEntries([...kinds].sort()));
    // A request on a connection the upstream had closed after a whole answer (up.raced) may get
    // 502 / 504; a deaf upstream reads such a request only when it listens again (3 s later).
    if (failures.some((f) => f.raced)) await new Promise((res) => setTimeout(res, 3500));
    const failed = failures.filter((f) => !(f.raced && up.raced.has(f.id)));
    // What the worker logged about the first failures (their URIs end with /c/<id>).
    const log = failed.length === 0 ? [] : t.errorLog().split('\n');
    for (const f of failed.slice(0, 5)) console.log(`case ${f.id}:`, log.filter((l) => l.includes(`/c/${f.id} `) || l.includes(`/c/${f.id}"`)));
    expect(failed.slice(0, 20).map((f) => f.text)).toEqual([]);

    // The worker answers, through the proxy too.
    expect((await httpGet(port, '/ok')).body).toBe('ok\n');
    const id = CASES + 1;
    up.scripts.set(id, [{ steps: [{ kind: 'write', data: Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine'), pieces: [], pause: 0 }], waitBody: true }]);
    expect((await httpGet(port, `/ka/c/${id}`)).body).toBe('fine');

    // No connection left behind: what stays open is the keepalive pools' (8 + 4), the same on both
    // sides (in the engine; TRESTY_PROXY_TRANSPORT=net, to compare, has none there).
    const onNet = process.env.TRESTY_PROXY_TRANSPORT === 'net';
    let engine = -1;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      engine = Number((await httpGet(port, '/probe')).body);
      if (up.open() <= 12 && (onNet || up.open() === engine)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(up.open()).toBeLessThanOrEqual(12);
    if (!onNet) expect(engine).toBe(up.open());

    expect(t.stderr).not.toMatch(SANITIZER_REPORT);
    expect(t.events.filter((e) => e.tresty === 'worker-exit')).toEqual([]);
  }, 240_000);
});
