// Regression tests for what the hostile-upstream fuzz (engine-upstream-fuzz.test.ts) and its
// review found, each case alone and deterministic: an upstream that breaks its answer after the
// head was kept, one that falls silent mid-answer while the request body still streams to it, one
// that answers 101 Switching Protocols unasked, one whose Content-Length overflows a number, and
// one with a NUL or a lone CR in a header.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx } from './helpers/nginx.js';
import { freePort, startTresty, stopAll, type TrestyProcess } from './helpers/server.js';
import { eventually, startRaw } from './helpers/upstream.js';

let t: TrestyProcess;
let port: number;
const ups: Array<{ close(): Promise<void> }> = [];
let second: { connections: number };

afterAll(async () => {
  await stopAll();
  await Promise.all(ups.map((u) => u.close()));
});

/** Sends `req`, reads until the connection closes; `ms`: how long that took. */
function exchange(req: string | Buffer, timeoutMs = 8000, to = port): Promise<{ text: string; ms: number; timedOut: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(to, '127.0.0.1');
    const got: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; s.destroy(); }, timeoutMs);
    s.on('error', () => { /* a reset after a cut answer */ });
    s.on('data', (b: Buffer) => got.push(b));
    s.on('close', () => { clearTimeout(timer); resolve({ text: Buffer.concat(got).toString('latin1'), ms: Date.now() - t0, timedOut }); });
    s.write(req);
  });
}

beforeAll(async () => {
  // A chunked answer whose framing breaks after its first chunk.
  const badChunk = await startRaw((s) => s.once('data', () => {
    s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
  }));
  const good = await startRaw((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond')));
  second = good;
  // Half of a 100 KB answer at once, after the request's head (not its body), then nothing.
  const silent = await startRaw((s) => {
    let head = '';
    const onData = (b: Buffer): void => {
      head += b.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.on('data', () => { /* the body: read, never answered */ });
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'s'.repeat(50_000)}`);
    };
    s.on('data', onData);
  });
  // Answers /first with 101 Switching Protocols (not asked for), anything else with its connection's number.
  let conns = 0;
  const switching = await startRaw((s) => {
    const me = ++conns;
    s.on('data', (b: Buffer) => {
      if (b.toString('latin1').includes(' /sw/first ')) s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n');
      else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${`conn ${me}`.length}\r\n\r\nconn ${me}`);
    });
  });
  // A length no number holds exactly (30 digits).
  const hugeLength = await startRaw((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000000000000000\r\n\r\nhello')));
  // A header value with a NUL (/nul) or a lone CR (/cr) in it.
  const badByte = await startRaw((s) => s.once('data', (b: Buffer) => {
    const h = b.toString('latin1').includes(' /bad-byte/nul ') ? 'X-Nul: a\x00b' : 'X-Cr: a\rb';
    s.end(Buffer.from(`HTTP/1.1 200 OK\r\n${h}\r\nContent-Length: 5\r\n\r\nhello`, 'latin1'));
  }));
  ups.push(badChunk, good, silent, switching, hugeLength, badByte);
  port = await freePort();
  t = await startTresty(`
worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  proxy_read_timeout 1s;
  upstream sw { server 127.0.0.1:${switching.port}; keepalive 4; }
  upstream badthengood { server 127.0.0.1:${badChunk.port}; server 127.0.0.1:${good.port}; }
  server {
    listen 127.0.0.1:${port};
    location /bad/ { proxy_pass http://127.0.0.1:${badChunk.port}; }
    location /bad-nb/ { proxy_buffering off; proxy_pass http://127.0.0.1:${badChunk.port}; }
    location /next/ { proxy_next_upstream error timeout invalid_header; proxy_pass http://badthengood; }
    location /plain/ { proxy_pass http://127.0.0.1:${good.port}; }
    location /plain-js/ { header_filter_by_js_block { ngx.header['X-Seen'] = 'yes'; } proxy_pass http://127.0.0.1:${good.port}; }
    location /huge-length/ { proxy_pass http://127.0.0.1:${hugeLength.port}; }
    location /bad-byte/ { proxy_pass http://127.0.0.1:${badByte.port}; }
    location /sw/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://sw; }
    location /silent/ { proxy_http_version 1.1; proxy_request_buffering off; proxy_pass http://127.0.0.1:${silent.port}; }
  }
}
`);
});

describe('an upstream answer without a Content-Type', () => {
  it('gets none added (nginx 1.22.1 adds no default_type to a proxied answer), with or without a header filter', async () => {
    for (const loc of ['/plain/', '/plain-js/']) {
      const r = await exchange(`GET ${loc}x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      expect(r.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.text).toMatch(/\r\n\r\nsecond$/);
      expect(r.text.toLowerCase()).not.toContain('content-type');
    }
  });
});

describe('an upstream that breaks its answer after the head', () => {
  it('bad chunk framing after the first chunk: the client sees the response cut, never a finished one', async () => {
    for (const loc of ['/bad/', '/bad-nb/']) {
      const r = await exchange(`GET ${loc}x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      expect(r.timedOut).toBe(false);
      // nginx 1.22.1 here: the head (or nothing) and a close, no last chunk.
      expect(r.text).not.toMatch(/\r\n0\r\n\r\n$/);
      expect(r.text).not.toMatch(/^HTTP\/1\.1 502/);
    }
    await eventually(() => t.errorLog(), /upstream sent invalid chunked response/);
    expect(t.errorLog()).toMatch(/upstream sent invalid chunked response/);
  });

  it('once its head went to the client, a broken answer is not followed by the next server\'s', async () => {
    // Round robin: the first request's first try is on the breaking server.
    const before = second.connections;
    const r = await exchange('GET /next/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(r.timedOut).toBe(false);
    expect(r.text).not.toContain('second');
    expect(r.text).not.toMatch(/\r\n0\r\n\r\n$/);
    expect(second.connections).toBe(before);
  });
});

describe('an upstream that answers before the request body is sent', () => {
  it('and then falls silent: proxy_read_timeout ends the answer, though the body came after its head', async () => {
    // The body streams (proxy_request_buffering off): its end is sent only once the answer's
    // head is here, so the whole request went out after the head came.
    const r = await new Promise<{ text: string; timedOut: boolean }>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let text = '';
      let rest = false;
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; s.destroy(); }, 8000);
      s.on('error', () => { /* a reset after a cut answer */ });
      s.on('data', (b: Buffer) => {
        text += b.toString('latin1');
        if (!rest && text.includes('\r\n\r\n')) {
          rest = true;
          s.write(`5\r\nworld\r\n0\r\n\r\n`);
        }
      });
      s.on('close', () => { clearTimeout(timer); resolve({ text, timedOut }); });
      s.write('POST /silent/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    });
    expect(r.timedOut).toBe(false);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.text.length).toBeLessThan(100_000);
    await eventually(() => t.errorLog(), /upstream timed out \(110: Connection timed out\) while reading upstream/);
    expect(t.errorLog()).toMatch(/upstream timed out \(110: Connection timed out\) while reading upstream/);
  });
});

describe('an upstream that switches protocols unasked', () => {
  it('its connection is never pooled: the next request goes on a new one (as nginx 1.22.1)', async () => {
    const first = await exchange('GET /sw/first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(first.timedOut).toBe(false);
    expect(first.text).toMatch(/^HTTP\/1\.1 101 /);
    const second = await exchange('GET /sw/second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(second.text).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nconn 2$/);
  });
});

describe('an upstream that sends a length past what a number holds exactly', () => {
  it('is refused as an invalid Content-Length (502), never passed on to the client', async () => {
    const r = await exchange('GET /huge-length/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(r.timedOut).toBe(false);
    expect(r.text).toMatch(/^HTTP\/1\.1 502 /);
    expect(r.text).not.toContain('1000000000000000000000000000000');
    await eventually(() => t.errorLog(), /upstream sent invalid "Content-Length" header/);
    expect(t.errorLog()).toMatch(/upstream sent invalid "Content-Length" header while reading response header from upstream/);
  });
});

describe('an upstream that sends a NUL or a lone CR in a header', () => {
  it('is refused as an invalid header (502), as nginx 1.22.1 does, not passed on escaped', async () => {
    for (const what of ['nul', 'cr']) {
      const r = await exchange(`GET /bad-byte/${what} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      expect(r.timedOut).toBe(false);
      expect(r.text).toMatch(/^HTTP\/1\.1 502 /);
      expect(r.text).not.toMatch(/X-(Nul|Cr)/);
    }
    await eventually(() => t.errorLog(), /upstream sent invalid header while reading response header from upstream/);
    expect(t.errorLog()).toMatch(/upstream sent invalid header while reading response header from upstream/);
  });
});

/**
 * An upstream that sends its head, pauses, then breaks before any body byte (closes short of its
 * Content-Length; a bad first chunk): nginx 1.22.1 has sent the head by then (proxy_buffering on
 * with a Content-Length, or off), so the client sees the head, no body, then the close. Both
 * engines hold a head for the first body bytes; the cut sends it first.
 */
const PAUSED = (mode: 'length' | 'chunk'): ((s: net.Socket) => void) => (s) => s.once('data', () => {
  s.write(mode === 'length' ? 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nX-Up: 1\r\n\r\n' : 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n');
  setTimeout(() => (mode === 'length' ? s.end() : s.end('zz\r\n')), 300);
});

async function pausedLocations(): Promise<string> {
  const len = await startRaw(PAUSED('length'));
  const chunk = await startRaw(PAUSED('chunk'));
  ups.push(len, chunk);
  return `location /len/ { proxy_pass http://127.0.0.1:${len.port}; }
    location /len-nb/ { proxy_buffering off; proxy_pass http://127.0.0.1:${len.port}; }
    location /chunk-nb/ { proxy_buffering off; proxy_pass http://127.0.0.1:${chunk.port}; }`;
}

function pausedChecks(to: () => number): void {
  it('an upstream that breaks after a pause behind its head: the client gets the head, no body, then the close', async () => {
    for (const loc of ['/len/', '/len-nb/', '/chunk-nb/']) {
      const r = await exchange(`GET ${loc}x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, 8000, to());
      expect(r.timedOut, loc).toBe(false);
      expect(r.text, loc).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(r.text, loc).toMatch(/\r\nX-Up: 1\r\n/);
      expect(r.text.endsWith('\r\n\r\n'), loc).toBe(true);
    }
  });
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'a cut answer whose head was held for its body'), () => {
    let p = 0;
    beforeAll(async () => {
      p = await freePort();
      await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${p};
    ${await pausedLocations()}
  }
}
`, { env: e.env });
    });
    pausedChecks(() => p);
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`a cut answer whose head was held for its body, on nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Awaited<ReturnType<typeof startNginx>>;
  beforeAll(async () => { n = await startNginx(await pausedLocations()); });
  afterAll(async () => { await n?.stop(); });
  pausedChecks(() => n.port);
});
