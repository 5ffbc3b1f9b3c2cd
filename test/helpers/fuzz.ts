// Shared by the differential fuzzes against nginx + lua (compat-request-fuzz, compat-var-fuzz,
// compat-shdict-fuzz, compat-resp-fuzz, compat-filter-fuzz): a seeded PRNG, a JSON encoder for the
// Lua side (Debian's module has no cjson), Lua string literals for generated Lua, the reading of a
// dump or an answer back (chunked bodies, Lua's one-char-a-byte strings), nginx's name.
import { spawnSync } from 'node:child_process';

/** nginx's name at the foot of its pages, as `nginx -v` gives it (tresty's pages say `tresty`). */
export const NGINX_NAME = /nginx\/[0-9.]+/.exec(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr ?? '')?.[0] ?? 'nginx';

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, xs: readonly T[]): T { return xs[Math.floor(r() * xs.length)]!; }

/**
 * Lua source of `local function enc(v)`: tables with integer keys 1..n as arrays, others as
 * objects with sorted keys; every byte >= 0x80 (and control bytes) as \u00XX, so the JS side
 * reads Lua strings one char a byte. To be pasted into a *_by_lua_block (its backslashes doubled
 * for the conf's string).
 */
export const LUA_ENC = `
      local function enc(v)
        local t = type(v)
        if t == "string" then
          return '"' .. (v:gsub('[%c"\\\\\\128-\\255]', function(c) return string.format("\\\\u%04x", c:byte()) end)) .. '"'
        elseif t == "boolean" or t == "number" then return tostring(v)
        elseif t == "table" then
          local cnt, arr = 0, true
          for k in pairs(v) do cnt = cnt + 1; if type(k) ~= "number" then arr = false end end
          local p = {}
          if arr and cnt > 0 then
            for i = 1, cnt do p[i] = enc(v[i]) end
            return "[" .. table.concat(p, ",") .. "]"
          end
          local keys = {}
          for k in pairs(v) do keys[#keys + 1] = k end
          table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
          for i, k in ipairs(keys) do p[i] = enc(tostring(k)) .. ":" .. enc(v[k]) end
          return "{" .. table.concat(p, ",") .. "}"
        end
        return '"<' .. t .. '>"'
      end`;

/** A chunked body's data. */
export function dechunk(body: string): string {
  let out = '';
  let p = 0;
  for (;;) {
    const nl = body.indexOf('\r\n', p);
    const size = parseInt(body.slice(p, nl), 16);
    if (!(size > 0)) return out;
    out += body.slice(nl + 2, nl + 2 + size);
    p = nl + 2 + size + 2;
  }
}

/** An answer (one char a byte) as its status line, or its JSON dump when it is a 200. */
export function parseDump(data: string): unknown {
  const at = data.indexOf('\r\n\r\n');
  const head = data.slice(0, at);
  if (!head.startsWith('HTTP/1.1 200')) return { status: head.split('\r\n')[0] };
  const text = /\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(data.slice(at + 4)) : data.slice(at + 4);
  // The JS dump is UTF-8 JSON; the Lua one is ASCII with each byte >= 0x80 as \\u00XX.
  return JSON.parse(Buffer.from(text, 'latin1').toString('utf8'));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Lua bytes (one char a byte) as tresty's decoded string: text when they are UTF-8, else one char
 *  a byte (docs/api.md, get_uri_args' row and `$uri`). */
export function asText(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  try { return UTF8.decode(Buffer.from(s, 'latin1')); } catch { return s; }
}

export interface Divergence { req: string; field: string; nginx: unknown; tresty: unknown }

/** A dump with `status` (the request was refused before the handler) is compared whole: its
 *  divergence, or none; null when both dumps are the handler's, to be compared field by field. */
export function statusDivergence(req: string, l: Record<string, unknown>, j: Record<string, unknown>): Divergence[] | null {
  if (!('status' in l) && !('status' in j)) return null;
  return JSON.stringify(l) === JSON.stringify(j) ? [] : [{ req, field: 'status', nginx: l, tresty: j }];
}

/** A Lua string literal of `s`'s UTF-8 bytes (printable ASCII as is, every other byte as \ddd),
 *  for Lua source a fuzz generates. */
export function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** An answer (one char a byte) cut into its status line, its head lines in order and its body as
 *  framed (chunk sizes kept: the framing is compared too); all empty when nothing came (444). */
export function answerParts(data: string): { status: string; head: string[]; body: string } {
  const at = data.indexOf('\r\n\r\n');
  if (at < 0) return { status: data, head: [], body: '' };
  const lines = data.slice(0, at).split('\r\n');
  return { status: lines[0]!, head: lines.slice(1), body: data.slice(at + 4) };
}

/** A Lua string literal of `s` read one char a byte (chars above 0xff are not bytes: refused). */
export function luaBytes(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b > 0xff) throw new Error(`not a byte string: ${JSON.stringify(s)}`);
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? s[i] : `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** A JSON-like value as a Lua expression: arrays as sequences, objects as tables with string
 *  keys, null as nil, strings one char a byte (luaBytes). */
export function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return luaBytes(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaBytes(k)}] = ${luaLiteral(x)}`).join(', ')}}`;
}
