// The native engine's limits and timeouts, through the real server, with nginx's answers and log
// lines: large_client_header_buffers (414, the 494 page), client_max_body_size (413 before the body,
// also chunked, then the connection closes), HTTP/0.9 answered at once, keepalive_requests, and
// the client_header / client_body / send / keepalive timeouts with reset_timedout_connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, statuses } from './helpers/conn.js';
import { ENGINE_BUILT } from './helpers/engine.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

const conf = (port: number, extra = ''): string => `
worker_processes 1;
error_log logs/error.log info;
http {
  access_log off;
  client_header_timeout 1s;
  client_body_timeout 1s;
  send_timeout 1s;
  keepalive_timeout 1s;
  keepalive_requests 3;
  lingering_timeout 1s;
  large_client_header_buffers 2 1k;
  client_max_body_size 10;
  ${extra}
  server {
    listen 127.0.0.1:${port};
    location = /read { content_by_js_block { await ngx.req.read_body(); ngx.say("read ", (ngx.req.get_body_data() ?? "").length); } }
    location = /big { content_by_js_block { ngx.print("x".repeat(32 * 1024 * 1024)); } }
    location / { return 200 "ok\\n"; }
  }
}
`;

describe.skipIf(!ENGINE_BUILT)(`native engine limits${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(port));
  });
  afterAll(async () => { await t?.stop(); });

  it('a request line past large_client_header_buffers is 414, a header line past it 400 (nginx\'s 494 page)', async () => {
    const uri = await raw(port, [`GET /${'a'.repeat(1500)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(statuses(uri.data)).toEqual([414]);
    expect(uri.data).toContain('<title>414 Request-URI Too Large</title>');
    expect(uri.closed).toBe(true);
    const hdr = await raw(port, [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(1500)}\r\n\r\n`]);
    expect(statuses(hdr.data)).toEqual([400]);
    expect(hdr.data).toContain('<title>400 Request Header Or Cookie Too Large</title>');
    expect(hdr.closed).toBe(true);
    await expect.poll(() => t.errorLog()).toMatch(/\[info\] \d+#0: \*\d+ client sent too long header line.* while reading client request headers, client: 127\.0\.0\.1/);
  });

  it('a Content-Length over client_max_body_size is 413 at once, and the connection closes', async () => {
    const r = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789'], { timeoutMs: 4000 });
    expect(statuses(r.data)).toEqual([413]);
    expect(r.data).toMatch(/\r\nConnection: close\r\n/);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(3000);
  });

  it('a chunked body that grows past client_max_body_size is 413, and the connection closes (issue 11, 8)', async () => {
    const r = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '8\r\n01234567\r\n', '8\r\n89abcdef\r\n'], { gapMs: 50, timeoutMs: 6000 });
    expect(statuses(r.data)).toEqual([413]);
    expect(r.data).toMatch(/\r\nConnection: close\r\n/);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(4000); // lingering_timeout 1s, not keepalive_timeout or longer
    await expect.poll(() => t.errorLog()).toMatch(/client intended to send too large chunked body: \d+\+\d+ bytes/);
  });

  it('a body within the limit is read, chunked or not', async () => {
    const cl = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', 'hello'], { gapMs: 30 });
    expect(cl.data).toMatch(/read 5\n/);
    const ch = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n', '2\r\nde\r\n0\r\n\r\n'], { gapMs: 30 });
    expect(ch.data).toMatch(/read 5\n/);
  });

  it('Expect: 100-continue gets "100 Continue" when the handler reads the body', async () => {
    const r = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'abc'], { gapMs: 300 });
    expect(statuses(r.data)).toEqual([100, 200]);
    expect(r.data).toMatch(/read 3\n/);
  });

  it('an HTTP/0.9 request is answered at once, without a status line, and closed (issue 11, 8)', async () => {
    const r = await raw(port, ['GET /\r\n'], { timeoutMs: 5000 });
    expect(r.data).toBe('ok\n');
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(2000);
  });

  it('keepalive_requests: the third answer on a connection closes it', async () => {
    const r = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3)], { timeoutMs: 5000 });
    expect(statuses(r.data)).toEqual([200, 200, 200]);
    expect(r.data.split('HTTP/1.1').at(-1)).toMatch(/Connection: close/);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(1500);
  });

  it('keepalive_timeout closes an idle connection', async () => {
    const r = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 5000 });
    expect(statuses(r.data)).toEqual([200]);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(800);
    expect(r.ms).toBeLessThan(4000);
  });

  it('client_header_timeout closes a connection whose head does not come, without an answer', async () => {
    const r = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n'], { timeoutMs: 5000 });
    expect(r.data).toBe('');
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(800);
    await expect.poll(() => t.errorLog()).toMatch(/\[info\] \d+#0: \*\d+ client timed out \(110: Connection timed out\) while reading client request headers, client: 127\.0\.0\.1/);
  });

  it('client_body_timeout closes a connection whose body stops coming', async () => {
    const r = await raw(port, ['POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'], { timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(800);
    expect(r.ms).toBeLessThan(4000);
  });

  it('send_timeout gives up on a client that stops reading, with nginx\'s [info] line', async () => {
    const { default: net } = await import('node:net');
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
      s.pause(); // never read: the server's writes stall
    });
    s.on('error', () => {});
    try {
      await expect.poll(() => t.errorLog(), { timeout: 8000 }).toMatch(
        /\[info\] \d+#0: \*\d+ client timed out \(110: Connection timed out\) while sending response to client, client: 127\.0\.0\.1, server: [^,]*, request: "GET \/big HTTP\/1\.1"/);
    } finally {
      s.destroy();
    }
  });
});

describe.skipIf(!ENGINE_BUILT)(`reset_timedout_connection${ENGINE_BUILT ? '' : ' (skipped: the native engine is not built)'}`, () => {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(conf(port, 'reset_timedout_connection on;'));
  });
  afterAll(async () => { await t?.stop(); });

  it('resets a timed-out connection instead of closing it', async () => {
    const r = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n'], { timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.reset).toBe(true);
  });
});
