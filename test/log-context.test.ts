// The context nginx appends to an error-log line about a request, on both engines, read from the
// real logs/error.log: `, client: A, server: NAME, request: "LINE"` then `subrequest:`,
// `upstream:`, `host:`, `referrer:` where they apply, in that order; `server:` printed even when
// empty (no server_name), and the listen address before a request has begun. The same lines are
// checked on nginx + lua-nginx-module where their Lua form exists.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';

/** Sends bytes, waits for the server to close (or `ms`), so its log line is written. */
function rawExchange(port: number, bytes: string, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', () => undefined);
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(); };
    const t = setTimeout(done, ms);
    s.on('close', done);
    s.on('error', done);
  });
}

/** A port nothing listens on (for an upstream that refuses). */
async function deadPort(): Promise<number> { return freePort(); }

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface Target { port: number; log: () => string }

/** The checks shared by tresty (both engines) and nginx: `lua` picks the Lua wording. */
function sharedChecks(get: () => Target, lua: boolean): void {
  const said = lua ? /\[lua\] [^,]*: x/ : /\[js\] [^,]*: x/;
  it('a handler\'s line in a server with no server_name: `server: ` is there, empty', async () => {
    const { port, log } = get();
    await httpGet(port, '/log', { headers: { Host: 'h.test' } });
    const text = await eventually(log, /: x, client: [^\n]*GET \/log /);
    expect(text).toMatch(new RegExp(`${said.source}, client: 127\\.0\\.0\\.1, server: , request: "GET /log HTTP/1\\.1", host: "h\\.test"\\n`));
  });

  it('referrer comes last, after host', async () => {
    const { port, log } = get();
    await httpGet(port, '/log?ref', { headers: { Host: 'h.test', Referer: 'http://r.test/x' } });
    const text = await eventually(log, /GET \/log\?ref /);
    expect(text).toMatch(/, client: 127\.0\.0\.1, server: , request: "GET \/log\?ref HTTP\/1\.1", host: "h\.test", referrer: "http:\/\/r\.test\/x"\n/);
  });

  it('a subrequest\'s line names the main request, then the subrequest', async () => {
    const { port, log } = get();
    await httpGet(port, '/sub', { headers: { Host: 'h.test' } });
    const text = await eventually(log, /subrequest: "\/log"/);
    expect(text).toMatch(/, client: 127\.0\.0\.1, server: , request: "GET \/sub HTTP\/1\.1", subrequest: "\/log", host: "h\.test"\n/);
  });

  it('an upstream that refuses: upstream: comes after request:, before host:', async () => {
    const { port, log } = get();
    await httpGet(port, '/up', { headers: { Host: 'h.test' } });
    const text = await eventually(log, /connect\(\) failed/);
    expect(text).toMatch(/connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: , request: "GET \/up HTTP\/1\.1", upstream: "http:\/\/127\.0\.0\.1:\d+\/up", host: "h\.test"\n/);
  });

  it('a body over client_max_body_size (413): server: and host: too', async () => {
    const { port, log } = get();
    const r = await httpGet(port, '/log', { method: 'POST', body: 'a'.repeat(40), headers: { Host: 'h.test' } });
    expect(r.status).toBe(413);
    const text = await eventually(log, /too large body/);
    expect(text).toMatch(/client intended to send too large body: 40 bytes, client: 127\.0\.0\.1, server: , request: "POST \/log HTTP\/1\.1", host: "h\.test"\n/);
  });
}

/** The Lua and JS forms of the one server block. */
function locations(lua: boolean, up: number): string {
  const by = lua ? 'lua' : 'js';
  const say = lua ? 'ngx.log(ngx.ERR, "x") ngx.say("ok")' : 'ngx.log(ngx.ERR, "x"); ngx.say("ok")';
  const sub = lua ? 'local r = ngx.location.capture("/log") ngx.print(r.body)' : 'const r = await ngx.location.capture("/log"); ngx.print(r.body)';
  return `client_max_body_size 10;
    location = /log { content_by_${by}_block { ${say} } }
    location = /sub { content_by_${by}_block { ${sub} } }
    location = /up { proxy_pass http://127.0.0.1:${up}; }`;
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'error-log context'), () => {
    let t: TrestyProcess;
    let port: number;
    let port2: number;
    beforeAll(async () => {
      port = await freePort();
      port2 = await freePort();
      const up = await deadPort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  access_log off;
  client_header_timeout 1s;
  server {
    listen 127.0.0.1:${port};
    ${locations(false, up)}
  }
  # two servers on one port, the first the default (the engine cannot tell which answers)
  server { listen 127.0.0.1:${port2}; server_name first.test; location / { return 200 "first"; } }
  server { listen 127.0.0.1:${port2}; server_name second.test; location / { content_by_js_block { ngx.say("second") } } }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });

    sharedChecks(() => ({ port, log: () => t.errorLog() }), false);

    it('a bad request line: the server and what came of the line', async () => {
      await rawExchange(port, 'GARBAGE\r\n\r\n');
      await rawExchange(port2, 'BAD-ONE\r\n\r\n');
      const text = await eventually(() => t.errorLog(), /request: "BAD-ONE"/);
      expect(text).toMatch(/client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: , request: "GARBAGE"\n/);
      // The default server of the listen socket, as nginx before it has read the Host.
      expect(text).toMatch(/client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: first\.test, request: "BAD-ONE"\n/);
    });

    it('an HTTP/0.9 request with another method than GET: the default server of the port', async () => {
      await rawExchange(port2, 'POST /x\r\n');
      const text = await eventually(() => t.errorLog(), /request: "POST \/x"/);
      expect(text).toMatch(/client sent invalid method in HTTP\/0\.9 request while reading client request line, client: 127\.0\.0\.1, server: first\.test, request: "POST \/x"\n/);
    });

    it('no request begun (client_header_timeout): the server is the listen address', async () => {
      await rawExchange(port, '', 4000);
      const text = await eventually(() => t.errorLog(), /while waiting for request/);
      expect(text).toMatch(new RegExp(`client timed out \\(110: Connection timed out\\) while waiting for request, client: 127\\.0\\.0\\.1, server: ${esc(`127.0.0.1:${port}`)}\\n`));
    });
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`error-log context on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(locations(true, await deadPort()), 'client_header_timeout 1s;'); });
  afterAll(async () => { await n?.stop(); });

  sharedChecks(() => ({ port: n.port, log: () => n.errorLog() }), true);

  it('a bad request line; an HTTP/0.9 POST; no request begun', async () => {
    await rawExchange(n.port, 'GARBAGE\r\n\r\n');
    await rawExchange(n.port, 'POST /x\r\n');
    await rawExchange(n.port, '', 4000);
    const text = await eventually(() => n.errorLog(), /while waiting for request/);
    expect(text).toMatch(/client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: , request: "GARBAGE"\n/);
    expect(text).toMatch(/client sent invalid method in HTTP\/0\.9 request while reading client request line, client: 127\.0\.0\.1, server: , request: "POST \/x"\n/);
    expect(text).toMatch(new RegExp(`while waiting for request, client: 127\\.0\\.0\\.1, server: ${esc(`127.0.0.1:${n.port}`)}\\n`));
  });
});
