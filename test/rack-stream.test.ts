// tresty/rack streaming through real HTTP: a response body produced as an async iterable goes out
// chunk by chunk (chunked encoding, body_filter_by_js per chunk, each chunk before the next is
// produced), and a 50 MB request body streams through a counting middleware in little memory.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confFor, errorLogOf } from './helpers/phases-harness.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const files: Record<string, string> = {
  'js/chunks.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
// Wraps whatever body comes back, chunk by chunk, without buffering it.
r.use(async (req, next) => {
  const res = await next();
  const inner = res.body;
  res.body = (async function* () {
    let n = 0;
    for await (const c of rack.chunks(inner)) { n++; yield Buffer.from(c + ';'); }
    yield 'total=' + n;
  })();
  return res;
});
r.use(async (req, next) => {
  const res = await next();
  res.body = (async function* () {
    for (let i = 0; i < 1000; i++) { if (i % 100 === 0) await new Promise((r) => setImmediate(r)); yield String(i); }
  })();
  return res;
});
export default r.handler();
`,
  // /slow sends "first", then waits until /release is requested (same worker, module state).
  'js/slow.mjs': `import { rack } from 'tresty/rack';
let release = null;
const r = rack.new();
r.use(async (req, next) => {
  if (req.path === '/release') {
    const ok = release !== null;
    release?.();
    return { body: ok ? 'released' : 'nothing to release' };
  }
  const res = await next();
  res.body = (async function* () {
    yield 'first\\n';
    await new Promise((resolve) => { release = resolve; });
    yield 'second\\n';
  })();
  return res;
});
export default r.handler();
`,
  // Samples the worker's RSS on every chunk. With `x-gc: 1` (and --expose-gc) it also collects
  // garbage every 32 chunks, so the peak shows what is live rather than what GC has not freed yet.
  'js/upload.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
// Counts the request body as it passes to the inner middleware.
r.use(async (req, next) => {
  let n = 0;
  const src = req.stream();
  req.body = (async function* () { for await (const c of src) { n += c.byteLength; yield c; } })();
  const res = await next();
  res.headers['X-Counted'] = String(n);
  return res;
});
r.use(async (req, next) => {
  const gc = req.headers['x-gc'] ? globalThis.gc : undefined;
  gc?.();
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  let chunks = 0;
  for await (const c of req.stream()) {
    if (++chunks % 32 === 0) gc?.();
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  const res = await next();
  res.body = JSON.stringify({ rss0, peak, chunks });
  return res;
});
export default r.handler();
`,
  // The control: the same body read whole, to show the measurement sees buffering.
  'js/upload-buffered.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  globalThis.gc?.();
  const rss0 = process.memoryUsage.rss();
  const body = await req.body;
  globalThis.gc?.();
  const peak = Math.max(rss0, process.memoryUsage.rss());
  const res = await next();
  res.body = JSON.stringify({ rss0, peak, length: body.length });
  return res;
});
export default r.handler();
`,
  'js/early.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req) => {
  if (req.path !== '/early') return { body: 'next one' };
  let first = 0;
  for await (const c of req.stream()) { first = c.byteLength; break; }
  return { status: 400, body: 'stopped after ' + (first > 0 ? 'one chunk' : 'nothing') };
});
export default r.handler();
`,
  // An endless ticker: its generator's finally says where it stopped (read by /ticker-state).
  'js/ticker.mjs': `import { rack } from 'tresty/rack';
let stoppedAt = -1;
const r = rack.new();
r.use(async (req) => {
  if (req.path === '/ticker-state') return { body: String(stoppedAt) };
  return { body: (async function* () {
    let i = 0;
    try {
      for (; i < 500; i++) { yield 'tick ' + i + '\\n'; await new Promise((resolve) => setTimeout(resolve, 20)); }
    } finally { stoppedAt = i; }
  })() };
});
export default r.handler();
`,
  'js/broken.mjs': `import { rack } from 'tresty/rack';
const r = rack.new();
r.use(async (req, next) => {
  const res = await next();
  res.body = (async function* () {
    yield 'partial\\n';
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new RangeError('producer failed');
  })();
  return res;
});
export default r.handler();
`,
};

const conf = `
location = /chunks {
  content_by_js_file js/chunks.mjs;
  body_filter_by_js_block { if (ngx.arg[1] !== '') ngx.arg[1] = '[' + ngx.arg[1] + ']'; }
}
location = /slow { content_by_js_file js/slow.mjs; }
location = /release { content_by_js_file js/slow.mjs; }
location = /early { client_max_body_size 0; content_by_js_file js/early.mjs; }
location = /after-early { content_by_js_file js/early.mjs; }
location = /broken { content_by_js_file js/broken.mjs; }
location = /ticker { content_by_js_file js/ticker.mjs; }
location = /ticker-state { content_by_js_file js/ticker.mjs; }
location = /upload { client_max_body_size 0; content_by_js_file js/upload.mjs; }
location = /upload-buffered { client_max_body_size 0; client_body_buffer_size 64m; content_by_js_file js/upload-buffered.mjs; }
location = /upload-file { client_max_body_size 0; content_by_js_file js/upload-buffered.mjs; }
`;

interface Streamed { status: number; headers: http.IncomingHttpHeaders; body: string }

/** GET that calls `onChunk` with each piece of body as it arrives. */
function getStreamed(port: number, path: string, onChunk: (s: string) => void = () => {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; onChunk(d); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${path}`)));
  });
}

/** POSTs `total` bytes in 64 KiB writes, waiting for drain (the client never holds the whole body). */
function postBytes(port: number, path: string, total: number, headers: Record<string, string> = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { ...headers, 'content-length': String(total) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer to POST ${path}`)));
    const piece = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(piece.length, total - sent);
        sent += n;
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
}

const MB = 1024 * 1024;

describe('rack streaming', () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    // --expose-gc lets the upload handler separate live memory from garbage not collected yet.
    t = await startTresty(confFor(port, {}, [{ name: 'stream', conf, requests: [] }]), { files, env: { NODE_OPTIONS: '--expose-gc' } });
  });
  afterAll(async () => { await t?.stop(); });

  it('1,000 chunks arrive in order, chunked, each through body_filter_by_js and a wrapping middleware', async () => {
    const res = await getStreamed(port, '/chunks');
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    const expected = Array.from({ length: 1000 }, (_, i) => `[${i};]`).join('') + '[total=1000]';
    expect(res.body).toBe(expected);
  });

  it('a client that goes away stops the producer: no chunk is pulled after the failed flush, its finally runs', async () => {
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET /ticker HTTP/1.1\r\nHost: h\r\n\r\n'));
      let got = '';
      c.setEncoding('latin1');
      c.on('error', reject);
      c.on('data', (d: string) => { got += d; if (got.includes('tick 3\n')) { c.destroy(); resolve(); } });
    });
    let at = -1;
    await expect.poll(async () => (at = Number((await getStreamed(port, '/ticker-state')).body)), { timeout: 5000, interval: 100 }).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(100);
  });

  it('each chunk is sent before the next is produced', async () => {
    // The producer waits for /release after its first chunk; the client asks for /release only
    // once it has that chunk. If chunks were held back, this would never finish.
    let asked: Promise<Streamed> | null = null;
    const res = await getStreamed(port, '/slow', (s) => {
      if (asked === null && s.includes('first')) asked = getStreamed(port, '/release');
    });
    expect(res.body).toBe('first\nsecond\n');
    expect((await asked!)?.body).toBe('released');
  });

  it('a producer that fails after the first chunk stops the response there and is logged', async () => {
    let got = '';
    // The connection is cut after the first chunk, so the client can tell the body is incomplete.
    await expect(getStreamed(port, '/broken', (s) => { got += s; })).rejects.toThrow();
    expect(got).toBe('partial\n');
    await expect.poll(() => errorLogOf(t)).toMatch(/js entry thread aborted: runtime error: \S*js\/broken\.mjs:\d+: RangeError: producer failed \(TRESTY_ERR_HANDLER\)/);
  });

  it('a 50 MB request body streams through a counting middleware while the worker stays far below 50 MB', async () => {
    const size = 50 * MB;
    const report = (what: string, m: { rss0: number; peak: number }): number => {
      const growth = (m.peak - m.rss0) / MB;
      console.log(`rack ${what}: worker RSS ${(m.rss0 / MB).toFixed(1)} MB -> peak ${(m.peak / MB).toFixed(1)} MB (+${growth.toFixed(1)} MB)`);
      return growth;
    };

    // What is live (first, in a fresh worker): with garbage collected as it goes, the body never
    // shows up.
    const live = await postBytes(port, '/upload', size, { 'x-gc': '1' });
    expect(live.status).toBe(200);
    expect(live.headers['x-counted']).toBe(String(size));
    expect(report('streamed 50 MB, GC every 32 chunks', JSON.parse(live.body))).toBeLessThan(10);

    // As it runs for real: the growth is garbage not collected yet (Node alone shows about the
    // same), bounded whatever the body's size.
    const plain = await postBytes(port, '/upload', size);
    expect(plain.headers['x-counted']).toBe(String(size));
    const p = JSON.parse(plain.body) as { rss0: number; peak: number; chunks: number };
    expect(p.chunks).toBeGreaterThan(50);
    expect(report(`streamed 50 MB in ${p.chunks} chunks`, p)).toBeLessThan(40);

    // Control: the same body read whole in memory (client_body_buffer_size 64m: else it would be
    // in a temp file, as nginx keeps it), measured the same way, shows up in full.
    const buffered = await postBytes(port, '/upload-buffered', size);
    const b = JSON.parse(buffered.body) as { rss0: number; peak: number; length: number };
    expect(b.length).toBe(size);
    expect(report('buffered 50 MB (await req.body), after GC', b)).toBeGreaterThan(45);
  }, 60_000);

  it('await req.body of a body past client_body_buffer_size (kept in a temp file) is the whole body', async () => {
    const a = await postBytes(port, '/upload-file', 3 * MB);
    expect(a.status).toBe(200);
    expect((JSON.parse(a.body) as { length: number }).length).toBe(3 * MB);
  });

  it('a middleware that stops reading the body early answers, and the rest is discarded', async () => {
    // One connection: the 5 MB upload, then a second request behind it. The second is answered
    // only if the server reads past the body the middleware left.
    const size = 5 * MB;
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = '';
      sock.setEncoding('latin1');
      sock.on('data', (d: string) => { got += d; });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
      sock.setTimeout(15_000, () => sock.destroy(new Error(`stuck; so far: ${got}`)));
      sock.write(`POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
      sock.write(Buffer.alloc(size, 'x'));
      sock.write('GET /after-early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('stopped after one chunk');
    expect(raw).toMatch(/HTTP\/1\.1 200 [^]*next one$/);
  });
});
