// ngx.req.socket(true), the raw full-duplex request socket, on both engines and on real nginx 1.22 +
// lua-nginx-module 0.10.23 with the same expectations: the handlers are written twice (Lua, JS)
// and send or log the same text. What nginx did decided every expectation here (observed
// 2026-12-02): the head sent before (status 101, send_headers, flush(true)) goes out once, then
// only the handler's bytes; without a head nginx sends none; output not flushed is dropped; the
// client closing gives "closed" with the partial data and sends still work; a timeout gives the
// partial data and consumes it; after the request "closed"; a second call "duplicate call"; in
// rewrite_by the request ends with the handler (content never runs); no keep-alive after.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, startTresty, type TrestyProcess } from './helpers/server.js';

interface Handler { lua: string; js: string }

// JS's f(r): a result array printed as Lua's tostring prints its values, joined by '|'.
const F = "const f = (r) => [0, 1, 2].map((i) => (r[i] === null || r[i] === undefined ? 'nil' : String(r[i]))).join('|');";
const LF = 'local function f(a, b, c) return tostring(a) .. "|" .. tostring(b) .. "|" .. tostring(c) end';
const OK_HEAD = 'HTTP/1.1 200 OK\\r\\nConnection: close\\r\\n\\r\\n';

const HANDLERS: Record<string, Handler> = {
  // The websocket server's sequence: 101 and its headers sent, then the raw socket both ways.
  ws: {
    lua: `ngx.status = 101 ngx.header["Upgrade"] = "websocket" ngx.header["Sec-WebSocket-Accept"] = "abc" ngx.send_headers() ngx.flush(true)
      ${LF} local s = ngx.req.socket(true)
      s:send("r5[" .. f(s:receive(5)) .. "]") s:send("any[" .. f(s:receiveany(100)) .. "]")
      local it = s:receiveuntil("END") s:send("until[" .. f(it()) .. "]")
      s:settimeout(300) s:send("to[" .. f(s:receive(10)) .. "]")
      s:send({"a", {"b", 1}}) s:send(string.char(0, 255, 10))
      s:settimeout(5000) local c = f(s:receive(100)) s:send("after[" .. c .. "]")`,
    js: `ngx.status = 101; ngx.header['Upgrade'] = 'websocket'; ngx.header['Sec-WebSocket-Accept'] = 'abc'; ngx.send_headers(); await ngx.flush(true);
      ${F} const [s] = ngx.req.socket(true);
      await s.send('r5[' + f(await s.receive(5)) + ']'); await s.send('any[' + f(await s.receiveany(100)) + ']');
      const it = s.receiveuntil('END'); await s.send('until[' + f(await it()) + ']');
      s.settimeout(300); await s.send('to[' + f(await s.receive(10)) + ']');
      await s.send(['a', ['b', 1]]); await s.send(new Uint8Array([0, 255, 10]));
      s.settimeout(5000); const c = f(await s.receive(100)); await s.send('after[' + c + ']');`,
  },
  nohead: {
    lua: 'local s = ngx.req.socket(true) s:send("HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n")',
    js: "const [s] = ngx.req.socket(true); await s.send('HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n');",
  },
  pending: {
    lua: 'ngx.say("x") local s, err = ngx.req.socket(true) ngx.log(ngx.ERR, "pending [", tostring(s ~= nil), " ", tostring(err), "]") ngx.say("after")',
    js: "ngx.say('x'); const [s, err] = ngx.req.socket(true); ngx.log(ngx.ERR, 'pending [', String(s !== null), ' ', err ?? 'nil', ']'); ngx.say('after');",
  },
  flushed: {
    lua: 'ngx.say("x") ngx.flush(true) local s = ngx.req.socket(true) s:send("raw\\n")',
    js: "ngx.say('x'); await ngx.flush(true); const [s] = ngx.req.socket(true); await s.send('raw\\n');",
  },
  body: {
    lua: `${LF} local s = ngx.req.socket(true) local r = f(s:receive(9)) s:send("${OK_HEAD}[" .. r .. "]\\n")`,
    js: `${F} const [s] = ngx.req.socket(true); const r = f(await s.receive(9)); await s.send('${OK_HEAD}[' + r + ']\\n');`,
  },
  readbody: {
    lua: `${LF} ngx.req.read_body() local s = ngx.req.socket(true) s:settimeout(300) local r = f(s:receive(4)) s:send("${OK_HEAD}[" .. r .. "] " .. tostring(ngx.req.get_body_data()) .. "\\n")`,
    js: `${F} await ngx.req.read_body(); const [s] = ngx.req.socket(true); s.settimeout(300); const r = f(await s.receive(4)); await s.send('${OK_HEAD}[' + r + '] ' + (ngx.req.get_body_data() ?? 'nil') + '\\n');`,
  },
  twice: {
    lua: `local s = ngx.req.socket(true) local s2, e2 = ngx.req.socket(true) local s3, e3 = ngx.req.socket() s:send("${OK_HEAD}" .. tostring(s2) .. " " .. tostring(e2) .. " " .. tostring(s3) .. " " .. tostring(e3) .. "\\n")`,
    js: `const [s] = ngx.req.socket(true); const [s2, e2] = ngx.req.socket(true); const [s3, e3] = ngx.req.socket(); await s.send('${OK_HEAD}' + (s2 ?? 'nil') + ' ' + e2 + ' ' + (s3 ?? 'nil') + ' ' + e3 + '\\n');`,
  },
  chunked: {
    lua: `local s = ngx.req.socket(true) local d = s:receive(8) s:send("${OK_HEAD}[" .. d .. "]")`,
    js: `const [s] = ngx.req.socket(true); const [d] = await s.receive(8); await s.send('${OK_HEAD}[' + d + ']');`,
  },
  gone: {
    lua: `${LF} local s = ngx.req.socket(true) local a = f(s:receive(10)) local b = f(s:receive(1)) local n, e = s:send("zz") ngx.log(ngx.ERR, "gone [", a, " ", b, " ", tostring(n), "|", tostring(e), "]")`,
    js: `${F} const [s] = ngx.req.socket(true); const a = f(await s.receive(10)); const b = f(await s.receive(1)); const [n, e] = await s.send('zz'); ngx.log(ngx.ERR, 'gone [', a, ' ', b, ' ', n ?? 'nil', '|', e ?? 'nil', ']');`,
  },
  clto: {
    lua: `${LF} local s = ngx.req.socket(true) s:settimeout(300) local a = f(s:receive(10)) local b = f(s:receive(2)) s:send("${OK_HEAD}" .. a .. " " .. b)`,
    js: `${F} const [s] = ngx.req.socket(true); s.settimeout(300); const a = f(await s.receive(10)); const b = f(await s.receive(2)); await s.send('${OK_HEAD}' + a + ' ' + b);`,
  },
  later: {
    lua: `${LF} local s = ngx.req.socket(true) s:send("${OK_HEAD}ok") ngx.timer.at(0.2, function() local a = f(s:receive(1)) local n, e = s:send("x") ngx.log(ngx.ERR, "later [", a, " ", tostring(n), "|", tostring(e), "]") end)`,
    js: `${F} const [s] = ngx.req.socket(true); await s.send('${OK_HEAD}ok'); ngx.timer.at(0.2, async () => { const a = f(await s.receive(1)); const [n, e] = await s.send('x'); ngx.log(ngx.ERR, 'later [', a, ' ', n ?? 'nil', '|', e ?? 'nil', ']'); });`,
  },
  throw: {
    lua: 'local s = ngx.req.socket(true) s:send("HTTP/1.1 200 OK\\r\\n\\r\\npart") error("raw boom")',
    js: "const [s] = ngx.req.socket(true); await s.send('HTTP/1.1 200 OK\\r\\n\\r\\npart'); throw new Error('raw boom');",
  },
  duplex: {
    lua: `local s = ngx.req.socket(true) s:send("HTTP/1.1 200 OK\\r\\n\\r\\n") local got = {}
      local th = ngx.thread.spawn(function() for i = 1, 3 do local d, e = s:receive(2) got[#got+1] = tostring(d) .. "/" .. tostring(e) end end)
      for i = 1, 3 do s:send("w" .. i) ngx.sleep(0.1) end ngx.thread.wait(th) s:send("|" .. table.concat(got, ","))`,
    js: `const [s] = ngx.req.socket(true); await s.send('HTTP/1.1 200 OK\\r\\n\\r\\n'); const got = [];
      const th = ngx.thread.spawn(async () => { for (let i = 0; i < 3; i++) { const [d, e] = await s.receive(2); got.push((d ?? 'nil') + '/' + (e ?? 'nil')); } });
      for (let i = 1; i <= 3; i++) { await s.send('w' + i); await ngx.sleep(0.1); } await ngx.thread.wait(th); await s.send('|' + got.join(','));`,
  },
  setstatus: {
    lua: 'ngx.status = 101 ngx.header["Upgrade"] = "x" local s = ngx.req.socket(true) s:send("raw")',
    js: "ngx.status = 101; ngx.header['Upgrade'] = 'x'; const [s] = ngx.req.socket(true); await s.send('raw');",
  },
  h10: {
    lua: 'ngx.say("x") local s, err = ngx.req.socket(true) ngx.log(ngx.ERR, "h10 [", tostring(s), " ", tostring(err), "]")',
    js: "ngx.say('x'); const [s, err] = ngx.req.socket(true); ngx.log(ngx.ERR, 'h10 [', s ?? 'nil', ' ', err ?? 'nil', ']');",
  },
  sub: {
    lua: 'local ok, e = pcall(ngx.req.socket, true) ngx.say("sub ", tostring(ok), " ", tostring(e))',
    js: "try { ngx.req.socket(true); ngx.say('sub true'); } catch (e) { ngx.say('sub false ', e.message); }",
  },
  cap: {
    lua: 'local res = ngx.location.capture("/sub") ngx.print(res.body)',
    js: "const res = await ngx.location.capture('/sub'); ngx.print(res.body);",
  },
  big: {
    lua: 'ngx.print(string.rep("a", 32000000)) local s, err = ngx.req.socket(true) ngx.log(ngx.ERR, "big [", tostring(s), " ", tostring(err), "]")',
    js: "ngx.print('a'.repeat(32000000)); const [s, err] = ngx.req.socket(true); ngx.log(ngx.ERR, 'big [', s ?? 'nil', ' ', err ?? 'nil', ']');",
  },
  output: {
    lua: 'local s = ngx.req.socket(true) s:send("HTTP/1.1 200 OK\\r\\n\\r\\n") ngx.say("after") ngx.flush(true) ngx.eof() s:send("end")',
    js: "const [s] = ngx.req.socket(true); await s.send('HTTP/1.1 200 OK\\r\\n\\r\\n'); ngx.say('after'); await ngx.flush(true); await ngx.eof(); await s.send('end');",
  },
  hello: { lua: 'ngx.say("hello")', js: "ngx.say('hello');" },
};

function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const out = Object.entries(HANDLERS).map(([name, h]) => `location = /${name} { content_by_${by}_block { ${lua ? h.lua : h.js} } }`);
  // In rewrite_by and access_by the request ends with the handler: content never runs.
  for (const phase of ['rewrite', 'access']) {
    out.push(lua
      ? `location = /${phase} { ${phase}_by_lua_block { local s = ngx.req.socket(true) s:send("${OK_HEAD}${phase}\\n") } content_by_lua_block { ngx.log(ngx.ERR, "content ran") ngx.say("content") } }`
      : `location = /${phase} { ${phase}_by_js_block { const [s] = ngx.req.socket(true); await s.send('${OK_HEAD}${phase}\\n'); } content_by_js_block { ngx.log(ngx.ERR, 'content ran'); ngx.say('content'); } }`);
  }
  return out.join('\n    ');
}

const LOG_FORMAT = "log_format raw '$status $body_bytes_sent $request_length \"$request\"';";

interface Target { port: number; errorLog(): string; accessLog(): string; name: string }

async function logged(t: Target, re: RegExp): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const m = re.exec(t.errorLog());
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not logged: ${re} in ${t.errorLog().slice(-2000)}`);
}

async function accessLine(t: Target, request: string): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const line = t.accessLog().split('\n').find((l) => l.endsWith(`"${request}"`));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access log line for ${request}: ${t.accessLog()}`);
}

/** The bytes after the head (the first blank line). */
function afterHead(data: string): string {
  const i = data.indexOf('\r\n\r\n');
  return i < 0 ? data : data.slice(i + 4);
}

const GET = (p: string, v = '1.1'): string => `GET /${p} HTTP/${v}\r\nHost: h\r\n\r\n`;

function checks(get: () => Target): void {
  it('the websocket sequence: 101 head once, then receive(n), receiveany, receiveuntil, a timeout, sends, the client\'s close', async () => {
    const r = await raw(get().port, [GET('ws'), 'hello', 'anything', 'abcEND', '', '', '', Buffer.from([1, 2, 3])], { gapMs: 150, endAfter: true, timeoutMs: 8000 });
    expect(r.closed).toBe(true);
    expect(r.data).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(r.data.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(r.data).toContain('\r\nUpgrade: websocket\r\n');
    expect(r.data).toContain('\r\nConnection: upgrade\r\n');
    expect(r.data).not.toMatch(/Transfer-Encoding|Content-Length/);
    // The 300 ms timeout passes before the next packet (150 ms gaps; '' sends nothing: 600 ms).
    expect(afterHead(r.data)).toBe('r5[hello|nil|nil]any[anything|nil|nil]until[abc|nil|nil]to[nil|timeout|]ab1\x00\xff\nafter[nil|closed|\x01\x02\x03]');
  });

  it('without a head first the handler writes the whole answer; no keep-alive after (a pipelined request is not served)', async () => {
    const r = await raw(get().port, [GET('nohead') + GET('hello')], { timeoutMs: 5000 });
    expect(r.data).toBe('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
    expect(r.closed).toBe(true);
  });

  it('output not flushed is dropped with the head; flushed output (chunked) went out before the raw bytes', async () => {
    const p = await raw(get().port, [GET('pending')], { timeoutMs: 5000 });
    expect(p.data).toBe('');
    expect(p.closed).toBe(true);
    expect(await logged(get(), /pending \[(.*?)\]/)).toBe('true nil');
    const f = await raw(get().port, [GET('flushed')], { timeoutMs: 5000 });
    expect(f.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n/);
    expect(afterHead(f.data)).toBe('2\r\nx\n\r\nraw\n');
    expect(f.closed).toBe(true);
  });

  it('an unread body and what follows it are the raw socket\'s bytes (Content-Length or chunked)', async () => {
    const head = 'POST /body HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n';
    const r = await raw(get().port, [head + 'he', 'lloMORE'], { gapMs: 200, timeoutMs: 5000 });
    expect(r.data).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[helloMORE|nil|nil]\n');
    const one = await raw(get().port, [head + 'helloMORE'], { timeoutMs: 5000 });
    expect(one.data).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[helloMORE|nil|nil]\n');
    const c = await raw(get().port, ['POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n'], { gapMs: 200, timeoutMs: 5000 });
    expect(afterHead(c.data)).toBe('[5\r\nhello]');
  });

  it('output handed on and not written yet: "pending data to write", and the answer goes as usual', async () => {
    const r = await raw(get().port, ['GET /big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], { timeoutMs: 20_000 });
    expect(await logged(get(), /big \[(.*?)\]/)).toBe('nil pending data to write');
    expect(r.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.data.endsWith('0\r\n\r\n')).toBe(true);
    expect(r.data.length).toBeGreaterThan(32_000_000);
  }, 30_000);

  it('a body read first: the raw socket reads what follows it; the body stays', async () => {
    const head = 'POST /readbody HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello';
    const r = await raw(get().port, [head, 'MORE'], { gapMs: 100, timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('[MORE|nil|nil] hello\n');
    const n = await raw(get().port, [head], { timeoutMs: 5000 });
    expect(afterHead(n.data)).toBe('[nil|timeout|] hello\n');
  });

  it('called twice: "duplicate call"; the body socket after it: "request body already exists"', async () => {
    const r = await raw(get().port, ['POST /twice HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'], { timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('nil duplicate call nil request body already exists\n');
  });

  it('the client closing: "closed" with the partial data, then "closed"; sends still go out', async () => {
    const r = await raw(get().port, [GET('gone'), 'abc'], { gapMs: 150, endAfter: true, timeoutMs: 5000 });
    expect(r.data).toBe('zz');
    expect(await logged(get(), /gone \[(.*?)\]/)).toBe('nil|closed|abc nil|closed|nil 2|nil');
  });

  it('a read timeout gives the partial data (consumed) and the socket stays usable', async () => {
    const r = await raw(get().port, [GET('clto'), 'abc'], { gapMs: 100, timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('nil|timeout|abc nil|timeout|');
  });

  it('used after its request ended (a timer): reads and sends give "closed"', async () => {
    const r = await raw(get().port, [GET('later')], { timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('ok');
    expect(await logged(get(), /later \[(.*?)\]/)).toBe('nil|closed|nil nil|closed');
  });

  it('a handler that throws after taking it: the connection is closed, a log line, the next request is served', async () => {
    const r = await raw(get().port, [GET('throw')], { timeoutMs: 5000 });
    expect(r.data).toBe('HTTP/1.1 200 OK\r\n\r\npart');
    expect(r.closed).toBe(true);
    expect(await logged(get(), /(raw boom)/)).toBe('raw boom');
    const n = await raw(get().port, [GET('nohead')], { timeoutMs: 5000 });
    expect(afterHead(n.data)).toBe('ok\n');
  });

  it('full duplex: a light thread reads while the handler writes', async () => {
    const r = await raw(get().port, [GET('duplex'), 'ab', 'cd', 'ef'], { gapMs: 120, timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('w1w2w3|ab/nil,cd/nil,ef/nil');
  });

  it('ngx.say, ngx.flush and ngx.eof after it send nothing', async () => {
    const r = await raw(get().port, [GET('output')], { timeoutMs: 5000 });
    expect(r.data).toBe('HTTP/1.1 200 OK\r\n\r\nend');
    expect(r.closed).toBe(true);
  });

  it('a status set but no head sent: none goes out', async () => {
    const r = await raw(get().port, [GET('setstatus')], { timeoutMs: 5000 });
    expect(r.data).toBe('raw');
  });

  it('HTTP/1.0 with output buffered: "http 1.0 buffering", and the answer goes as usual', async () => {
    const r = await raw(get().port, [GET('h10', '1.0')], { timeoutMs: 5000 });
    expect(afterHead(r.data)).toBe('x\n');
    expect(await logged(get(), /h10 \[(.*?)\]/)).toBe('nil http 1.0 buffering');
  });

  it('in rewrite_by and access_by: the request ends with the handler; a subrequest raises', async () => {
    for (const p of ['rewrite', 'access']) {
      const r = await raw(get().port, [GET(p)], { timeoutMs: 5000 });
      expect(r.data).toBe(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${p}\n`);
    }
    const c = await raw(get().port, [`GET /cap HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`], { timeoutMs: 5000 });
    expect(c.data).toContain('sub false attempt to read the request body in a subrequest\n');
    expect(get().errorLog()).not.toContain('content ran');
  });

  it('the access log: $status 000 without a head (the one set otherwise), $body_bytes_sent the raw bytes, $request_length the head', async () => {
    await raw(get().port, [GET('nohead')], { timeoutMs: 5000 });
    expect(await accessLine(get(), 'GET /nohead HTTP/1.1')).toBe('000 41 33 "GET /nohead HTTP/1.1"');
    await raw(get().port, [GET('setstatus')], { timeoutMs: 5000 });
    expect(await accessLine(get(), 'GET /setstatus HTTP/1.1')).toBe('101 3 36 "GET /setstatus HTTP/1.1"');
    await raw(get().port, ['POST /body HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello', 'MORE'], { gapMs: 100, timeoutMs: 5000 });
    expect(await accessLine(get(), 'POST /body HTTP/1.1')).toBe('000 58 51 "POST /body HTTP/1.1"');
  });
}

function files(dir: string): Pick<Target, 'errorLog' | 'accessLog'> {
  const read = (f: string): string => { try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } };
  return { errorLog: () => read('error.log'), accessLog: () => read('access.log') };
}

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'ngx.req.socket(true)'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      t = await startTresty(`worker_processes 1;
error_log logs/error.log info;
events {}
http {
  ${LOG_FORMAT}
  access_log logs/access.log raw;
  server {
    listen 127.0.0.1:${port};
    ${locations(false)}
  }
}
`, { env: e.env });
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => ({ port, name: e.name, ...files(path.join(t.prefix, 'logs')) }));
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`ngx.req.socket(true) on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => {
    n = await startNginx(`lua_socket_log_errors off;\n    access_log __PREFIX__/access.log raw;\n    ${locations(true)}`, LOG_FORMAT);
  });
  afterAll(async () => { await n?.stop(); });
  checks(() => ({ port: n.port, name: 'nginx', ...files(n.prefix) }));
});

