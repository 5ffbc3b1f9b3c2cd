// A differential fuzz of the API that writes a response: each seeded case is a small program (a
// list of steps drawn from a grammar: ngx.header writes and reads, ngx.status, ngx.say/print of
// strings, numbers, booleans, null and nested arrays, ngx.exit, ngx.redirect, ngx.flush,
// ngx.resp.get_headers) with an optional header_filter and body_filter, run as JS on tresty (both
// engines) and as the same program in Lua on nginx 1.22 + lua-nginx-module, over GET and HEAD on
// HTTP/1.1 and GET on HTTP/1.0. The answers must agree byte for byte: the status line, every head
// line in order with its name's case (Date and Server aside) and the body as framed.
// TRESTY_FUZZ_SEED=N replays (or varies) the run; fixed regression cases go first in every run.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './helpers/conn.js';
import { ENGINES, titled } from './helpers/engines.js';
import { answerParts, type Divergence, NGINX_NAME, pick, prng } from './helpers/fuzz.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

// --- the grammar -------------------------------------------------------------------------------

/** A value for ngx.say/print: JS null is Lua nil (docs/api.md, ngx.say's row). */
type Val = string | number | boolean | null | Val[];
/** A value for ngx.header[NAME]: an array is a header's lines; null clears. */
type HVal = string | number | string[] | null;

type Step =
  | { op: 'set'; name: string; v: HVal }
  | { op: 'readH'; name: string }
  | { op: 'readB'; name: string }
  | { op: 'status'; n: number }
  | { op: 'out'; say: boolean; args: Val[] }
  | { op: 'flush' }
  | { op: 'getH'; max?: number; raw?: boolean; into: 'header' | 'body' }
  | { op: 'exit'; n: number }
  | { op: 'redirect'; uri: string; code?: number };

type HfOp = 'set' | 'clearLen' | 'status' | 'copyType' | 'cookie' | 'readStatus';
type BfOp = 'upper' | 'wrap' | 'eof' | 'count';

interface Case { steps: Step[]; hf: HfOp[]; bf?: BfOp; req: 'GET11' | 'HEAD11' | 'GET10' }

const NAMES = ['X-Foo', 'x-foo', 'X-FOO', 'x_foo', 'X_Bar_Baz', 'Content-Type', 'content_type', 'Content-Length',
  'Content-Encoding', 'Cache-Control', 'cache_control', 'Set-Cookie', 'set-cookie', 'Location', 'Link', 'X-Multi'];
const HSTR = ['v', 'a b', '', 'text/html', 'gzip', 'no-cache', 'a=1; Path=/', '/loc', 'http://e.x/y', '<http://e.x/>; rel=next', '5', '0'];
const STATUSES = [200, 201, 204, 301, 302, 404, 418, 500, 503];
const EXITS = [200, 204, 301, 404, 444, 499, 500, 0];
const URIS = ['/x', 'http://e.x/y?z=1', 'rel', '/a?b=c'];
const SSTR = ['a', 'hello', '', 'x y', 'ünï', '-'];
const NUMS = [0, 1, 42, -3, 2.5, 0.1, 1e15, 1e20, 123456789012];

function hval(r: () => number, name: string): HVal {
  const x = r();
  if (/length/i.test(name)) return x < 0.4 ? pick(r, [0, 5, 12]) : x < 0.8 ? pick(r, ['5', '0']) : null;
  if (x < 0.55) return pick(r, HSTR);
  if (x < 0.7) return pick(r, [0, 42, 2.5]);
  if (x < 0.9) return Array.from({ length: Math.floor(r() * 3) }, () => pick(r, HSTR));
  return null;
}

function val(r: () => number, depth = 0): Val {
  const x = r();
  if (x < 0.45) return pick(r, SSTR);
  if (x < 0.65) return pick(r, NUMS);
  if (x < 0.75) return r() < 0.5;
  if (x < 0.82) return null;
  if (depth >= 2) return 'd';
  // no null inside an array: a Lua table cannot hold one where a JS array can
  return Array.from({ length: Math.floor(r() * 3) }, () => { const v = val(r, depth + 1); return v === null ? 'n' : v; });
}

function step(r: () => number, last: boolean): Step {
  const x = r();
  if (last && x < 0.35) {
    return r() < 0.7 ? { op: 'exit', n: pick(r, EXITS) } : { op: 'redirect', uri: pick(r, URIS), code: pick(r, [undefined, 301, 302, 303, 307, 308]) };
  }
  const y = r();
  if (y < 0.35) { const name = pick(r, NAMES); return { op: 'set', name, v: hval(r, name) }; }
  if (y < 0.45) return { op: 'readH', name: pick(r, NAMES) };
  if (y < 0.5) return { op: 'readB', name: pick(r, NAMES) };
  if (y < 0.62) return { op: 'status', n: pick(r, STATUSES) };
  if (y < 0.85) return { op: 'out', say: r() < 0.6, args: Array.from({ length: 1 + Math.floor(r() * 3) }, () => val(r)) };
  if (y < 0.9) return { op: 'flush' };
  return { op: 'getH', max: r() < 0.5 ? undefined : pick(r, [1, 2, 5]), raw: r() < 0.3 ? true : undefined, into: r() < 0.5 ? 'header' : 'body' };
}

function randomCase(r: () => number): Case {
  const n = 1 + Math.floor(r() * 6);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) steps.push(step(r, i === n - 1));
  // a Content-Length the handler sets is usually wrong for its body: keep it to a few cases
  for (const s of steps) if (s.op === 'set' && /length/i.test(s.name) && r() < 0.6) s.name = 'X-Foo';
  const hf: HfOp[] = r() < 0.3 ? Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick(r, ['set', 'clearLen', 'status', 'copyType', 'cookie', 'readStatus'] as const)) : [];
  const bf = r() < 0.2 ? pick(r, ['upper', 'wrap', 'eof', 'count'] as const) : undefined;
  const q = r();
  return { steps, hf, bf, req: q < 0.7 ? 'GET11' : q < 0.85 ? 'HEAD11' : 'GET10' };
}

// --- the two languages ---------------------------------------------------------------------------

function jsVal(v: Val | HVal): string { return JSON.stringify(v); }

function luaVal(v: Val | HVal): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return `{${v.map(luaVal).join(', ')}}`;
  if (typeof v === 'string') return JSON.stringify(v); // the strings are ASCII or UTF-8 text: the same escapes
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : v.toExponential().replace('e+', 'e');
  return String(v);
}

const JS_PRE = `
      const fmt = (v) => v == null ? "nil" : Array.isArray(v) ? "[" + v.join(",") + "]" : String(v);
      const dumpH = (h) => Object.keys(h).sort().map((k) => k + "=" + fmt(h[k])).join("&");`;
const LUA_PRE = `
      local function fmt(v)
        if v == nil then return "nil" elseif type(v) == "table" then return "[" .. table.concat(v, ",") .. "]" end
        return tostring(v)
      end
      local function dumpH(h)
        local ks = {}
        for k in pairs(h) do ks[#ks + 1] = k end
        table.sort(ks)
        local p = {}
        for i, k in ipairs(ks) do p[i] = k .. "=" .. fmt(h[k]) end
        return table.concat(p, "&")
      end`;

function jsStep(s: Step, i: number): string {
  switch (s.op) {
    case 'set': return `ngx.header[${jsVal(s.name)}] = ${jsVal(s.v)};`;
    case 'readH': return `ngx.header["X-R${i}"] = fmt(ngx.header[${jsVal(s.name)}]);`;
    case 'readB': return `ngx.say("r${i}=", fmt(ngx.header[${jsVal(s.name)}]));`;
    case 'status': return `ngx.status = ${s.n};`;
    case 'out': return `ngx.${s.say ? 'say' : 'print'}(${s.args.map(jsVal).join(', ')});`;
    case 'flush': return 'await ngx.flush(true);';
    case 'getH': {
      const a = s.raw ? `${s.max ?? 'undefined'}, true` : s.max !== undefined ? String(s.max) : '';
      return s.into === 'header' ? `ngx.header["X-G${i}"] = dumpH(ngx.resp.get_headers(${a}));` : `ngx.say("g${i}=", dumpH(ngx.resp.get_headers(${a})));`;
    }
    case 'exit': return `return ngx.exit(${s.n === 0 ? 'ngx.OK' : s.n});`;
    case 'redirect': return `return ngx.redirect(${jsVal(s.uri)}${s.code ? `, ${s.code}` : ''});`;
  }
}

function luaStep(s: Step, i: number): string {
  switch (s.op) {
    case 'set': return `ngx.header[${luaVal(s.name)}] = ${luaVal(s.v)}`;
    case 'readH': return `ngx.header["X-R${i}"] = fmt(ngx.header[${luaVal(s.name)}])`;
    case 'readB': return `ngx.say("r${i}=", fmt(ngx.header[${luaVal(s.name)}]))`;
    case 'status': return `ngx.status = ${s.n}`;
    case 'out': return `ngx.${s.say ? 'say' : 'print'}(${s.args.map(luaVal).join(', ')})`;
    case 'flush': return 'ngx.flush(true)';
    case 'getH': {
      const a = s.raw ? `${s.max ?? 'nil'}, true` : s.max !== undefined ? String(s.max) : '';
      return s.into === 'header' ? `ngx.header["X-G${i}"] = dumpH(ngx.resp.get_headers(${a}))` : `ngx.say("g${i}=", dumpH(ngx.resp.get_headers(${a})))`;
    }
    case 'exit': return `do return ngx.exit(${s.n === 0 ? 'ngx.OK' : s.n}) end`;
    case 'redirect': return `do return ngx.redirect(${luaVal(s.uri)}${s.code ? `, ${s.code}` : ''}) end`;
  }
}

const HF_JS: Record<HfOp, string> = {
  set: 'ngx.header["X-HF"] = "hf";',
  clearLen: 'ngx.header.content_length = null;',
  status: 'if (ngx.status === 404) ngx.status = 410;',
  copyType: 'ngx.header["X-HF-Type"] = fmt(ngx.header.content_type);',
  cookie: 'ngx.header["Set-Cookie"] = ["hf=1", "hf=2"];',
  readStatus: 'ngx.header["X-HF-Status"] = ngx.status;',
};
const HF_LUA: Record<HfOp, string> = {
  set: 'ngx.header["X-HF"] = "hf"',
  clearLen: 'ngx.header.content_length = nil',
  status: 'if ngx.status == 404 then ngx.status = 410 end',
  copyType: 'ngx.header["X-HF-Type"] = fmt(ngx.header.content_type)',
  cookie: 'ngx.header["Set-Cookie"] = {"hf=1", "hf=2"}',
  readStatus: 'ngx.header["X-HF-Status"] = ngx.status',
};
const BF_JS: Record<BfOp, string> = {
  // ASCII only, as Lua's string.upper of bytes (a JS string's toUpperCase changes ü too)
  upper: 'ngx.arg[1] = ngx.arg[1].replace(/[a-z]+/g, (m) => m.toUpperCase());',
  wrap: 'ngx.arg[1] = "[" + ngx.arg[1] + "]";',
  eof: 'if (ngx.arg[2]) ngx.arg[1] = ngx.arg[1] + "<eof>";',
  count: 'ngx.ctx.n = (ngx.ctx.n ?? 0) + 1; ngx.arg[1] = ngx.ctx.n + ":" + ngx.arg[1];',
};
const BF_LUA: Record<BfOp, string> = {
  upper: 'ngx.arg[1] = string.upper(ngx.arg[1])',
  wrap: 'ngx.arg[1] = "[" .. ngx.arg[1] .. "]"',
  eof: 'if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. "<eof>" end',
  count: 'ngx.ctx.n = (ngx.ctx.n or 0) + 1; ngx.arg[1] = ngx.ctx.n .. ":" .. ngx.arg[1]',
};

function location(c: Case, i: number, lang: 'js' | 'lua'): string {
  const js = lang === 'js';
  const body = c.steps.map((s, k) => (js ? jsStep : luaStep)(s, k)).join('\n      ');
  let loc = `    location = /c${i} {\n      content_by_${lang}_block {${js ? JS_PRE : LUA_PRE}\n      ${body}\n      }\n`;
  if (c.hf.length > 0) loc += `      header_filter_by_${lang}_block {${js ? JS_PRE : LUA_PRE}\n      ${c.hf.map((o) => (js ? HF_JS : HF_LUA)[o]).join('\n      ')}\n      }\n`;
  if (c.bf) loc += `      body_filter_by_${lang}_block { ${(js ? BF_JS : BF_LUA)[c.bf]} }\n`;
  return `${loc}    }\n`;
}

function wire(c: Case, i: number): string {
  const line = c.req === 'HEAD11' ? `HEAD /c${i} HTTP/1.1` : `GET /c${i} HTTP/1.${c.req === 'GET10' ? 0 : 1}`;
  return `${line}\r\nHost: h\r\nConnection: close\r\n\r\n`;
}

const out = (...args: Val[]): Step => ({ op: 'out', say: true, args });
const set = (name: string, v: HVal): Step => ({ op: 'set', name, v });
const getH = (into: 'header' | 'body', max?: number, raw?: boolean): Step => ({ op: 'getH', into, max, raw });
const prog = (steps: Step[], req: Case['req'] = 'GET11', hf: HfOp[] = [], bf?: BfOp): Case => ({ steps, hf, bf, req });

/** The fixed cases of the divergences found (each failed on tresty before its fix). */
const REGRESSIONS: Case[] = [
  // ngx.header: "" clears (and reads nil), an array's "" lines are skipped (Cache-Control's and
  // Link's their own way: headers.ts, builtinLines), a single-valued header
  // (Location, Content-Type) takes an array's last value, a cleared Content-Type gets no
  // default_type, a Content-Length that is not digits is lua's error (a 500). Were: "X-Foo: ",
  // both lines, the default type, a 200.
  prog([set('X-Foo', 'gzip'), set('x-foo', ''), set('X-Multi', ['', 'v', '']), set('Location', ['0', '/loc']), { op: 'readB', name: 'x_foo' }, out('a')]),
  prog([set('Content-Type', ['v', '']), set('Link', ['', '']), set('Cache-Control', ['c', '']), set('X-Foo', ['', '']), out('a')]),
  prog([set('content_type', []), out('a')], 'HEAD11'),
  prog([set('content_type', 'x/y'), set('Content-Type', null), out('a')], 'GET10'),
  prog([set('Content-Length', 'no-cache'), out('a')]),
  // (a guard, passed before too: after a value starting with `/`, Location's next is a new line)
  prog([set('Location', ['/loc', 'a b']), set('X-Foo', 'v')], 'HEAD11'),
  // ngx.resp.get_headers: connection, content-type, transfer-encoding (once chunked) as lua gives
  // them, outside `max` but counted against it; `max` and `raw` were ignored.
  prog([set('X-Foo', 'v'), set('Cache-Control', 'a b'), getH('body', 1), getH('header', 2, true), getH('body', 5), set('content_type', 'x/y'), getH('header'), out('a'), getH('body')]),
  prog([set('content_type', '/loc'), getH('body', 1), { op: 'status', n: 302 }]),
  // header_filter reads default_type as the type of an answer that set none (was nil).
  prog([out('a')], 'GET11', ['copyType']),
  prog([{ op: 'status', n: 404 }], 'GET10', ['copyType', 'readStatus']),
  // ... also with ngx.status = 204 (was nil); not for ngx.exit(204), nginx's special response (a
  // guard: nil before too).
  prog([set('Set-Cookie', 'v'), { op: 'status', n: 204 }], 'GET11', ['copyType']),
  prog([set('Location', '42'), { op: 'exit', n: 204 }], 'GET11', ['copyType']),
  // ngx.exit(204) clears the handler's type too (was read in header_filter).
  prog([set('content_type', '42'), { op: 'exit', n: 204 }], 'GET11', ['copyType']),
  // Once output made the head count as sent, a throw (ngx.redirect after output), ngx.exit(204),
  // 444 or 499 terminate the request: nothing buffered goes out, a flushed chunked body gets no
  // end, a HEAD's head (sent at its first output) arrives. Were: a 500 page, or the whole answer.
  prog([out('a'), { op: 'redirect', uri: '/x' }]),
  prog([out('a'), { op: 'redirect', uri: '/x' }], 'HEAD11'),
  prog([out('a'), { op: 'exit', n: 204 }]),
  prog([out('a'), { op: 'exit', n: 499 }], 'HEAD11'),
  prog([out('a'), { op: 'flush' }, out('b'), { op: 'exit', n: 499 }]),
  prog([out('a'), { op: 'flush' }, out('b'), { op: 'exit', n: 444 }]),
  prog([{ op: 'status', n: 204 }, out('a'), { op: 'exit', n: 499 }]),
  // (node:http dropped the flushed bytes still in the socket's write queue at the close)
  prog([out([false, 42]), { op: 'flush' }, { op: 'flush' }, { op: 'redirect', uri: '/x' }], 'GET11', [], 'wrap'),
  // ngx.exit(2xx) keeps an ngx.status set before (but 204): was the exit's status.
  prog([{ op: 'status', n: 302 }, set('X-Foo', '42'), { op: 'exit', n: 200 }]),
  prog([{ op: 'status', n: 404 }, { op: 'exit', n: 201 }], 'GET11', [], 'upper'),
  // nginx's page keeps its length when the handler cleared Content-Length (was chunked), and a
  // HEAD's page its length with a header_filter (was 0).
  prog([set('X_Bar_Baz', 'v'), set('Content-Length', []), { op: 'redirect', uri: 'http://e.x/y?z=1', code: 303 }]),
  prog([{ op: 'redirect', uri: '/a?b=c', code: 302 }], 'HEAD11', ['status', 'copyType']),
  // A 204's Content-Type is dropped, even one the handler set (was sent).
  prog([set('Content-Type', 'a b'), { op: 'status', n: 204 }]),
  // ngx.print("") runs header_filter at once (was: at the end), so what it set is seen after.
  prog([{ op: 'out', say: false, args: [''] }, getH('body')], 'GET11', ['set']),
];

function cases(seed: number, n: number): Case[] {
  const r = prng(seed);
  const out = [...REGRESSIONS];
  for (let i = 0; i < n; i++) out.push(randomCase(r));
  return out;
}

// --- fetching and comparing ------------------------------------------------------------------

interface Answer { status: string; head: string[]; body: string }

async function fetchAnswer(port: number, c: Case, i: number): Promise<Answer> {
  const res = await raw(port, [wire(c, i)], { timeoutMs: 5000 });
  const a = answerParts(res.data);
  return { status: a.status, head: a.head.filter((l) => !/^(date|server):/i.test(l)), body: a.body };
}


/** nginx's answer with its pages' foot as tresty's (docs/directives.md, server_tokens: tresty's
 *  pages say `tresty`), their Content-Length (a HEAD's too) less the difference. */
function asTresty(a: Answer, head: boolean): Answer {
  const page = /^HTTP\/1\.1 [345]/.test(a.status) && a.head.includes('Content-Type: text/html');
  if (!page) return a;
  const body = a.body.replace(/<hr><center>nginx\/[0-9.]+<\/center>/i, (m) => (m === m.toUpperCase() ? '<HR><CENTER>TRESTY</CENTER>' : '<hr><center>tresty</center>'));
  const d = head ? NGINX_NAME.length - 'tresty'.length : a.body.length - body.length;
  if (d === 0) return a;
  // a page made chunked (header_filter cleared its length): its one chunk's size too
  const chunk = /^([0-9a-f]+)\r\n/.exec(body);
  const framed = a.head.includes('Transfer-Encoding: chunked') && chunk ? `${(parseInt(chunk[1]!, 16) - d).toString(16)}${body.slice(chunk[1]!.length)}` : body;
  return { ...a, body: framed, head: a.head.map((l) => (/^content-length: /i.test(l) ? `${l.slice(0, 16)}${Number(l.slice(16)) - d}` : l)) };
}

/**
 * docs/api.md, "Differences from OpenResty that remain": a body filter that changes the length of
 * a body whose length was known before it (nginx's pages, an HTTP/1.0 answer) leaves nginx's
 * Content-Length as it was (the body then disagrees with it); tresty's counts what the filter gave.
 * Only the length's value is excused.
 */
const LENGTH_FILTERS = new Set<BfOp | undefined>(['wrap', 'eof', 'count']);

/** docs/api.md, the same row: a Content-Length the handler set that disagrees with a body known
 *  whole is sent as the body's length (nginx sends the handler's). Only the length's value. */
function setsLength(c: Case): boolean {
  return c.steps.some((s) => s.op === 'set' && /length/i.test(s.name) && s.v !== null);
}

function withoutLength(head: string[]): string[] {
  return head.map((l) => (/^content-length: /i.test(l) ? 'Content-Length: *' : l));
}

/** Lua's tostring of a number (%.14g). */
function luaNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e14) return String(n);
  const s = n.toPrecision(14);
  const m = /^(-?[0-9.]+)e([+-])([0-9]+)$/.exec(s);
  if (m) return `${m[1]!.replace(/\.?0+$/, '')}e${m[2]}${m[3]!.padStart(2, '0')}`;
  return s.replace(/\.?0+$/, '');
}

function numbers(v: Val): number[] {
  return typeof v === 'number' ? [v] : Array.isArray(v) ? v.flatMap(numbers) : [];
}

const OUTPUT = new Set(['out', 'readB']);

/**
 * docs/api.md, "Differences from OpenResty that remain": a header set again (an array over a
 * Set-Cookie, ngx.redirect after a Location, a header cleared and set again) keeps all its lines
 * at one place under one name, where nginx reuses the old line (its place and name) for the first
 * and appends the others, with the name given, at the end of its list. The same lines, in another
 * order or case (and get_headers(_, true) gives one name).
 */
function reordered(c: Case, lua: Answer, js: Answer): boolean {
  const names = c.steps.flatMap((s) => (s.op === 'set' ? [s.name.toLowerCase().replace(/_/g, '-')] : s.op === 'redirect' ? ['location'] : []));
  const multi = c.hf.includes('cookie') || new Set(names).size < names.length;
  // get_headers(_, true) shows the names as kept: its dumps (X-G<i>) differ the same way
  const rawDumps = new Set(c.steps.flatMap((s, i) => (s.op === 'getH' && s.raw ? [`x-g${i}:`] : [])));
  const lines = (h: string[]): string => JSON.stringify(h.map((l) => l.toLowerCase()).filter((l) => !rawDumps.has(l.slice(0, l.indexOf(':') + 1))).sort());
  return multi && lines(lua.head) === lines(js.head);
}

/**
 * The documented differences (docs/api.md, "Differences from OpenResty that remain", unless said),
 * for the fields they change:
 * - a number is printed as JavaScript prints it (1e20 as its 21 digits; Lua's %.14g: `1e+20`);
 * - an HTTP/1.0 answer's head counts as sent at the first output (lua-nginx-module buffers it and
 *   sends the head at the end, so headers, status and ngx.redirect still work after output, and
 *   body_filter sees the body as one chunk).
 */
function excused(c: Case, field: string): boolean {
  const nums = c.steps.flatMap((s) => (s.op === 'out' ? s.args.flatMap(numbers) : []));
  if (field !== 'status' && nums.some((n) => luaNumber(n) !== String(n))) return true;
  const first = c.steps.findIndex((s) => OUTPUT.has(s.op) || (s.op === 'getH' && s.into === 'body'));
  if (c.req === 'GET10' && first >= 0 && (c.bf !== undefined || c.steps.slice(first + 1).some((s) => s.op !== 'out' && s.op !== 'flush'))) return true;
  // (and lua sends the buffered body even after a 204's head; an empty first output sends the
  // head at once, with no length)
  if (c.req === 'GET10' && first >= 0 && c.steps.slice(0, first).some((s) => s.op === 'status' && s.n === 204)) return true;
  const firstOut = c.steps[first];
  if (c.req === 'GET10' && firstOut?.op === 'out' && firstOut.args.flat(3).every((v) => v === '') && field === 'head') return true;
  return false;
}

function compare(c: Case, i: number, nginx: Answer, js: Answer): Divergence[] {
  const req = `${wire(c, i).split('\r\n')[0]} ${JSON.stringify({ steps: c.steps, hf: c.hf, bf: c.bf })}`;
  const lua = asTresty(nginx, c.req === 'HEAD11');
  const out: Divergence[] = [];
  for (const f of ['status', 'head', 'body'] as const) {
    if (JSON.stringify(lua[f]) === JSON.stringify(js[f]) || excused(c, f)) continue;
    if (f === 'head') {
      const length = LENGTH_FILTERS.has(c.bf) || setsLength(c);
      const l = { ...lua, head: length ? withoutLength(lua.head) : lua.head };
      const j = { ...js, head: length ? withoutLength(js.head) : js.head };
      if (JSON.stringify(l.head) === JSON.stringify(j.head) || reordered(c, l, j)) continue;
    }
    out.push({ req, field: f, nginx: lua[f], tresty: js[f] });
  }
  return out;
}

// --- the runs ----------------------------------------------------------------------------------

const SEED = Number(process.env.TRESTY_FUZZ_SEED ?? 20261203);
const N = Number(process.env.TRESTY_FUZZ_CASES ?? 300);

const missing = nginxMissing();
describe.skipIf(missing !== null)(`response API fuzz against nginx + lua (seed ${SEED})${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const all = cases(SEED, N);
  let n: Nginx;
  const want: Answer[] = [];
  beforeAll(async () => {
    n = await startNginx(`server_name localhost;\n${all.map((c, i) => location(c, i, 'lua')).join('')}`);
    for (let i = 0; i < all.length; i++) want.push(await fetchAnswer(n.port, all[i]!, i));
  }, 60_000);
  afterAll(async () => { await n?.stop(); });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'tresty'), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(oneServerConf(port, `server_name localhost;\n${all.map((c, i) => location(c, i, 'js')).join('')}`), { env: e.env });
      });
      afterAll(async () => { await t?.stop(); });

      it(`${all.length} programs: the same answers as nginx + lua (TRESTY_FUZZ_SEED=${SEED})`, async () => {
        const diffs: Divergence[] = [];
        for (let i = 0; i < all.length; i++) diffs.push(...compare(all[i]!, i, want[i]!, await fetchAnswer(port, all[i]!, i)));
        if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(`${process.env.TRESTY_FUZZ_OUT}.${e.name}`, diffs.map((d) => JSON.stringify(d)).join('\n'));
        if (diffs.length > 0) console.log(`seed ${SEED}: ${diffs.length} divergences\n${diffs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n')}`);
        expect(diffs.slice(0, 5)).toEqual([]);
      }, 120_000);
    });
  }
});
