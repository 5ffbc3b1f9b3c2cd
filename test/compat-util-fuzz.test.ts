// A differential fuzz of ngx's utility functions (docs/api.md, "Utilities"): each seeded case is
// a list of calls (escape_uri with its types, unescape_uri, encode_args, decode_args, base64,
// md5, sha1, crc32, hmac_sha1, quote_sql_str, the time formats and parse_http_time) on inputs
// drawn from a grammar (binary bytes, UTF-8, empty, long, odd padding, broken %xx, bad dates),
// run by a JS handler on tresty (both engines) and by a Lua handler on nginx 1.22 + lua
// (lua-resty-core 0.1.25), each answering every call's result (or that it raised) as JSON. They
// must agree. TRESTY_FUZZ_SEED=N replays (or varies) the run; fixed regression cases go first.
// The JS side passes bytes as a Uint8Array and text as a string (Lua gets its UTF-8); a Lua
// string result is compared as tresty gives it: text when UTF-8, else one char a byte (docs/api.md,
// unescape_uri's row), and md5_bin / sha1_bin / hmac_sha1 (a Buffer) as hex. Compared loosely:
// a raise only as "it raised" (the words differ: TRESTY_ERR_API_ARGS); encode_args as the set
// of its `k=v` pieces (a Lua table's pairs() order is its hash's, unspecified); utctime,
// localtime and today as their format (digits as `d`). decode_base64mime is not in
// lua-nginx-module 0.10.23 (nor in tresty): not drawn.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { asText, type Divergence, LUA_ENC, luaBytes, luaString, pick, prng } from './helpers/fuzz.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { freePort, httpGet, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

// --- values both sides can build -------------------------------------------------------------

/** Bytes: a Uint8Array in JS, the same bytes in Lua. */
class Bytes { constructor(readonly hex: string) {} }
/** A string of one char a byte (Lua's bytes; as tresty reads a raw query): unescape_uri, decode_args. */
class Latin { constructor(readonly s: string) {} }
type Arg = string | number | boolean | null | Bytes | Latin | Arg[] | { [k: string]: Arg };
type Call = [fn: string, ...args: Arg[]];

function jsonOf(calls: Call[]): string {
  const tag = (a: Arg): unknown => {
    if (a instanceof Bytes) return { $: 'bytes', hex: a.hex };
    if (a instanceof Latin) return a.s;
    if (typeof a === 'number' && !Number.isFinite(a)) return { $: 'num', v: String(a) };
    if (Array.isArray(a)) return a.map(tag);
    if (a !== null && typeof a === 'object') return { $: 'obj', v: Object.fromEntries(Object.entries(a).map(([k, v]) => [k, tag(v)])) };
    return a;
  };
  return JSON.stringify(calls.map(([fn, ...args]) => [fn, ...args.map(tag)]));
}

function luaOf(calls: Call[]): string {
  const lit = (a: Arg): string => {
    if (a === null) return 'nil';
    if (a instanceof Bytes) return luaBytes(Buffer.from(a.hex, 'hex').toString('latin1'));
    if (a instanceof Latin) return luaBytes(a.s);
    if (typeof a === 'string') return luaString(a);
    if (typeof a === 'number') return Number.isNaN(a) ? '(0/0)' : a === Infinity ? 'math.huge' : a === -Infinity ? '(-math.huge)' : `(${String(a)})`;
    if (typeof a === 'boolean') return String(a);
    if (Array.isArray(a)) return `{${a.map(lit).join(', ')}}`;
    return `{${Object.entries(a).map(([k, v]) => `[${luaString(k)}] = ${lit(v)}`).join(', ')}}`;
  };
  return `return {\n${calls.map(([fn, ...args]) => `{${[luaString(fn), args.length, ...args.map(lit)].join(', ')}}`).join(',\n')}\n}\n`;
}

// --- the handlers ------------------------------------------------------------------------------

const JS_HANDLER = `
const dec = (a) => {
  if (Array.isArray(a)) return a.map(dec);
  if (a === null || typeof a !== 'object') return a;
  if (a.$ === 'bytes') return new Uint8Array(Buffer.from(a.hex, 'hex'));
  if (a.$ === 'num') return Number(a.v);
  return Object.fromEntries(Object.entries(a.v).map(([k, v]) => [k, dec(v)]));
};
const enc = (v) => {
  if (v instanceof Uint8Array) return { $: 'bytes', hex: Buffer.from(v).toString('hex') };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $: 'num', v: String(v) };
  if (v === undefined) return null;
  return v;
};
export default async (ngx) => {
  await ngx.req.read_body();
  const calls = JSON.parse(ngx.req.get_body_data() ?? '[]');
  const fns = { unescape_escape: (s, t) => ngx.unescape_uri(ngx.escape_uri(s, t)) };
  const out = [];
  for (const [fn, ...args] of calls) {
    try {
      out.push([enc((fns[fn] ?? ngx[fn]).apply(ngx, args.map(dec)))]);
    } catch (e) {
      out.push({ threw: String(e && e.message || e) });
    }
  }
  ngx.header.content_type = 'application/json';
  ngx.print(JSON.stringify(out));
};
`;

const LUA_HANDLER = `${LUA_ENC}
local function encv(v)
  local t = type(v)
  if t == "number" then
    if v ~= v then return '{"$":"num","v":"NaN"}' end
    if v == math.huge then return '{"$":"num","v":"Infinity"}' end
    if v == -math.huge then return '{"$":"num","v":"-Infinity"}' end
    return string.format("%.17g", v)
  elseif t == "nil" then return "null"
  end
  return enc(v)
end
local fns = { unescape_escape = function(s, t) return ngx.unescape_uri(ngx.escape_uri(s, t)) end }
ngx.req.read_body()
local out = {}
for _, c in ipairs(assert(loadstring(ngx.req.get_body_data()))()) do
  local ok, v = pcall(fns[c[1]] or ngx[c[1]], unpack(c, 3, 2 + c[2]))
  out[#out + 1] = ok and "[" .. encv(v) .. "]" or '{"threw":' .. enc(tostring(v)) .. '}'
end
ngx.header.content_type = "application/json"
ngx.print("[" .. table.concat(out, ",") .. "]")
`;

// --- the generator -----------------------------------------------------------------------------

const TEXT = ['', 'a', 'hello world', 'a+b c', 'é', 'ünïcödé 🌍', "~!*'()", '-_.', '%', '%4', '%zz', '%%41', '%41%42', '%e9', '%C3%A9',
  '%c3%a9', '%FF', 'a=1&b=2', '&&', '=v', 'k', `"quote's\\`, '\0\b\n\r\t\x1a', '/path?q=1#frag', '<>[]{}|^`', ' ', '+', '++%2B',
  'x'.repeat(3000), 'é'.repeat(700), '\x7f\x01'];
const LATIN = ['\xff', 'caf\xe9', '%ff\xfe', 'a=\xe9&\xff=1', '\xc3\xa9', '\x80+%80'];
const B64 = ['', 'YQ==', 'YQ', 'YQ=', 'YWI=', 'YWI', 'YWJj', 'Y', 'YW', '====', '=', 'YQ==YQ==', 'YQ==\n', ' YQ==', 'Y Q==', 'YQ=x',
  '+/==', '+/8=', '-_', '-_8', 'YQ==garbage!', '!!', 'AAAA', 'AA==', 'A===', 'AB==', '\n', 'YWJjZA', 'YWJjZA=', 'YWJjZA==', 'Zm9v\r\nYmFy'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SECS = [0, 1, 59, 86399, 86400, 784111777, 951782400, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 4102444800, 253402300799,
  253402300800, 2 ** 40, 1.9, -1, -1.5, -86400 * 400, NaN, Infinity, -Infinity, 1e300];

const p2 = (n: number): string => String(n).padStart(2, '0');

function randomText(r: () => number, alphabet: string[], max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, alphabet);
  return s;
}

const URI_ALPHA = ['a', 'Z', '0', '9', '%', '%', '+', ' ', '=', '&', '/', '?', '#', '~', '!', '*', "'", '(', ')', 'é', '€', '🌍', 'f', 'F', '\n', '\0',
  '"', '<', '[', '^', '`', '{', '|', '\\', ':', ';', ',', '@', '$', '-', '_', '.'];

function text(r: () => number): string { return r() < 0.5 ? pick(r, TEXT) : randomText(r, URI_ALPHA, 24); }

function bytes(r: () => number): Bytes {
  if (r() < 0.1) return new Bytes(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'));
  return new Bytes(Buffer.from(Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256))).toString('hex'));
}

/** A string, bytes, or (rarely) what Lua coerces: nil, a number, a boolean. */
function data(r: () => number): Arg {
  const x = r();
  if (x < 0.45) return text(r);
  if (x < 0.9) return bytes(r);
  return pick(r, [null, 0, 12.5, 1e21, -7, true]);
}

function b64(r: () => number): string {
  const x = r();
  if (x < 0.4) return pick(r, B64);
  let s = Buffer.from(Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 256))).toString(r() < 0.2 ? 'base64url' : 'base64');
  if (r() < 0.5) s = s.replace(/=+$/, '');
  if (r() < 0.3) { const at = Math.floor(r() * (s.length + 1)); s = s.slice(0, at) + pick(r, [' ', '\n', '=', '*', '-', '_', '==', 'é']) + s.slice(at); }
  return s;
}

/** A date in one of the three formats nginx reads, now and then broken. */
function date(r: () => number): string {
  const y = pick(r, [1970, 1994, 1999, 2000, 2024, 2037, 2038, 2100, 9999, 1969, 1600, 2001]);
  const mo = Math.floor(r() * 12);
  const d = pick(r, [1, 6, 9, 10, 28, 29, 30, 31, 0, 32]);
  const h = pick(r, [0, 8, 23, 24]);
  const mi = pick(r, [0, 49, 59, 60]);
  const s = pick(r, [0, 37, 59, 60]);
  const dow = pick(r, DAYS);
  const hms = `${p2(h)}:${p2(mi)}:${p2(s)}`;
  const f = r();
  let out: string;
  if (f < 0.4) out = `${dow}, ${p2(d)} ${MONTHS[mo]} ${y} ${hms} GMT`;
  else if (f < 0.7) out = `${pick(r, LONG_DAYS)}, ${p2(d)}-${MONTHS[mo]}-${p2(pick(r, [69, 70, 94, 0, 37, 38, 99]))} ${hms} GMT`;
  else out = `${dow} ${MONTHS[mo]} ${String(d).padStart(2, ' ')} ${hms} ${y}`;
  const m = r();
  if (m < 0.1) out = out.replace(/ GMT$/, '');
  else if (m < 0.15) out = out.toLowerCase();
  else if (m < 0.2) out = out.replace(' ', '  ');
  else if (m < 0.25) out = out.slice(0, Math.floor(r() * out.length));
  else if (m < 0.3) out = out.replace(/[0-9]/, 'x');
  else if (m < 0.33) out = `${out} trailing`;
  else if (m < 0.36) out = out.replace(/^[A-Za-z]+/, '');
  return out;
}

/** An encode_args table: booleans, arrays, empty strings, special characters, numbers. */
function argTable(r: () => number): Record<string, Arg> {
  const t: Record<string, Arg> = {};
  const n = Math.floor(r() * 5);
  const scalar = (): Arg => pick(r, [text(r), text(r), true, false, 0, 1.5, 1e21, -3, 1 / 3, ''] as Arg[]);
  for (let i = 0; i < n; i++) {
    const k = r() < 0.7 ? pick(r, ['a', 'b', 'key', 'a b', 'é', '', '=', '&', '~x', 'k+1', '%41']) : randomText(r, URI_ALPHA, 6);
    t[k] = r() < 0.7 ? scalar() : Array.from({ length: Math.floor(r() * 4) }, scalar);
  }
  return t;
}

function call(r: () => number): Call {
  const fn = pick(r, ['escape_uri', 'escape_uri', 'escape_uri', 'unescape_uri', 'unescape_uri', 'unescape_escape', 'encode_args', 'encode_args',
    'decode_args', 'decode_args', 'encode_base64', 'decode_base64', 'decode_base64', 'md5', 'md5_bin', 'sha1_bin', 'crc32_short',
    'crc32_long', 'hmac_sha1', 'quote_sql_str', 'http_time', 'cookie_time', 'parse_http_time', 'parse_http_time', 'utctime', 'localtime', 'today']);
  switch (fn) {
    case 'escape_uri': case 'unescape_escape': {
      const s = r() < 0.7 ? text(r) : data(r);
      const x = r();
      return x < 0.4 ? [fn, s] : x < 0.95 ? [fn, s, pick(r, [0, 2, 0, 2, 1, 3, 4, 5, 6])] : [fn, s, pick(r, [7, -1, '2', null, 1.5] as Arg[])];
    }
    case 'unescape_uri': return [fn, r() < 0.8 ? text(r) : r() < 0.7 ? new Latin(pick(r, LATIN)) : pick(r, [null, 5, true] as Arg[])];
    case 'encode_args': return [fn, argTable(r)];
    case 'decode_args': {
      const s = r() < 0.8 ? (r() < 0.5 ? pick(r, TEXT) : randomText(r, ['a', 'b', '=', '&', '&', '+', '%', '2', '0', 'é', ' ', '=', '%41'], 20)) : new Latin(pick(r, LATIN));
      return r() < 0.6 ? [fn, s] : [fn, s, pick(r, [0, 1, 2, 3, 100, -1] as Arg[])];
    }
    case 'encode_base64': return r() < 0.6 ? [fn, data(r)] : [fn, data(r), pick(r, [true, false, null] as Arg[])];
    case 'decode_base64': return [fn, r() < 0.95 ? b64(r) : pick(r, [null, 5] as Arg[])];
    case 'hmac_sha1': return [fn, r() < 0.5 ? text(r) : bytes(r), data(r)];
    case 'quote_sql_str': return [fn, r() < 0.9 ? text(r) : pick(r, [5, 1.5] as Arg[])];
    case 'http_time': case 'cookie_time': return [fn, r() < 0.9 ? pick(r, SECS) : Math.floor(r() * 2 ** 34)];
    case 'parse_http_time': return [fn, r() < 0.9 ? date(r) : pick(r, ['', 'x', 'Sun, 06 Nov 1994 08:49:37 GMT'])];
    case 'utctime': case 'localtime': case 'today': return [fn];
    default: return [fn, data(r)];
  }
}

const ALL_BYTES = new Bytes(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'));

/** The fixed cases of the divergences found (each failed on tresty before its fix). */
const REGRESSIONS: Call[][] = [
  // escape_uri's type (0 to 6, each its own set of kept bytes; 5 and 6 keep DEL and the bytes
  // above) was ignored; a type not a number or out of range raises.
  [['escape_uri', '|0🌍*Z%{{0;!&', 0], ['escape_uri', '++%2B', 4], ['escape_uri', '\x7f\x01', 5], ['escape_uri', ALL_BYTES, 0],
    ['escape_uri', ALL_BYTES, 1], ['escape_uri', ALL_BYTES, 3], ['escape_uri', ALL_BYTES, 4], ['escape_uri', ALL_BYTES, 5],
    ['escape_uri', ALL_BYTES, 6], ['escape_uri', ALL_BYTES, 2], ['escape_uri', ALL_BYTES], ['escape_uri', 'a', '2'], ['escape_uri', 'a', 7],
    ['escape_uri', 'a', -1], ['escape_uri', 'a b', 1.5], ['unescape_escape', 'a+b', 5]],
  // nil (and false) is "", a number its %.14g, true "true", as lua-resty-core's tostring (tresty
  // threw, or escaped "null"); hmac_sha1 and quote_sql_str take numbers (luaL_checklstring).
  [['md5', null], ['md5', 1e21], ['md5_bin', true], ['sha1_bin', 12.5], ['encode_base64', null], ['encode_base64', 0], ['encode_base64', false],
    ['unescape_uri', null], ['escape_uri', null], ['escape_uri', 12.5], ['escape_uri', true], ['hmac_sha1', '\x01', -7], ['quote_sql_str', 5],
    ['hmac_sha1', null, 'a'], ['quote_sql_str', null], ['decode_base64', null], ['decode_base64', 5], ['encode_base64', 'a', 1]],
  // crc32_short / crc32_long were missing.
  [['crc32_short', 'hello'], ['crc32_long', 'hello'], ['crc32_short', ALL_BYTES], ['crc32_long', ''], ['crc32_short', null], ['crc32_long', 1.5]],
  // decode_base64: the bytes (one char a byte when not UTF-8; were UTF-8-decoded with U+FFFD),
  // nothing after the first `=` is read, missing padding is fine, 1 mod 4 long is nil.
  [['decode_base64', 'z2oH5Q0toYLtqPIKiHsv'], ['decode_base64', '4qcI'], ['decode_base64', 'YQ==\n'], ['decode_base64', 'YQ=x'],
    ['decode_base64', 'YQ==YQ=='], ['decode_base64', 'YQ'], ['decode_base64', 'Y'], ['decode_base64', '-_'], ['decode_base64', ' YQ=='],
    ['decode_base64', '=garbage'], ['decode_base64', 'YWJjZA']],
  // parse_http_time is nginx's parser (was Date.parse): day 00 is taken, Feb 31 and second 60
  // are not, no GMT needed, 2-digit years from 70, the asctime form; -1 is nil (lua's error value).
  [['parse_http_time', 'Thu,  00 Apr 1970 08:00:00 GMT'], ['parse_http_time', 'Thu, 31 Feb 1600 08:49:37 GMT'],
    ['parse_http_time', 'Tuesday, 09-Mar-38 08:49:60 GMT'], ['parse_http_time', 'Wed, 31 Dec 1969 23:59:59 GMT'],
    ['parse_http_time', 'Wed, 31 Dec 1969 23:59:58 GMT'], ['parse_http_time', 'Sun, 06 Nov 1994 08:49:37'],
    ['parse_http_time', 'Sunday, 06-Nov-69 08:49:37 GMT'], ['parse_http_time', 'Sunday, 06-Nov-70 08:49:37 GMT'],
    ['parse_http_time', 'Sun Nov  6 08:49:37 1994'], ['parse_http_time', 'Sun Nov 6 08:49:37 1994'], ['parse_http_time', 'Sun, 6 Nov 1994 08:49:37 GMT'],
    ['parse_http_time', 'Tue, 29 Feb 2100 00:00:00 GMT'], ['parse_http_time', 'Tue, 29 Feb 2000 00:00:00 GMT'], ['parse_http_time', 'sun, 06 nov 1994 08:49:37 gmt'],
    ['parse_http_time', 5]],
  // http_time / cookie_time: a time_t, negative (or NaN) the epoch, past 9999 the last second of
  // 9999 (was JS's Date); a string raises.
  [['http_time', -1.5], ['http_time', 253402300800], ['cookie_time', 2 ** 40], ['cookie_time', NaN], ['http_time', -Infinity], ['http_time', Infinity],
    ['http_time', 1e300], ['cookie_time', 2 ** 31], ['cookie_time', 4102444800], ['http_time', '5'], ['http_time', null]],
  // encode_args writes numbers as %.14g (was JS's shortest form).
  [['encode_args', { a: 1 / 3, b: 1e21, c: [0.1, -0] }]],
];

function cases(seed: number, n: number): Call[][] {
  const r = prng(seed);
  const out = [...REGRESSIONS];
  for (let i = 0; i < n; i++) out.push(Array.from({ length: 3 + Math.floor(r() * 10) }, () => call(r)));
  return out;
}

// --- comparing ---------------------------------------------------------------------------------

const BINARY = new Set(['md5_bin', 'sha1_bin', 'hmac_sha1']);

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
  return v;
}

function norm(fn: string, res: unknown, lua: boolean): unknown {
  if (!Array.isArray(res)) return { threw: true };
  let v = res[0];
  if (BINARY.has(fn)) {
    if (lua && typeof v === 'string') return { $: 'bytes', hex: Buffer.from(v, 'latin1').toString('hex') };
    return v;
  }
  const deep = (x: unknown): unknown => typeof x === 'string' ? (lua ? asText(x) : x) : Array.isArray(x) ? x.map(deep)
    : x !== null && typeof x === 'object' && !('$' in x) ? Object.fromEntries(Object.entries(x).map(([k, y]) => [lua ? asText(k) : k, deep(y)])) : x;
  v = deep(v);
  if (fn === 'encode_args' && typeof v === 'string') return v.split('&').sort();
  if ((fn === 'utctime' || fn === 'localtime' || fn === 'today') && typeof v === 'string') return v.replace(/[0-9]/g, 'd');
  return sorted(v);
}

function show(a: Arg): unknown {
  if (a instanceof Bytes) return `bytes:${a.hex.slice(0, 80)}`;
  if (a instanceof Latin) return `latin1:${a.s}`;
  if (typeof a === 'number' && !Number.isFinite(a)) return String(a);
  if (typeof a === 'string' && a.length > 60) return `${a.slice(0, 20)}...(${a.length})`;
  return a;
}

/**
 * docs/api.md, "Differences from OpenResty that remain", the `args` table row: lua-nginx-module's
 * length count escapes a key that writes no piece (its value false, or an array with nothing but
 * false in it), so an encode_args with such a key that needs escaping raises `buffer error: 0 !=
 * 2`; tresty drops the pair.
 */
function luaBufferBug(fn: string, args: Arg[]): boolean {
  if (fn !== 'encode_args') return false;
  const t = args[0] as Record<string, Arg>;
  return Object.entries(t).some(([k, v]) => encodeURIComponent(k) !== k && (v === false || (Array.isArray(v) && v.every((x) => x === false))));
}

/**
 * docs/api.md, the unescape_uri / decode_args row: a JS string is read one char a byte unless it
 * holds a char above 255 (then as UTF-8), so text with chars 0x80 to 0xff only (`"é"`) is read as
 * Latin-1, where Lua has its UTF-8; seen once decoded bytes sit next to it.
 */
function latinText(fn: string, args: Arg[]): boolean {
  return (fn === 'decode_args' || fn === 'unescape_uri') && typeof args[0] === 'string' && /[\x80-\xff]/.test(args[0]) && !/[^\x00-\xff]/.test(args[0]);
}

function compare(calls: Call[], lua: unknown[], js: unknown[]): Divergence[] {
  const out: Divergence[] = [];
  for (let i = 0; i < calls.length; i++) {
    const [fn, ...args] = calls[i]!;
    if (luaBufferBug(fn, args) && (lua[i] as { threw?: string }).threw?.startsWith('buffer error')) continue;
    if (latinText(fn, args)) continue;
    const l = norm(fn, lua[i], true);
    const j = norm(fn, js[i], false);
    if (JSON.stringify(l) !== JSON.stringify(j)) {
      out.push({ req: `${fn}(${args.map((a) => JSON.stringify(show(a))).join(', ')})`, field: `call ${i}`, nginx: l, tresty: j });
    }
  }
  return out;
}

async function run(port: number, body: string): Promise<unknown[]> {
  const r = await httpGet(port, '/u', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, timeoutMs: 10_000 });
  if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.slice(0, 500)}`);
  return JSON.parse(r.body) as unknown[];
}

// --- the runs ----------------------------------------------------------------------------------

const SEED = Number(process.env.TRESTY_FUZZ_SEED ?? 20261204);
const N = Number(process.env.TRESTY_FUZZ_CASES ?? 300);
const BODY = 'client_body_buffer_size 1m; client_max_body_size 10m;';

const missing = nginxMissing();
describe.skipIf(missing !== null)(`ngx utility functions fuzz against nginx + lua (seed ${SEED})${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const all = cases(SEED, N);
  let n: Nginx;
  const want: unknown[][] = [];
  beforeAll(async () => {
    n = await startNginx(`${BODY}\n    location = /u { content_by_lua_file __PREFIX__/u.lua; }`, '', { 'u.lua': LUA_HANDLER });
    for (const c of all) want.push(await run(n.port, luaOf(c)));
  }, 60_000);
  afterAll(async () => { await n?.stop(); });

  for (const e of ENGINES) {
    describe.skipIf(e.skip !== null)(titled(e, 'tresty'), () => {
      let t: TrestyProcess;
      let port: number;
      beforeAll(async () => {
        port = await freePort();
        t = await startTresty(oneServerConf(port, `${BODY}\n    location = /u { content_by_js_file u.mjs; }`), { env: e.env, files: { 'u.mjs': JS_HANDLER } });
      });
      afterAll(async () => { await t?.stop(); });

      it(`${all.length} call lists: the same results as nginx + lua (TRESTY_FUZZ_SEED=${SEED})`, async () => {
        const diffs: Divergence[] = [];
        for (let i = 0; i < all.length; i++) {
          const got = await run(port, jsonOf(all[i]!)).catch((err: Error) => { throw new Error(`case ${i}: ${err.message}\n${jsonOf(all[i]!).slice(0, 2000)}`); });
          diffs.push(...compare(all[i]!, want[i]!, got));
        }
        if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(`${process.env.TRESTY_FUZZ_OUT}.${e.name}`, diffs.map((d) => JSON.stringify(d)).join('\n'));
        if (diffs.length > 0) console.log(`seed ${SEED}: ${diffs.length} divergences\n${diffs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n')}`);
        expect(diffs.slice(0, 5)).toEqual([]);
      }, 60_000);
    });
  }
});
