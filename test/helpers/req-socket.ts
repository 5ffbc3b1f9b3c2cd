// ngx.req.socket()'s handlers, written twice (Lua for nginx + lua-nginx-module, JS for tresty)
// so that both print the same text, and the client side the tests share: a POST and the bodies
// of a raw keep-alive exchange. Used by api-req-socket.test.ts and api-req-socket-tresty.test.ts.
import http from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import type { EngineCase } from './engines.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './server.js';

/** POST `body` (Content-Length, or chunked) and give the answer's status and body. */
export function post(port: number, p: string, body: string | null, opts: { chunked?: boolean } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body !== null) {
      if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const req = http.request({ host: '127.0.0.1', port, path: p, method: body === null ? 'GET' : 'POST', headers, agent: false }, (res) => {
      let got = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { got += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: got }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${p}`)));
    req.end(body ?? undefined);
  });
}

/** The body of a raw HTTP/1.1 answer (chunked framing removed), for the keep-alive checks. */
export function bodies(data: string): string[] {
  const out: string[] = [];
  for (const part of data.split(/(?=HTTP\/1\.1 \d{3})/)) {
    const i = part.indexOf('\r\n\r\n');
    if (i < 0) continue;
    const head = part.slice(0, i);
    let rest = part.slice(i + 4);
    if (/Transfer-Encoding: chunked/i.test(head)) {
      let s = '';
      for (;;) {
        const j = rest.indexOf('\r\n');
        const n = parseInt(rest.slice(0, j), 16);
        if (!(n > 0)) break;
        s += rest.slice(j + 2, j + 2 + n);
        rest = rest.slice(j + 2 + n + 2);
      }
      rest = s;
    }
    out.push(rest);
  }
  return out;
}

/** Lua and JS of one handler: both print the same text. */
export interface Handler { lua: string; js: string }

// JS's `f(r)` prints an array of Lua values as Lua's tostring would, joined by '|'.
// Always three values: Lua's receive returns the data alone on success.
export const F = "const f = (r) => [0, 1, 2].map((i) => (r[i] === null || r[i] === undefined ? 'nil' : String(r[i]))).join('|');";
export const LF = 'local function f(a, b, c) return tostring(a) .. "|" .. tostring(b) .. "|" .. tostring(c) end';

export function reads(lua: string, js: string): Handler {
  return {
    lua: `local s, err = ngx.req.socket() if not s then ngx.say("socket: nil ", err) return end ${LF} local out = {} ${lua} ngx.say(table.concat(out, " "))`,
    js: `const [s, err] = ngx.req.socket(); if (!s) { ngx.say('socket: nil ', err); return; } ${F} const out = []; ${js} ngx.say(out.join(' '));`,
  };
}

export const HANDLERS: Record<string, Handler> = {
  sized: reads('for i = 1, 6 do out[#out+1] = f(s:receive(4)) end', 'for (let i = 0; i < 6; i++) out.push(f(await s.receive(4)));'),
  line: reads('for i = 1, 4 do out[#out+1] = f(s:receive()) end', 'for (let i = 0; i < 4; i++) out.push(f(await s.receive()));'),
  all: reads('for i = 1, 2 do out[#out+1] = f(s:receive("*a")) end', "for (let i = 0; i < 2; i++) out.push(f(await s.receive('*a')));"),
  any: reads('for i = 1, 4 do out[#out+1] = f(s:receiveany(5)) end', 'for (let i = 0; i < 4; i++) out.push(f(await s.receiveany(5)));'),
  until: reads('local it = s:receiveuntil("--b") for i = 1, 4 do out[#out+1] = f(it()) end', "const it = s.receiveuntil('--b'); for (let i = 0; i < 4; i++) out.push(f(await it()));"),
  zero: reads('out[1] = f(s:receive(0)) out[2] = f(s:receive("*a")) out[3] = f(s:receive("*a")) out[4] = f(s:receive(1)) out[5] = f(s:receive("*a"))',
    "out.push(f(await s.receive(0)), f(await s.receive('*a')), f(await s.receive('*a')), f(await s.receive(1)), f(await s.receive('*a')));"),
  // A multipart upload read as lua-resty-upload reads it: the boundary line, headers, the part in sized pieces.
  upload: reads(
    'local it = s:receiveuntil("\\r\\n--XB") out[1] = f(s:receive()) out[2] = f(s:receive()) out[3] = f(s:receive()) while true do local d, e = it(3) if not d then out[#out+1] = "end:" .. tostring(e) break end out[#out+1] = d end out[#out+1] = f(s:receive())',
    "const it = s.receiveuntil('\\r\\n--XB'); out.push(f(await s.receive()), f(await s.receive()), f(await s.receive())); for (;;) { const [d, e] = await it(3); if (d === null) { out.push('end:' + (e ?? 'nil')); break; } out.push(d); } out.push(f(await s.receive()));",
  ),
  after_read: {
    lua: 'ngx.req.read_body() local s, err = ngx.req.socket() ngx.say(tostring(s), " ", tostring(err))',
    js: "await ngx.req.read_body(); const [s, err] = ngx.req.socket(); ngx.say(s ?? 'nil', ' ', err ?? 'nil');",
  },
  then_read: {
    lua: 'local s = ngx.req.socket() local d = s:receive(3) ngx.req.read_body() ngx.say("got ", d, " data ", tostring(ngx.req.get_body_data()))',
    js: "const [s] = ngx.req.socket(); const [d] = await s.receive(3); await ngx.req.read_body(); ngx.say('got ', d, ' data ', ngx.req.get_body_data() ?? 'nil');",
  },
  twice: {
    lua: 'local s, err = ngx.req.socket() local s2, err2 = ngx.req.socket() ngx.say(tostring(s ~= nil), " ", tostring(err), " ", tostring(s2), " ", tostring(err2))',
    js: "const [s, err] = ngx.req.socket(); const [s2, err2] = ngx.req.socket(); ngx.say(String(s !== null), ' ', err ?? 'nil', ' ', s2 ?? 'nil', ' ', err2 ?? 'nil');",
  },
  timeout: {
    lua: `local s = ngx.req.socket() s:settimeout(300) ${LF} local a = f(s:receive(10)) s:settimeouts(1000, 1000, 200) ngx.say(a, " ", f(s:receive(1)))`,
    js: `const [s] = ngx.req.socket(); s.settimeout(300); ${F} const a = f(await s.receive(10)); s.settimeouts(1000, 1000, 200); ngx.say(a, ' ', f(await s.receive(1)));`,
  },
  gone: {
    lua: `local s = ngx.req.socket() ${LF} local r = f(s:receive(10)) local r2 = f(s:receive(1)) ngx.log(ngx.ERR, "gone result [", r, " ", r2, "]") ngx.say("x")`,
    js: `const [s] = ngx.req.socket(); ${F} const r = f(await s.receive(10)); const r2 = f(await s.receive(1)); ngx.log(ngx.ERR, 'gone result [', r, ' ', r2, ']'); ngx.say('x');`,
  },
  // The client sends part of the body and closes before the handler's first receive.
  gone_early: {
    lua: `local s = ngx.req.socket() ngx.sleep(0.5) ${LF} local r = f(s:receive(10)) local r2 = f(s:receive(1)) ngx.log(ngx.ERR, "early result [", r, " ", r2, "]") ngx.say("x")`,
    js: `const [s] = ngx.req.socket(); await ngx.sleep(0.5); ${F} const r = f(await s.receive(10)); const r2 = f(await s.receive(1)); ngx.log(ngx.ERR, 'early result [', r, ' ', r2, ']'); ngx.say('x');`,
  },
  partial: {
    lua: 'local s = ngx.req.socket() local d = s:receive(2) ngx.say("got ", d)',
    js: "const [s] = ngx.req.socket(); const [d] = await s.receive(2); ngx.say('got ', d);",
  },
  hello: { lua: 'ngx.say("hello")', js: "ngx.say('hello');" },
  sub: {
    lua: 'local ok, e = pcall(ngx.req.socket) ngx.say("sub ", tostring(ok), " ", tostring(e))',
    js: "try { ngx.req.socket(); ngx.say('sub true'); } catch (e) { ngx.say('sub false ', e.message); }",
  },
  cap: {
    lua: 'local res = ngx.location.capture("/sub", { method = ngx.HTTP_POST, body = "hello" }) ngx.print(res.body)',
    js: "const res = await ngx.location.capture('/sub', { method: ngx.HTTP_POST, body: 'hello' }); ngx.print(res.body);",
  },
  // hold keeps its request (and socket) until use has tried the socket (2 s at most).
  hold: {
    lua: 'local s = ngx.req.socket() package.loaded.held = s for _ = 1, 100 do if package.loaded.used then break end ngx.sleep(0.02) end ngx.say("held")',
    js: "const [s] = ngx.req.socket(); globalThis.held = s; for (let i = 0; i < 100 && !globalThis.used; i++) await ngx.sleep(0.02); ngx.say('held');",
  },
  use: {
    lua: 'local s = package.loaded.held if not s then ngx.say("not yet") return end local ok, e = pcall(s.receive, s, 1) package.loaded.used = true ngx.say("use ", tostring(ok), " ", tostring(e))',
    js: "const s = globalThis.held; if (!s) { ngx.say('not yet'); return; } try { await s.receive(1); ngx.say('use true'); } catch (e) { ngx.say('use false ', e.message); } globalThis.used = true;",
  },
  later: {
    lua: `local s = ngx.req.socket() s:receive(5) ${LF} ngx.timer.at(0.2, function() local r = f(s:receive(1)) s:settimeout(5) ngx.log(ngx.ERR, "later [", r, "]") end) ngx.say("ok")`,
    js: `const [s] = ngx.req.socket(); await s.receive(5); ${F} ngx.timer.at(0.2, async () => { const r = f(await s.receive(1)); s.settimeout(5); ngx.log(ngx.ERR, 'later [', r, ']'); }); ngx.say('ok');`,
  },
  badarg: {
    lua: 'local ok, e = pcall(ngx.req.socket, "x") ngx.say(tostring(e))',
    js: "try { ngx.req.socket('x'); } catch (e) { ngx.say(e.message); }",
  },
  stream: {
    lua: 'local s = ngx.socket.stream() s:settimeout(3000) local ok, e = s:connect("127.0.0.1", ngx.var.server_port) s:send("GET /hello HTTP/1.0\\r\\nHost: h\\r\\n\\r\\n") local l = s:receive() s:close() ngx.say(ok and "true" or "false", " ", tostring(e), " ", l)',
    js: "const s = ngx.socket.stream(); s.settimeout(3000); const [ok, e] = await s.connect('127.0.0.1', Number(ngx.var.server_port)); await s.send('GET /hello HTTP/1.0\\r\\nHost: h\\r\\n\\r\\n'); const [l] = await s.receive(); s.close(); ngx.say(String(!!ok), ' ', e ?? 'nil', ' ', l);",
  },
};

export function locations(lua: boolean): string {
  const by = lua ? 'lua' : 'js';
  const out = Object.entries(HANDLERS).map(([name, h]) => `location = /${name} { content_by_${by}_block { ${lua ? h.lua : h.js} } }`);
  // rewrite_by may read it too; set_by may not (the usual phase error).
  out.push(lua
    ? 'location = /rewrite { rewrite_by_lua_block { local s, err = ngx.req.socket() ngx.ctx.r = tostring(s ~= nil) .. " " .. tostring(err) .. " " .. tostring(s:receive(2)) } content_by_lua_block { ngx.say(ngx.ctx.r) } }'
    : "location = /rewrite { rewrite_by_js_block { const [s, err] = ngx.req.socket(); ngx.ctx.r = String(s !== null) + ' ' + (err ?? 'nil') + ' ' + (await s.receive(2))[0]; } content_by_js_block { ngx.say(ngx.ctx.r); } }");
  out.push(lua
    ? 'location = /access { access_by_lua_block { local s = ngx.req.socket() ngx.ctx.r = s:receive("*a") } content_by_lua_block { ngx.say(ngx.ctx.r) } }'
    : "location = /access { access_by_js_block { const [s] = ngx.req.socket(); ngx.ctx.r = (await s.receive('*a'))[0]; } content_by_js_block { ngx.say(ngx.ctx.r); } }");
  out.push(lua
    ? 'location = /set { set_by_lua_block $x { local ok, e = pcall(ngx.req.socket) return tostring(ok) .. " " .. tostring(e) } return 200 "$x\\n"; }'
    : "location = /set { set_by_js_block $x { try { ngx.req.socket(); return 'true'; } catch (e) { return 'false ' + e.message; } } return 200 \"$x\\n\"; }");
  return out.join('\n    ');
}

/** Starts tresty on engine `e` before the suite (one worker, the JS handlers and `more` in its
 *  server, bodies up to `maxBody`, errors in logs/error.log) and stops it after; the getter
 *  gives it once started. */
export function reqSocketTresty(e: EngineCase, maxBody: string, more = '', env: Record<string, string> = {}): () => { port: number; t: TrestyProcess } {
  let t: TrestyProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await startTresty(oneServerConf(port, `client_max_body_size ${maxBody};\n${more}\n${locations(false)}`), { env: { ...e.env, ...env } });
  });
  afterAll(async () => { await t?.stop(); });
  return () => ({ port, t });
}
