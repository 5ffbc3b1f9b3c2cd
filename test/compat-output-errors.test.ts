// What ngx.say / print / flush / eof / send_headers return when the output cannot go, on both
// engines and on nginx 1.22 + lua with the same expectations (observed there first): a client gone
// mid-stream (`writev() failed (32: Broken pipe)` at info, once, `(104: Connection reset by peer)` for
// a reset; the flush that hit it and every
// call after return `nil, "nginx output filter error"`), after ngx.eof ("seen eof"), after a
// body_filter throw (the filter still runs for later chunks, each throw logged; the output filter
// error), a failed header_filter for send_headers, the raw request socket ("raw request socket
// acquired"), a HEAD ("header only"), HTTP/1.0 buffering ("buffering") and a subrequest. Each handler logs what
// the calls returned as Lua's tostring would show them (`1 nil`, `nil <err>`).
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';
import { eventually } from './helpers/upstream.js';
import { opensslMissing, tlsFiles } from './helpers/tls-files.js';

const OFE = 'nil nginx output filter error';

const JS = `
    location = /sse { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      let i = 0, s, fl;
      for (; i < 200; i++) {
        s = ngx.say("event ", i);
        fl = await ngx.flush(true);
        if (!s[0] || !fl[0]) break;
        await ngx.sleep(0.05);
      }
      ngx.log(ngx.NOTICE, "R sse end i=", i, " say=", f(s), " flush=", f(fl));
      const p = ngx.print("x");
      const e = await ngx.eof();
      ngx.log(ngx.NOTICE, "R sse after print=", f(p), " eof=", f(e));
    } }
    location = /eof { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      ngx.say("a");
      const e = await ngx.eof();
      const s = ngx.say("after"), p = ngx.print("after"), fl = await ngx.flush(true), e2 = await ngx.eof(), h = ngx.send_headers();
      ngx.log(ngx.NOTICE, "R eof eof=", f(e), " say=", f(s), " print=", f(p), " flush=", f(fl), " eof2=", f(e2), " sh=", f(h));
    } }
    location = /bf {
      content_by_js_block {
        const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
        const a = ngx.say("a"), b = ngx.say("b"), c = ngx.say("c"), p = ngx.print("d"), e = await ngx.eof();
        ngx.log(ngx.NOTICE, "R bf a=", f(a), " b=", f(b), " c=", f(c), " p=", f(p), " eof=", f(e));
      }
      body_filter_by_js_block {
        ngx.log(ngx.NOTICE, "R chunk [", ngx.arg[1], "] ", ngx.arg[2]);
        if (ngx.arg[1] === "b\\n" || ngx.arg[1] === "d") throw new Error("bf boom");
      }
    }
    location = /sh {
      content_by_js_block {
        const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
        const h = ngx.send_headers();
        const s = ngx.say("x");
        ngx.log(ngx.NOTICE, "R sh sh=", f(h), " say=", f(s));
      }
      header_filter_by_js_block { throw new Error("hf boom"); }
    }
    location = /shok { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      const h = ngx.send_headers(), h2 = ngx.send_headers(), s = ngx.say("x");
      ngx.log(ngx.NOTICE, "R shok sh=", f(h), " sh2=", f(h2), " say=", f(s));
    } }
    location = /raw { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      const [sock] = await ngx.req.socket(true);
      const s = ngx.say("x"), p = ngx.print("x"), fl = await ngx.flush(), e = await ngx.eof();
      await sock.send("HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok");
      ngx.log(ngx.NOTICE, "R raw say=", f(s), " print=", f(p), " flush=", f(fl), " eof=", f(e));
    } }
    location = /head { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      const s = ngx.say("x"), fl = await ngx.flush(true), e = await ngx.eof(), s2 = ngx.say("y");
      ngx.log(ngx.NOTICE, "R head ", ngx.req.get_method(), " say=", f(s), " flush=", f(fl), " eof=", f(e), " say2=", f(s2));
    } }
    location = /sub { content_by_js_block {
      const f = (t) => (t[0] === true ? '1' : 'nil') + ' ' + (t[1] === null ? 'nil' : t[1]);
      const s = ngx.say("s"), fl = await ngx.flush(true), e = await ngx.eof(), s2 = ngx.say("t");
      ngx.log(ngx.NOTICE, "R sub say=", f(s), " flush=", f(fl), " eof=", f(e), " say2=", f(s2));
    } }
    location = /cap { content_by_js_block { const r = await ngx.location.capture("/sub"); ngx.print(r.body); } }`;

const LUA = `
    location = /sse { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      local i, s, se, fl, fe = 0
      while i < 200 do
        s, se = ngx.say("event ", i)
        fl, fe = ngx.flush(true)
        if not s or not fl then break end
        ngx.sleep(0.05)
        i = i + 1
      end
      ngx.log(ngx.NOTICE, "R sse end i=", i, " say=", f(s, se), " flush=", f(fl, fe))
      local p, pe = ngx.print("x")
      local e, ee = ngx.eof()
      ngx.log(ngx.NOTICE, "R sse after print=", f(p, pe), " eof=", f(e, ee))
    } }
    location = /eof { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      ngx.say("a")
      local e, ee = ngx.eof()
      local s, se = ngx.say("after")
      local p, pe = ngx.print("after")
      local fl, fe = ngx.flush(true)
      local e2, e2e = ngx.eof()
      local h, he = ngx.send_headers()
      ngx.log(ngx.NOTICE, "R eof eof=", f(e, ee), " say=", f(s, se), " print=", f(p, pe), " flush=", f(fl, fe), " eof2=", f(e2, e2e), " sh=", f(h, he))
    } }
    location = /bf {
      content_by_lua_block {
        local function f(a, b) return tostring(a) .. " " .. tostring(b) end
        local a, ae = ngx.say("a")
        local b, be = ngx.say("b")
        local c, ce = ngx.say("c")
        local p, pe = ngx.print("d")
        local e, ee = ngx.eof()
        ngx.log(ngx.NOTICE, "R bf a=", f(a, ae), " b=", f(b, be), " c=", f(c, ce), " p=", f(p, pe), " eof=", f(e, ee))
      }
      body_filter_by_lua_block {
        ngx.log(ngx.NOTICE, "R chunk [", ngx.arg[1], "] ", tostring(ngx.arg[2]))
        if ngx.arg[1] == "b\\n" or ngx.arg[1] == "d" then error("bf boom") end
      }
    }
    location = /sh {
      content_by_lua_block {
        local function f(a, b) return tostring(a) .. " " .. tostring(b) end
        local h, he = ngx.send_headers()
        local s, se = ngx.say("x")
        ngx.log(ngx.NOTICE, "R sh sh=", f(h, he), " say=", f(s, se))
      }
      header_filter_by_lua_block { error("hf boom") }
    }
    location = /shok { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      local h, he = ngx.send_headers()
      local h2, h2e = ngx.send_headers()
      local s, se = ngx.say("x")
      ngx.log(ngx.NOTICE, "R shok sh=", f(h, he), " sh2=", f(h2, h2e), " say=", f(s, se))
    } }
    location = /raw { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      local sock = ngx.req.socket(true)
      local s, se = ngx.say("x")
      local p, pe = ngx.print("x")
      local fl, fe = ngx.flush()
      local e, ee = ngx.eof()
      sock:send("HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
      ngx.log(ngx.NOTICE, "R raw say=", f(s, se), " print=", f(p, pe), " flush=", f(fl, fe), " eof=", f(e, ee))
    } }
    location = /head { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      local s, se = ngx.say("x")
      local fl, fe = ngx.flush(true)
      local e, ee = ngx.eof()
      local s2, s2e = ngx.say("y")
      ngx.log(ngx.NOTICE, "R head ", ngx.req.get_method(), " say=", f(s, se), " flush=", f(fl, fe), " eof=", f(e, ee), " say2=", f(s2, s2e))
    } }
    location = /sub { content_by_lua_block {
      local function f(a, b) return tostring(a) .. " " .. tostring(b) end
      local s, se = ngx.say("s")
      local fl, fe = ngx.flush(true)
      local e, ee = ngx.eof()
      local s2, s2e = ngx.say("t")
      ngx.log(ngx.NOTICE, "R sub say=", f(s, se), " flush=", f(fl, fe), " eof=", f(e, ee), " say2=", f(s2, s2e))
    } }
    location = /cap { content_by_lua_block { local r = ngx.location.capture("/sub") ngx.print(r.body) } }`;

const get = (p: string, v = '1.1', m = 'GET'): string => `${m} ${p} HTTP/${v}\r\nHost: h\r\n\r\n`;

/** A stream read until its third event, then the connection closed (FIN) or reset (RST). */
function leaveStream(port: number, how: 'close' | 'reset'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(get('/sse')));
    let data = '';
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('data', (d: string) => {
      data += d;
      if (!data.includes('event 2\n')) return;
      if (how === 'reset') s.resetAndDestroy();
      else s.destroy();
      resolve(data);
    });
  });
}

/** The error log's `R <tag> ...` line (the request's context cut off). */
async function line(log: () => string, tag: string): Promise<string> {
  const m = /R [a-z]+ [^\n]*?(?=, client: )/.exec((await eventually(log, new RegExp(`R ${tag} [^\\n]*, client: `), 8000)).slice(log().indexOf(`R ${tag} `)));
  return m![0];
}

function checks(port: () => number, log: () => string): void {
  it('a client gone mid-stream (FIN): the flush that hits it and every call after return the output filter error; one info line', async () => {
    await leaveStream(port(), 'close');
    const end = await line(log, 'sse end');
    // say only buffers on nginx (1 nil); tresty's native engine may have seen the close already.
    expect(end).toMatch(new RegExp(`^R sse end i=\\d+ say=(1 nil|${OFE}) flush=${OFE}$`));
    expect(Number(/i=(\d+)/.exec(end)![1])).toBeLessThan(100);
    expect(await line(log, 'sse after')).toBe(`R sse after print=${OFE} eof=${OFE}`);
    const gone = log().match(/\[info\] \d+#\d+: \*\d+ writev\(\) failed \(32: Broken pipe\), client: 127\.0\.0\.1, server: [^,]*, request: "GET \/sse HTTP\/1\.1", host: "h"\n/g) ?? [];
    expect(gone.length).toBe(1);
  });

  it('a client that resets the stream: the loop ends the same way', async () => {
    const before = log().length;
    await leaveStream(port(), 'reset');
    const tail = (): string => log().slice(before);
    const end = await line(tail, 'sse end');
    expect(end).toMatch(new RegExp(`^R sse end i=\\d+ say=(1 nil|${OFE}) flush=${OFE}$`));
    expect(await line(tail, 'sse after')).toBe(`R sse after print=${OFE} eof=${OFE}`);
    // nginx's write meets the reset: 104, not 32 (observed on 1.22), once
    const gone = tail().match(/\[info\] \d+#\d+: \*\d+ writev\(\) failed \((\d+): [^)]*\), client: 127\.0\.0\.1, server: [^,]*, request: "GET \/sse HTTP\/1\.1", host: "h"\n/g) ?? [];
    expect(gone).toEqual([expect.stringContaining('writev() failed (104: Connection reset by peer), client: ')]);
  });

  it('after ngx.eof: say, print, flush and a second eof return "seen eof"; send_headers 1', async () => {
    const r = await raw(port(), [get('/eof')], { timeoutMs: 1500, answers: 1 });
    expect(r.data).toMatch(/\r\n\r\n2\r\na\n\r\n0\r\n\r\n$/);
    expect(await line(log, 'eof')).toBe('R eof eof=1 nil say=nil seen eof print=nil seen eof flush=nil seen eof eof2=nil seen eof sh=1 nil');
  });

  it('a body_filter throw: later chunks still go through the filter (each throw logged), the output filter error, the response cut', async () => {
    const before = log().length;
    const r = await raw(port(), [get('/bf')], { timeoutMs: 3000 });
    expect(r.closed).toBe(true);
    expect(r.data).not.toMatch(/0\r\n\r\n$/);
    const tail = (): string => log().slice(before);
    expect(await line(tail, 'bf')).toBe(`R bf a=1 nil b=${OFE} c=${OFE} p=${OFE} eof=${OFE}`);
    const chunks = [...tail().matchAll(/R chunk \[([^\]]*)\] (\w+)/g)].map((m) => `${m[1]}|${m[2]}`);
    expect(chunks).toEqual(['a\n|false', 'b\n|false', 'c\n|false', 'd|false', '|true']);
    expect(tail().match(/failed to run body_filter_by_(js|lua)\*: [^\n]*bf boom/g)?.length).toBe(2);
  });

  it('send_headers: the output filter error when header_filter fails (a say after still 1, as nginx); 1 on success and again', async () => {
    await raw(port(), [get('/sh')], { timeoutMs: 1500, answers: 1 });
    expect(await line(log, 'sh')).toBe(`R sh sh=${OFE} say=1 nil`);
    const ok = await raw(port(), [get('/shok')], { timeoutMs: 1500, answers: 1 });
    expect(ok.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(await line(log, 'shok')).toBe('R shok sh=1 nil sh2=1 nil say=1 nil');
  });

  it('after ngx.req.socket(true): "raw request socket acquired"', async () => {
    const r = await raw(port(), [get('/raw')], { timeoutMs: 1500 });
    expect(r.data).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const m = 'nil raw request socket acquired';
    expect(await line(log, 'raw')).toBe(`R raw say=${m} print=${m} flush=${m} eof=${m}`);
  });

  it('HEAD: "header only" once the head went, eof "seen eof"; HTTP/1.0: flush "buffering"', async () => {
    await raw(port(), [get('/head', '1.1', 'HEAD')], { timeoutMs: 1000 });
    expect(await line(log, 'head HEAD')).toBe('R head HEAD say=1 nil flush=nil header only eof=nil seen eof say2=nil header only');
    const r = await raw(port(), [get('/head', '1.0')], { timeoutMs: 1500 });
    expect(r.data).toMatch(/\r\n\r\nx\n$/);
    expect(await line(log, 'head GET')).toBe('R head GET say=1 nil flush=nil buffering eof=1 nil say2=nil seen eof');
  });
}

function subrequest(port: () => number, log: () => string): void {
  it('a subrequest (capture): its calls succeed, after its eof "seen eof"', async () => {
    const r = await raw(port(), [get('/cap')], { timeoutMs: 1500, answers: 1 });
    expect(r.data).toMatch(/\r\n\r\n2\r\ns\n\r\n0\r\n\r\n$/);
    expect(await line(log, 'sub')).toBe('R sub say=1 nil flush=1 nil eof=1 nil say2=nil seen eof');
  });
}

const LOG = 'error_log logs/error.log info;\n';

for (const e of ENGINES) {
  describe.skipIf(e.skip !== null)(titled(e, 'output errors'), () => {
    let t: TrestyProcess;
    beforeAll(async () => {
      const port = await freePort();
      t = await startTresty(LOG + oneServerConf(port, JS), { env: e.env });
      (t as unknown as { port: number }).port = port;
    });
    afterAll(async () => { await t?.stop(); });
    checks(() => (t as unknown as { port: number }).port, () => t.errorLog());
    subrequest(() => (t as unknown as { port: number }).port, () => t.errorLog());
  });
}

const missing = nginxMissing();
describe.skipIf(missing !== null)(`output errors, on nginx + lua-nginx-module${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let n: Nginx;
  beforeAll(async () => { n = await startNginx(LUA); });
  afterAll(async () => { await n?.stop(); });
  checks(() => n.port, () => n.errorLog());
  subrequest(() => n.port, () => n.errorLog());
});

/** The stream over TLS (HTTP/1.1, or HTTP/2 with `h2`), left after its third event (`reset`: with a TCP reset). */
function leaveTlsStream(port: number, h2: boolean, reset = false): Promise<void> {
  return new Promise((resolve, reject) => {
    let data = '';
    const seen = (d: string, leave: () => void): void => {
      data += d;
      if (data.includes('event 2\n')) { leave(); resolve(); }
    };
    if (h2) {
      const c = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      c.on('error', reject);
      const req = c.request({ ':path': '/sse' });
      req.setEncoding('latin1');
      req.on('error', () => {});
      req.on('data', (d: string) => seen(d, () => { req.close(http2.constants.NGHTTP2_CANCEL); c.destroy(); }));
      return;
    }
    // over a TCP socket of its own: a TLS socket cannot reset itself
    const tcp = net.connect(port, '127.0.0.1');
    const s = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => s.write(get('/sse')));
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('data', (d: string) => seen(d, () => (reset ? tcp.resetAndDestroy() : s.destroy())));
  });
}

// tresty only (the nginx runner has no TLS listen): the same loop end over TLS on both engines, and HTTP/2.
const tlsCases = [...ENGINES.map((e) => ({ e, h2: false })), { e: ENGINES[1]!, h2: true }];
for (const { e, h2 } of tlsCases) {
  describe.skipIf(e.skip !== null || opensslMissing !== null)(titled(e, `output errors over TLS${h2 ? ', HTTP/2' : ''}${opensslMissing ? ` (skipped: ${opensslMissing})` : ''}`), () => {
    let t: TrestyProcess;
    let port: number;
    const files = tlsFiles('outerr');
    beforeAll(async () => {
      files.selfSigned('c', 'a.test');
      port = await freePort();
      t = await startTresty(LOG + oneServerConf(port, `ssl_certificate ${files.file('c.crt')}; ssl_certificate_key ${files.file('c.key')};${JS}`, { listen: h2 ? ' ssl http2' : ' ssl' }), { env: e.env });
    });
    afterAll(async () => { await t?.stop(); files.remove(); });

    it('a client gone mid-stream: the loop ends on the output filter error', async () => {
      await leaveTlsStream(port, h2);
      const log = (): string => t.errorLog();
      expect(await line(log, 'sse end')).toMatch(new RegExp(`^R sse end i=\\d+ say=(1 nil|${OFE}) flush=${OFE}$`));
      expect(await line(log, 'sse after')).toBe(`R sse after print=${OFE} eof=${OFE}`);
      // nginx's words over TLS (observed on 1.22), once; HTTP/2's connection line instead, no write's
      // (compat-client-abort.test.ts compares it with nginx)
      expect(log().match(h2 ? /\[info\] \d+#\d+: \*\d+ client prematurely closed connection while processing HTTP\/2 connection, client: /g
        : /\[info\] \d+#\d+: \*\d+ SSL_write\(\) failed \(32: Broken pipe\), client: /g)?.length).toBe(1);
      if (h2) expect(log()).not.toMatch(/SSL_write/);
    });

    // nginx 1.22 over TLS, observed by hand (this runner has no TLS nginx): 104 for a reset, 32 for a close
    it.skipIf(h2)('a client that resets the connection: SSL_write() failed (104: Connection reset by peer), once', async () => {
      const before = t.errorLog().length;
      await leaveTlsStream(port, false, true);
      const tail = (): string => t.errorLog().slice(before);
      expect(await line(tail, 'sse after')).toBe(`R sse after print=${OFE} eof=${OFE}`);
      expect(tail().match(/\[info\] \d+#\d+: \*\d+ SSL_write\(\) failed \((\d+): [^)]*\), client: /g)).toEqual([expect.stringContaining('SSL_write() failed (104: Connection reset by peer), client: ')]);
    });
  });
}
