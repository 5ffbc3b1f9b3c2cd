// A differential fuzz of subrequests and internal redirects: each seeded case is a parent handler
// that captures one or several child locations (ngx.location.capture / capture_multi, options drawn
// at random: method, body, args as a string or a table, vars, copy_all_vars, share_all_vars, ctx,
// always_forward_body; a POST parent that reads its body or not) and dumps what it got (status,
// header with its multi-value headers, body, truncated) and, after, its own variables and ctx; or
// a parent that moves with ngx.exec(uri, args) (string or table args, a named location). Run as JS
// on tresty (both engines) and as the same handler in Lua on nginx 1.22 + lua-nginx-module; the
// dumps (or, for ngx.exec, the answers) must agree. The children echo what they see, set a status
// and headers, `return`, ngx.exit, throw, set variables, are reached through rewrite/internal, are
// a static file, or capture again (depth 2). TRESTY_FUZZ_SEED=N replays (or varies) the run;
// fixed regression cases go first in every run.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { answerParts, asText, dechunk, type Divergence, LUA_ENC, luaString, pick, prng } from './helpers/fuzz.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

// --- the children (the same locations on both servers) -----------------------------------------

/** JS's twin of LUA_ENC: objects' keys sorted, null/undefined values dropped as Lua drops nil, an
 *  empty array `{}` as Lua's empty table; every char >= 0x7f as \uXXXX (ASCII out, as Lua's, whose
 *  strings' bytes the comparison reads back as tresty's text: asText). */
const JS_ENC = `
      const enc = (v) => {
        if (typeof v === "string") return '"' + v.replace(/[\\x00-\\x1f\\x7f-\\uffff"\\\\]/g, (c) => "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")) + '"';
        if (typeof v === "boolean" || typeof v === "number") return String(v);
        if (v == null) return '"<nil>"';
        if (Array.isArray(v) && v.length > 0) return "[" + v.map(enc).join(",") + "]";
        const ks = Object.keys(v).filter((k) => v[k] != null).sort();
        return "{" + ks.map((k) => enc(k) + ":" + enc(v[k])).join(",") + "}";
      };`;

// The body is read first: in JS that await always yields (docs/api.md, "Differences from OpenResty
// that remain": waiting APIs return promises), where lua's read_body of a subrequest returns at
// once; reading after it, the echoes of capture_multi see each other's writes (share_all_vars) in
// the same order on both.
const ECHO_JS = `${JS_ENC}
      await ngx.req.read_body();
      const o = { method: ngx.req.get_method(), request_method: ngx.var.request_method, uri: ngx.var.uri,
        args: ngx.var.args, is_args: ngx.var.is_args, request_uri: ngx.var.request_uri, uri_args: ngx.req.get_uri_args(),
        cl: ngx.var.http_content_length, xa: ngx.var.http_x_a, v: ngx.var.v, w: ngx.var.w, ctx: ngx.ctx, sub: ngx.is_subrequest };
      if (ngx.var.args != null) o.parts = ngx.var.args.split("&").sort();
      o.body = ngx.req.get_body_data();
      ngx.var.w = "child";
      ngx.ctx.child = "1";
      ngx.print(enc(o));`;
const ECHO_LUA = `${LUA_ENC}
      ngx.req.read_body()
      local o = { method = ngx.req.get_method(), request_method = ngx.var.request_method, uri = ngx.var.uri,
        args = ngx.var.args, is_args = ngx.var.is_args, request_uri = ngx.var.request_uri, uri_args = ngx.req.get_uri_args(),
        cl = ngx.var.http_content_length, xa = ngx.var.http_x_a, v = ngx.var.v, w = ngx.var.w, ctx = ngx.ctx, sub = ngx.is_subrequest }
      if ngx.var.args ~= nil then
        local parts = {}
        for p in (ngx.var.args .. "&"):gmatch("([^&]*)&") do parts[#parts + 1] = p end
        table.sort(parts)
        o.parts = parts
      end
      o.body = ngx.req.get_body_data()
      ngx.var.w = "child"
      ngx.ctx.child = "1"
      ngx.print(enc(o))`;

function children(lang: 'js' | 'lua'): string {
  const js = lang === 'js';
  const blk = (code: string): string => `content_by_${lang}_block {${code}\n      }`;
  const echo = js ? ECHO_JS : ECHO_LUA;
  const exit = (n: number, say: boolean): string => blk(js ? `${say ? ' ngx.say("a");' : ''} return ngx.exit(${n});` : `${say ? ' ngx.say("a")' : ''} return ngx.exit(${n})`);
  const locs = [
    // declares $v and $w for the whole server (set is also run by no one else)
    'location = /decl { set $v ""; set $w ""; return 204; }',
    `location /echo { ${blk(echo)} }`,
    `location /int { internal; ${blk(echo)} }`,
    `location @named { ${blk(echo)} }`,
    'location /rw/ { rewrite ^/rw/(.*)$ /echo/rw-$1 last; }',
    'location = /ret403 { return 403 "nope"; }',
    'location = /ret302 { return 302 /else; }',
    'location = /ret200 { return 200 "ok\\n"; }',
    'location /static/ { root html; }',
    `location = /hdr { ${blk(js
      ? ' ngx.status = 201; ngx.header["Set-Cookie"] = ["a=1", "b=2"]; ngx.header.content_type = "text/x"; ngx.header.location = "/loc"; ngx.header["X-Foo"] = "f"; ngx.say("hdr");'
      : ' ngx.status = 201; ngx.header["Set-Cookie"] = {"a=1", "b=2"}; ngx.header.content_type = "text/x"; ngx.header.location = "/loc"; ngx.header["X-Foo"] = "f"; ngx.say("hdr")')} }`,
    `location = /throw { ${blk(js ? ' ngx.say("t"); throw new Error("boom");' : ' ngx.say("t"); error("boom")')} }`,
    // reads the variables at once (the echoes read after an await)
    `location = /getv { ${blk(js ? ' ngx.print(ngx.var.v, ",", ngx.var.w);' : ' ngx.print(ngx.var.v, ",", ngx.var.w)')} }`,
    `location = /setv { ${blk(js ? ' ngx.var.v = "sv"; ngx.var.w = "sw"; ngx.ctx.s = "1"; ngx.print("set");' : ' ngx.var.v = "sv"; ngx.var.w = "sw"; ngx.ctx.s = "1"; ngx.print("set")')} }`,
    `location = /nest { ${blk(js
      ? ' const r = await ngx.location.capture("/echo/n?d=2"); ngx.print(r.status, ":", r.body);'
      : ' local r = ngx.location.capture("/echo/n?d=2"); ngx.print(r.status, ":", r.body)')} }`,
  ];
  for (const n of [200, 204, 301, 404, 500, 444]) locs.push(`location = /x${n} { ${exit(n, false)} }`);
  locs.push(`location = /px404 { ${exit(404, true)} }`, `location = /px200 { ${exit(200, true)} }`);
  return locs.map((l) => `    ${l}\n`).join('');
}

const FILES = { 'html/static/f.txt': 'static file\n' };

/** The static file's mtime on both servers (its ETag and Last-Modified). */
function stamp(prefix: string): void {
  fs.chmodSync(prefix, 0o755);
  fs.utimesSync(`${prefix}/html/static/f.txt`, 1_700_000_000, 1_700_000_000);
}

// --- the grammar -------------------------------------------------------------------------------

type ArgV = string | number | boolean | ArgV[];
interface Opts {
  method?: string;
  body?: string;
  args?: string | Record<string, ArgV>;
  vars?: Record<string, string>;
  copy_all_vars?: boolean;
  share_all_vars?: boolean;
  ctx?: boolean;
  always_forward_body?: boolean;
}
interface Sub { uri: string; opts: Opts | null }
interface Case {
  kind: 'capture' | 'multi' | 'exec';
  subs: Sub[];
  /** the parent's request */
  method: 'GET' | 'POST';
  query: string;
  body?: string;
  read: boolean;
  exec?: { uri: string; args?: string | Record<string, ArgV> };
}

const SUB_URIS = ['/echo/a', '/echo/a?q=1', '/echo/a%20b?x=%41', '/echo', '/echo/a?', '/hdr', '/ret403', '/ret302', '/ret200',
  '/x200', '/x204', '/x301', '/x404', '/x500', '/x444', '/px404', '/px200', '/throw', '/setv', '/getv', '/rw/z', '/rw/z?k=v', '/int', '/static/f.txt',
  '/static/missing', '/nest', '/nope'];
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS'];
const BODIES = ['b=1', '', 'hello world', 'x&y=%20'];
const ARG_STRS = ['a=1', 'a=1&b=2', 'q=%20x', 'k=v w', 'x', '', 'a=b=c', '%E9=1'];
const ARG_KEYS = ['a', 'b', 'k y', 'c&d', 'e='];
const ARG_VALS: ArgV[] = ['1', 'x y', 'a&b', '', 7, 2.5, true, false, ['1', 'x'], [true, 'z'], 'é'];
const VAR_SETS: Array<Record<string, string>> = [{ v: 'vx' }, { w: 'w y' }, { v: '', w: '1' }];
const EXEC_URIS = ['/echo/e', '/echo/e?q=1', '@named', '/rw/e', '/int', '/static/f.txt', '/hdr', '/ret403', '/ret200', '/x404', '/nest'];

function argTable(r: () => number): Record<string, ArgV> {
  const t: Record<string, ArgV> = {};
  // one key mostly: a Lua table's order is its hash's (the children dump sorted pieces too)
  const n = r() < 0.7 ? 1 : 2;
  for (let i = 0; i < n; i++) t[pick(r, ARG_KEYS)] = pick(r, ARG_VALS);
  return t;
}

function opts(r: () => number): Opts | null {
  if (r() < 0.25) return null;
  const o: Opts = {};
  if (r() < 0.5) o.method = pick(r, METHODS);
  if (r() < 0.3) o.body = pick(r, BODIES);
  if (r() < 0.4) o.args = r() < 0.5 ? pick(r, ARG_STRS) : argTable(r);
  if (r() < 0.2) o.vars = pick(r, VAR_SETS);
  if (r() < 0.15) o.copy_all_vars = true;
  if (r() < 0.15) o.share_all_vars = true;
  if (r() < 0.25) o.ctx = true;
  if (r() < 0.15) o.always_forward_body = true;
  return o;
}

function randomCase(r: () => number): Case {
  const x = r();
  const method = r() < 0.4 ? 'POST' : 'GET';
  const c: Case = {
    kind: x < 0.55 ? 'capture' : x < 0.85 ? 'multi' : 'exec',
    subs: [],
    method,
    query: pick(r, ['', '', 'p=1', 'p=1&q=%20']),
    body: method === 'POST' ? pick(r, ['pb=1', 'a=2&b=3']) : undefined,
    read: r() < 0.6,
  };
  if (c.kind === 'exec') {
    const uri = pick(r, EXEC_URIS);
    const a = r();
    c.exec = { uri, args: a < 0.4 ? undefined : a < 0.7 ? pick(r, ARG_STRS) : argTable(r) };
    return c;
  }
  const n = c.kind === 'capture' ? 1 : 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) c.subs.push({ uri: pick(r, SUB_URIS), opts: opts(r) });
  return c;
}

// --- the two languages ---------------------------------------------------------------------------

function luaArg(v: ArgV): string {
  if (Array.isArray(v)) return `{${v.map(luaArg).join(', ')}}`;
  return typeof v === 'string' ? luaString(v) : String(v);
}
function luaArgs(a: string | Record<string, ArgV>): string {
  return typeof a === 'string' ? luaString(a) : `{${Object.entries(a).map(([k, v]) => `[${luaString(k)}] = ${luaArg(v)}`).join(', ')}}`;
}

function jsOpts(o: Opts | null, i: number): string {
  if (o === null) return '';
  const p: string[] = [];
  if (o.method) p.push(`method: ngx.HTTP_${o.method}`);
  if (o.body !== undefined) p.push(`body: ${JSON.stringify(o.body)}`);
  if (o.args !== undefined) p.push(`args: ${JSON.stringify(o.args)}`);
  if (o.vars) p.push(`vars: ${JSON.stringify(o.vars)}`);
  if (o.copy_all_vars) p.push('copy_all_vars: true');
  if (o.share_all_vars) p.push('share_all_vars: true');
  if (o.ctx) p.push(`ctx: octx[${i}]`);
  if (o.always_forward_body) p.push('always_forward_body: true');
  return `, { ${p.join(', ')} }`;
}
function luaOpts(o: Opts | null, i: number): string {
  if (o === null) return '';
  const p: string[] = [];
  if (o.method) p.push(`method = ngx.HTTP_${o.method}`);
  if (o.body !== undefined) p.push(`body = ${luaString(o.body)}`);
  if (o.args !== undefined) p.push(`args = ${luaArgs(o.args)}`);
  if (o.vars) p.push(`vars = {${Object.entries(o.vars).map(([k, v]) => `${k} = ${luaString(v)}`).join(', ')}}`);
  if (o.copy_all_vars) p.push('copy_all_vars = true');
  if (o.share_all_vars) p.push('share_all_vars = true');
  if (o.ctx) p.push(`ctx = octx[${i + 1}]`);
  if (o.always_forward_body) p.push('always_forward_body = true');
  return `, { ${p.join(', ')} }`;
}

function parentJs(c: Case): string {
  const pre = `${JS_ENC}
      ${c.read ? 'await ngx.req.read_body();' : ''}
      ngx.var.v = "pv";
      ngx.ctx.p = "1";`;
  if (c.kind === 'exec') {
    const a = c.exec!.args === undefined ? '' : `, ${JSON.stringify(c.exec!.args)}`;
    return `${pre}
      ngx.status = 201;
      ngx.header["X-Before"] = "1";
      return ngx.exec(${JSON.stringify(c.exec!.uri)}${a});`;
  }
  const octx = c.subs.map(() => '{ o: "1" }').join(', ');
  const call = c.kind === 'capture'
    ? `[await ngx.location.capture(${JSON.stringify(c.subs[0]!.uri)}${jsOpts(c.subs[0]!.opts, 0)})]`
    : `await ngx.location.capture_multi([${c.subs.map((s, i) => `[${JSON.stringify(s.uri)}${jsOpts(s.opts, i)}]`).join(', ')}])`;
  return `${pre}
      const octx = [${octx}];
      const res = ${call};
      const o = { res: res.map((x) => ({ status: x.status, header: x.header, body: x.body, truncated: x.truncated })),
        v: ngx.var.v, w: ngx.var.w, ctx: ngx.ctx, octx, args: ngx.var.args, uri: ngx.var.uri, method: ngx.req.get_method() };
      ngx.print(enc(o));`;
}

function parentLua(c: Case): string {
  const pre = `${LUA_ENC}
      ${c.read ? 'ngx.req.read_body()' : ''}
      ngx.var.v = "pv"
      ngx.ctx.p = "1"`;
  if (c.kind === 'exec') {
    const a = c.exec!.args === undefined ? '' : `, ${luaArgs(c.exec!.args)}`;
    return `${pre}
      ngx.status = 201
      ngx.header["X-Before"] = "1"
      return ngx.exec(${luaString(c.exec!.uri)}${a})`;
  }
  const octx = c.subs.map(() => '{ o = "1" }').join(', ');
  const call = c.kind === 'capture'
    ? `{ ngx.location.capture(${luaString(c.subs[0]!.uri)}${luaOpts(c.subs[0]!.opts, 0)}) }`
    : `{ ngx.location.capture_multi({ ${c.subs.map((s, i) => `{ ${luaString(s.uri)}${luaOpts(s.opts, i)} }`).join(', ')} }) }`;
  return `${pre}
      local octx = { ${octx} }
      local res = ${call}
      local rs = {}
      for i, x in ipairs(res) do rs[i] = { status = x.status, header = x.header, body = x.body, truncated = x.truncated } end
      local o = { res = rs, v = ngx.var.v, w = ngx.var.w, ctx = ngx.ctx, octx = octx, args = ngx.var.args, uri = ngx.var.uri, method = ngx.req.get_method() }
      ngx.print(enc(o))`;
}

function conf(all: Case[], lang: 'js' | 'lua'): string {
  const parents = all.map((c, i) => `    location = /p${i} { content_by_${lang}_block {${lang === 'js' ? parentJs(c) : parentLua(c)}\n      } }\n`).join('');
  return `server_name localhost;\n${children(lang)}${parents}`;
}

function wire(c: Case, i: number): string {
  const target = `/p${i}${c.query ? `?${c.query}` : ''}`;
  const body = c.body ?? '';
  const len = c.method === 'POST' ? `Content-Length: ${body.length}\r\nContent-Type: application/x-www-form-urlencoded\r\n` : '';
  return `${c.method} ${target} HTTP/1.1\r\nHost: h\r\nX-A: xa\r\n${len}Connection: close\r\n\r\n${body}`;
}

// --- the regressions ------------------------------------------------------------------------------

const cap = (uri: string, o: Opts | null = null, more: Partial<Case> = {}): Case => ({ kind: 'capture', subs: [{ uri, opts: o }], method: 'GET', query: '', read: false, ...more });
const multi = (subs: Sub[], more: Partial<Case> = {}): Case => ({ kind: 'multi', subs, method: 'GET', query: '', read: false, ...more });
const exec = (uri: string, args?: string | Record<string, ArgV>, more: Partial<Case> = {}): Case => ({ kind: 'exec', subs: [], method: 'GET', query: 'p=1', read: false, exec: { uri, args }, ...more });
const POSTED: Partial<Case> = { method: 'POST', body: 'pb=1', query: 'p=1' };

/** The fixed cases of the divergences found (each failed on tresty before its fix). */
const REGRESSIONS: Case[] = [
  // A subrequest's $request_uri and $request_method are the main request's (were its own).
  cap('/echo/a?q=1', { method: 'PUT' }, { ...POSTED, read: true }),
  // $args of a URI ending in `?` is "" (was nil); ngx.exec to a URI without args leaves none
  // (was the main request's "" or its `?`), and keeps the status and headers set before (were dropped).
  cap('/echo/a?'),
  exec('/int'),
  exec('/int', { b: false }),
  exec('/echo/e?'),
  // ngx.exec("@named", args) ignores the args with a warning (was a throw, a 500).
  exec('@named', 'a=1'),
  // ngx.exit(444) in a subrequest closes the main request's connection (was a capture of 444).
  cap('/x444'),
  multi([{ uri: '/echo/a', opts: null }, { uri: '/x444', opts: null }]),
  // nginx's own length is the capture's numeric Content-Length (was none, or a string), a static
  // file's capture has no Accept-Ranges (had), a HEAD's capture is truncated (was not).
  cap('/ret403'),
  cap('/static/f.txt'),
  cap('/static/f.txt', { method: 'HEAD' }),
  cap('/echo/a', { method: 'HEAD' }),
  // ngx.exit(204) in a subrequest keeps the type and is truncated (was neither).
  cap('/x204'),
  // A throw after output keeps the status, 200, and the output, truncated (was a 500, no body).
  cap('/throw'),
  // A forwarding method keeps the parent's Content-Length even with its body unread (was
  // dropped), and an empty body given has "0", which the nested capture inherits (was none).
  cap('/echo/a', { method: 'POST' }, POSTED),
  cap('/nest', { body: '' }),
  // capture_multi makes every subrequest (their vars set) before the first runs: with
  // share_all_vars an earlier one sees a later one's vars (was its own).
  multi([{ uri: '/getv', opts: { vars: { w: '1' }, share_all_vars: true } }, { uri: '/throw', opts: { vars: { w: 'w y' }, share_all_vars: true } }]),
];

function cases(seed: number, n: number): Case[] {
  const r = prng(seed);
  const out = [...REGRESSIONS];
  for (let i = 0; i < n; i++) out.push(randomCase(r));
  return out;
}

// --- fetching and comparing ------------------------------------------------------------------

/** nginx's name at the foot of its pages as tresty's (docs/directives.md, server_tokens). */
const FOOT = /<hr><center>nginx(\/[0-9.]+)?<\/center>/g;

function unfoot(s: string): string { return s.replace(FOOT, '<hr><center>tresty</center>'); }

/** A dump's child bodies that are JSON (the echoes) parsed, for readable divergences. */
function parsed(body: string): unknown {
  const s = unfoot(body);
  // /nest's `status:body`
  const nest = /^([0-9]+):(\{.*)$/s.exec(s);
  if (nest) return { nest: Number(nest[1]), body: parsed(nest[2]!) };
  if (!s.startsWith('{')) return s;
  try { return JSON.parse(s) as unknown; } catch { return s; }
}

interface Got { status: string; head: string[]; dump: unknown }

async function fetchGot(port: number, c: Case, i: number): Promise<Got> {
  const res = await raw(port, [wire(c, i)], { timeoutMs: 5000 });
  const a = answerParts(res.data);
  const chunked = a.head.some((l) => /^transfer-encoding: chunked/i.test(l));
  const body = Buffer.from(chunked ? dechunk(a.body) : a.body, 'latin1').toString('utf8');
  const head = a.head.filter((l) => !/^(date|server|connection|content-length|transfer-encoding):/i.test(l)).sort();
  if (c.kind === 'exec' || !a.status.startsWith('HTTP/1.1 200')) return { status: a.status, head, dump: parsed(body) };
  let d: { res: Array<{ body: unknown }> };
  try { d = JSON.parse(body) as typeof d; } catch { return { status: a.status, head, dump: body }; }
  for (const x of d.res) x.body = parsed(x.body as string);
  return { status: a.status, head: [], dump: d };
}

/** Lua's strings (bytes, one char a byte) as tresty's: text when UTF-8 (docs/api.md, get_uri_args'
 *  row), throughout a dump. */
function textOf(g: Got): Got {
  const walk = (v: unknown): unknown => typeof v === 'string' ? asText(v)
    : Array.isArray(v) ? v.map(walk)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [asText(k), walk(x)])) : v;
  return { ...g, dump: walk(g.dump) };
}

/** Args from a table of several keys: Lua's come in its hash's order, JS's in the object's. */
function unordered(c: Case): boolean {
  const many = (a: Opts['args']): boolean => typeof a === 'object' && Object.keys(a).length > 1;
  return c.subs.some((s) => many(s.opts?.args)) || many(c.exec?.args);
}

/** The echoes' `args` as their sorted pieces (`parts`), for unordered(c). */
function sortedArgs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedArgs);
  if (v === null || typeof v !== 'object') return v;
  const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortedArgs(x)])) as Record<string, unknown>;
  if (typeof o.args === 'string' && Array.isArray(o.parts)) o.args = o.parts.join('&');
  return o;
}

/**
 * docs/api.md, "Differences from OpenResty that remain": an args table with a `false` value under
 * a key that needs escaping fails in lua-nginx-module (`buffer error: 7 != 9`, a 500); tresty
 * drops the pair. Such a case is not compared.
 */
function luaArgsBug(c: Case): boolean {
  const bad = (a: Opts['args']): boolean => typeof a === 'object'
    && Object.entries(a).some(([k, v]) => v === false && /[^A-Za-z0-9_.~!*'()-]/.test(k));
  return c.subs.some((s) => bad(s.opts?.args)) || bad(c.exec?.args);
}

/**
 * docs/api.md, "Differences from OpenResty that remain": in capture_multi, lua-nginx-module keeps
 * an `always_forward_body` for the later subrequests of the call; tresty gives each its own. The
 * body and Content-Length those later ones see (their echoes' `body` and `cl`) are not compared.
 */
function stickyForward(c: Case, d: unknown): unknown {
  const first = c.kind === 'multi' ? c.subs.findIndex((s) => s.opts?.always_forward_body === true) : -1;
  const res = (d as { res?: unknown[] } | null)?.res;
  if (first < 0 || !Array.isArray(res)) return d;
  const drop = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(drop);
    if (v === null || typeof v !== 'object') return v;
    const echo = typeof (v as Record<string, unknown>).sub === 'boolean';
    return Object.fromEntries(Object.entries(v).filter(([k]) => !echo || (k !== 'cl' && k !== 'body')).map(([k, x]) => [k, drop(x)]));
  };
  return { ...(d as object), res: res.map((x, j) => (j > first ? drop(x) : x)) };
}

/**
 * docs/api.md, "Differences from OpenResty that remain": waiting APIs return promises, and an
 * await yields even when the answer is there (an echo's read_body of a subrequest, which lua's
 * returns at once): in capture_multi with share_all_vars, a later sibling that writes the shared
 * variables without waiting (/setv) runs before an earlier echo resumes. Their `v` and `w` are not
 * compared then.
 */
function interleaved(c: Case): boolean {
  const shared = c.subs.filter((s) => s.opts?.share_all_vars === true);
  const waits = shared.findIndex((s) => /^\/(echo|int|rw\/|nest)/.test(s.uri));
  return c.kind === 'multi' && waits >= 0 && shared.slice(waits + 1).some((s) => s.uri === '/setv');
}

function withoutVars(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutVars);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'v' && k !== 'w').map(([k, x]) => [k, withoutVars(x)]));
}

function compare(c: Case, i: number, want: Got, got: Got): Divergence[] {
  const req = `${wire(c, i).split('\r\n')[0]} ${JSON.stringify(c)}`;
  const out: Divergence[] = [];
  if (luaArgsBug(c)) return out;
  let [nginx, js] = unordered(c) ? [{ ...want, dump: sortedArgs(want.dump) }, { ...got, dump: sortedArgs(got.dump) }] : [want, got];
  [nginx, js] = [{ ...nginx, dump: stickyForward(c, nginx.dump) }, { ...js, dump: stickyForward(c, js.dump) }];
  if (interleaved(c)) [nginx, js] = [{ ...nginx, dump: withoutVars(nginx.dump) }, { ...js, dump: withoutVars(js.dump) }];
  for (const f of ['status', 'head', 'dump'] as const) {
    if (JSON.stringify(nginx[f]) !== JSON.stringify(js[f])) out.push({ req, field: f, nginx: nginx[f], tresty: js[f] });
  }
  return out;
}

// --- the runs ----------------------------------------------------------------------------------

const SEED = Number(process.env.TRESTY_FUZZ_SEED ?? 20261204);
const N = Number(process.env.TRESTY_FUZZ_CASES ?? 250);

const missing = nginxMissing();
describe.skipIf(missing !== null)(`subrequest fuzz against nginx + lua (seed ${SEED})${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const all = cases(SEED, N);
  let n: Nginx;
  const want: Got[] = [];
  beforeAll(async () => {
    n = await startNginx(conf(all, 'lua'), '', FILES);
    stamp(n.prefix);
    for (let i = 0; i < all.length; i++) want.push(textOf(await fetchGot(n.port, all[i]!, i)));
    // every case with nginx's answer, to read what nginx does
    if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(`${process.env.TRESTY_FUZZ_OUT}.nginx`, all.map((c, i) => JSON.stringify({ i, c, want: want[i] })).join('\n'));
  }, 60_000);
  afterAll(async () => { await n?.stop(); });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'tresty'), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(oneServerConf(port, conf(all, 'js')), { env: e.env, files: FILES });
        stamp(t.prefix);
      });
      afterAll(async () => { await t?.stop(); });

      it(`${all.length} parents: the same captures and redirects as nginx + lua (TRESTY_FUZZ_SEED=${SEED})`, async () => {
        const diffs: Divergence[] = [];
        for (let i = 0; i < all.length; i++) diffs.push(...compare(all[i]!, i, want[i]!, await fetchGot(port, all[i]!, i)));
        if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(`${process.env.TRESTY_FUZZ_OUT}.${e.name}`, diffs.map((d) => JSON.stringify(d)).join('\n'));
        if (diffs.length > 0) console.log(`seed ${SEED}: ${diffs.length} divergences\n${diffs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n')}`);
        expect(diffs.slice(0, 5)).toEqual([]);
      }, 120_000);
    });
  }
});
