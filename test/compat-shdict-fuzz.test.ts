// A differential fuzz of ngx.shared.DICT (docs/api.md, "Shared dictionaries"): each seeded case is
// a sequence of dict calls drawn from a small grammar (every method, odd keys and values, flags,
// exptimes, incr past 2^53, list calls on scalars and back, flush_all's expired entries, a small
// zone that fills up), run by a JS handler on tresty and by a Lua handler on nginx 1.22 + lua
// (lua-resty-core 0.1.25), each answering every call's results as JSON. They must agree.
// TRESTY_FUZZ_SEED=N replays (or varies) the run; fixed regression cases go first.
// Comparing: Lua's trailing nils are no value a caller can tell from a shorter list, so results
// are compared with trailing nulls dropped; a call that raises is `{threw}` on both sides (the
// words differ: docs/api.md, TRESTY_ERR_API_ARGS); get_keys is compared sorted (its order is the
// zones' LRU, the same, but a Lua table from the C side is built in another walk); free_space is
// compared as "a number" (nginx counts free 4 KB slab pages, tresty free bytes of its allocator:
// docs/api.md, capacity / free_space); a ttl is compared to the quarter second (nginx reads its
// cached clock, tresty the real one, a few ms later); a drawn small-zone case stops being compared
// after it pushes a large list element (docs/api.md, "Memory": the allocators' blocks differ).
// The dict is per machine, not per engine: only the native engine runs (node:http reaches the
// same src/shared code).
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, titled } from './helpers/engines.js';
import { asText, type Divergence, LUA_ENC, luaString, pick, prng } from './helpers/fuzz.js';
import { nginxMissing, startNginx, type Nginx } from './helpers/nginx.js';
import { NO_SHDICT } from './helpers/shdict.js';
import { freePort, httpGet, oneServerConf, startTresty, type TrestyProcess } from './helpers/server.js';

// --- values both sides can build -------------------------------------------------------------

/** `s` repeated `n` times (long keys and values without a long request body). */
class Rep { constructor(readonly s: string, readonly n: number) {} }
/** A Lua table / a JS object: no value a dict stores. */
const TABLE = { table: true } as const;
type Arg = string | number | boolean | null | Rep | typeof TABLE;
interface Call { dict: 'd' | 'small'; m: string; args: Arg[] }

/** The call list as JSON for the JS handler (non-finite numbers, Rep and TABLE tagged). */
function jsonOf(calls: Call[]): string {
  const tag = (a: Arg): unknown => {
    if (a instanceof Rep) return { $: 'rep', s: a.s, n: a.n };
    if (a === TABLE) return { $: 'table' };
    if (typeof a === 'number' && !Number.isFinite(a)) return { $: 'num', v: String(a) };
    return a;
  };
  return JSON.stringify(calls.map((c) => [c.dict, c.m, ...c.args.map(tag)]));
}

/** The call list as a Lua chunk returning `{ {dict, method, nargs, args...}, ... }`. */
function luaOf(calls: Call[]): string {
  const lit = (a: Arg): string => {
    if (a === null) return 'nil';
    if (a instanceof Rep) return `string.rep(${luaString(a.s)}, ${a.n})`;
    if (a === TABLE) return '{}';
    if (typeof a === 'string') return luaString(a);
    if (typeof a === 'number') return Number.isNaN(a) ? '(0/0)' : a === Infinity ? 'math.huge' : a === -Infinity ? '(-math.huge)' : `(${String(a)})`;
    return String(a);
  };
  return `return {\n${calls.map((c) => `{${[luaString(c.dict), luaString(c.m), c.args.length, ...c.args.map(lit)].join(', ')}}`).join(',\n')}\n}\n`;
}

// --- the handlers ------------------------------------------------------------------------------

/** Calls whose one result is a value, not a list of returns. */
const ONE = ['flush_all', 'flush_expired', 'get_keys', 'capacity', 'free_space'];

// Each request starts from empty zones (flush_all, then every entry freed), so a case is its own.
const JS_HANDLER = `
import fs from 'node:fs';
const dec = (a) => a === null || typeof a !== 'object' ? a : a.$ === 'rep' ? a.s.repeat(a.n) : a.$ === 'table' ? {} : Number(a.v);
const enc = (v) => typeof v === 'number' && !Number.isFinite(v) ? { $: 'num', v: String(v) } : Array.isArray(v) ? v.map(enc) : v;
export default async (ngx) => {
  await ngx.req.read_body();
  const file = ngx.req.get_body_file();
  const calls = JSON.parse(ngx.req.get_body_data() ?? (file ? fs.readFileSync(file, 'utf8') : '[]'));
  for (const z of ['d', 'small']) { ngx.shared[z].flush_all(); ngx.shared[z].flush_expired(0); }
  const out = [];
  for (const [dict, m, ...args] of calls) {
    const d = ngx.shared[dict];
    try {
      let r = d[m](...args.map(dec));
      r = ${JSON.stringify(ONE)}.includes(m) ? (r === undefined ? [] : [r]) : [...r];
      while (r.length > 0 && r[r.length - 1] == null) r.pop();
      out.push(enc(r));
    } catch (e) {
      out.push({ threw: String(e && e.message || e) });
    }
  }
  ngx.header.content_type = 'application/json';
  ngx.print(JSON.stringify(out));
};
`;

// Numbers as %.17g (exact doubles: tostring's %.14g would hide 2^53 + 2), non-finite ones tagged.
const LUA_HANDLER = `${LUA_ENC}
local function encv(v)
  local t = type(v)
  if t == "number" then
    if v ~= v then return '{"$":"num","v":"NaN"}' end
    if v == math.huge then return '{"$":"num","v":"Infinity"}' end
    if v == -math.huge then return '{"$":"num","v":"-Infinity"}' end
    return string.format("%.17g", v)
  elseif t == "table" then
    local p = {}
    for i = 1, #v do p[i] = encv(v[i]) end
    return "[" .. table.concat(p, ",") .. "]"
  elseif t == "nil" then return "null"
  end
  return enc(v)
end
local function pack(...) return { n = select("#", ...), ... } end
ngx.req.read_body()
local src = ngx.req.get_body_data()
if not src then
  local f = assert(io.open(ngx.req.get_body_file(), "rb")); src = f:read("*a"); f:close()
end
for _, z in ipairs({ "d", "small" }) do ngx.shared[z]:flush_all(); ngx.shared[z]:flush_expired(0) end
local out = {}
for _, c in ipairs(assert(loadstring(src))()) do
  local d = ngx.shared[c[1]]
  local r = pack(pcall(d[c[2]], d, unpack(c, 4, 3 + c[3])))
  if not r[1] then
    out[#out + 1] = '{"threw":' .. enc(tostring(r[2])) .. '}'
  else
    local n = r.n
    while n > 1 and r[n] == nil do n = n - 1 end
    local p = {}
    for i = 2, n do p[i - 1] = encv(r[i]) end
    out[#out + 1] = "[" .. table.concat(p, ",") .. "]"
  end
end
ngx.header.content_type = "application/json"
ngx.print("[" .. table.concat(out, ",") .. "]")
`;

// --- the generator -----------------------------------------------------------------------------

const KEYS: Arg[] = ['a', 'b', 'c', 'ключ', 'k:1'];
const ODD_KEYS: Arg[] = ['', null, 1, 1.5, 1 / 3, 2 ** 53, 1e21, 1e-5, -0.5, true, new Rep('k', 65535), new Rep('k', 65536),
  new Rep('€', 21845), new Rep('€', 21846), 'a\0b', ' '];
const STRINGS: Arg[] = ['', 'v', 'value', 'héllo wörld 🌍', '\0\x01bin\x7f\0', '5', ' 7', '0x10', '1e3', new Rep('x', 3000)];
const NUMBERS: Arg[] = [0, 1, -1, 42, 0.5, -2.5, 0.1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, Number.MAX_VALUE, 5e-324,
  Infinity, -Infinity, NaN, -0];
const VALUES: Arg[] = [...STRINGS, ...NUMBERS, true, false, null, TABLE];
const FLAGS: Arg[] = [0, 1, 7, 0xffffffff, 2 ** 32, 2 ** 31, -1, 1.5, null, '3'];
// Never a small positive one: whether it ran out would be timing. 0.0004 s is 0 ms (never).
const EXPTIMES: Arg[] = [null, 0, 1000, 1000.25, 86400.75, 0.0004, -1, 3e6, 2.5e6, NaN, Infinity, 1e300, -0.0004];
const STEPS: Arg[] = [1, -1, 0.5, -2.5, 2 ** 53, 1e300, 0, '3', 'x', null, NaN];
const INITS: Arg[] = [0, 10, 0.5, 2 ** 53, '4', 'x', false, -1];
const INIT_TTLS: Arg[] = [null, 0, 1000.25, -1, '5'];

function store(r: () => number, k: Arg, values: readonly Arg[]): Arg[] {
  const args = [k, pick(r, values)];
  const n = r();
  if (n < 0.5) return args;
  args.push(pick(r, EXPTIMES));
  if (n < 0.75) return args;
  return [...args, pick(r, FLAGS)];
}

function call(r: () => number, dict: Call['dict'], keys: Arg[], values: readonly Arg[]): Call {
  const k = pick(r, keys);
  const m = pick(r, ['get', 'get', 'get_stale', 'set', 'set', 'set', 'safe_set', 'add', 'safe_add', 'replace', 'delete',
    'incr', 'incr', 'incr', 'lpush', 'rpush', 'rpush', 'lpop', 'rpop', 'llen', 'ttl', 'ttl', 'expire',
    'flush_all', 'flush_expired', 'get_keys', 'capacity', 'free_space']);
  let args: Arg[];
  switch (m) {
    case 'set': case 'safe_set': case 'add': case 'safe_add': case 'replace': args = store(r, k, values); break;
    case 'incr': {
      const n = r();
      args = [k, pick(r, STEPS)];
      if (n > 0.4) args.push(pick(r, INITS));
      if (n > 0.75) args.push(pick(r, INIT_TTLS));
      if (n > 0.95) args[2] = null;
      break;
    }
    case 'lpush': case 'rpush': {
      const items = dict === 'small' ? [new Rep('B', 36000), 'v', 1] : [...STRINGS.slice(0, 6), 1, -2.5, 2 ** 53];
      args = [k, r() < 0.85 ? pick(r, items) : pick(r, [true, null, TABLE, NaN])];
      break;
    }
    case 'expire': args = [k, r() < 0.9 ? pick(r, EXPTIMES) : pick(r, [false, true, '5', ' 2 ', 'x'])]; break;
    case 'flush_expired': args = r() < 0.5 ? [] : [pick(r, [0, 1, 2, 5, -1, 1.5, '2'])]; break;
    case 'get_keys': args = r() < 0.5 ? [] : [pick(r, [0, 1, 2, 100, -1, 1.5, '2'])]; break;
    case 'flush_all': case 'capacity': case 'free_space': args = []; break;
    default: args = [k];
  }
  return { dict, m, args };
}

/** A case on the 1m zone, or (one in six) on a 64k zone where a value of 36000 bytes fits once. */
function sequence(r: () => number): Call[] {
  const small = r() < 1 / 6;
  const keys = [pick(r, KEYS), pick(r, KEYS), pick(r, KEYS)];
  if (!small && r() < 0.3) keys.push(pick(r, ODD_KEYS));
  const values = small ? [new Rep('B', 36000), new Rep('B', 36000), 'v', 1, true, ''] : VALUES;
  const calls: Call[] = [];
  const n = 4 + Math.floor(r() * 20);
  for (let i = 0; i < n; i++) calls.push(call(r, small ? 'small' : 'd', keys, values));
  return calls;
}

const d = (m: string, ...args: Arg[]): Call => ({ dict: 'd', m, args });
const small = (m: string, ...args: Arg[]): Call => ({ dict: 'small', m, args });
const TOO_LONG = new Rep('€', 21846);

/** The fixed cases of the divergences found (each failed on tresty before its fix). */
const REGRESSIONS: Call[][] = [
  // incr: a nil or non-numeric step raises (tresty took nil and '' as 0); numeric strings are
  // LuaJIT's tonumber ('0x10', ' 7 ', 'inf'); the key's errors come before the arguments' raise.
  [d('set', 'a', 1), d('incr', 'a', null), d('incr', 'a', ''), d('incr', 'a', ' 7 '), d('incr', 'a', '0x10'), d('incr', 'a', '-0x10'),
    d('incr', 'a', '0b1'), d('incr', 'a', '1e'), d('incr', 'b', 1, 0, false), d('incr', '', 1, 'x'), d('incr', TOO_LONG, null),
    d('incr', 'a', 'inf'), d('get', 'a')],
  // flags go to a C int: out of its range (or NaN) is INT_MIN, get answers them signed, a
  // boolean is 0 / 1, a string raises, but only after the key's and the value's errors; a
  // string exptime raises, false is 0 (tresty kept flags unsigned and took strings).
  [d('set', 'a', 1, 0, -1), d('get', 'a'), d('set', 'a', 1, 0, 2 ** 31), d('get_stale', 'a'), d('set', 'a', 1, 0, 0xffffffff), d('get', 'a'),
    d('set', 'a', 1, 0, 2 ** 32), d('get', 'a'), d('set', 'a', 1, 0, NaN), d('get', 'a'), d('set', 'a', 1, 0, -1.5), d('get', 'a'),
    d('set', 'a', 1, 0, true), d('get', 'a'), d('set', 'a', 1, 0, '3'), d('set', TOO_LONG, 1, 0, '3'), d('replace', 'a', TABLE, 0, '3'),
    d('set', 'a', 1, '5'), d('set', 'a', 2, false), d('get', 'a')],
  // A number key is its %.14g, as LuaJIT's tostring (tresty used JS's shortest form).
  [d('set', 2 ** 53, 1), d('get', '9.007199254741e+15'), d('set', 1e-5, 2), d('set', 1 / 3, 3), d('lpush', 123456789012345, 'x'),
    d('get_keys'), d('get', '1e-05')],
  // The list calls are C functions: a boolean key raises, nil is "nil key", the key's errors
  // come before the value's (tresty took `true` as "true" and said "bad value type" first).
  [d('rpush', true, 'x'), d('llen', true), d('lpop', null), d('rpush', TOO_LONG, TABLE), d('lpush', '', true), d('llen', 'true')],
  // A store's key errors come before "bad value type" (tresty answered the value's first).
  [d('set', '', TABLE), d('safe_set', new Rep('k', 65536), TABLE, 0, 1), d('add', TOO_LONG, TABLE), d('replace', '', TABLE, 10)],
  // A push that finds no room for a new list's first element leaves no list (tresty's rollback
  // left the entry in the LRU list: get_keys named it, and a later walk of the zone looped).
  [small('lpush', 'c', new Rep('B', 36000)), small('lpush', 'k:1', new Rep('B', 36000)), small('get_keys', 0), small('llen', 'k:1'),
    small('set', 'a', 'v'), small('flush_all'), small('flush_expired'), small('get_keys', 0)],
  // An element that finds no room is [nil, "no memory"]; a new list's entry that finds none is
  // [false, "no memory"] (tresty answered false for both).
  [small('rpush', 'a', new Rep('B', 36000)), small('rpush', 'a', new Rep('B', 36000)), small('lpush', 'b', new Rep('B', 36000))],
  // expire: no exptime (nil, false) raises first, then the key's errors are returned, then a
  // string exptime is tonumber'd (' 2 ') or raises (tresty raised before the key's errors).
  [d('set', 'a', 1), d('expire', '', 'x'), d('expire', TOO_LONG, true), d('expire', 'a', false), d('expire', '', null),
    d('expire', 'a', ' 2000 '), d('ttl', 'a'), d('expire', 'a', 'x')],
  // A NaN, infinite or huge exptime never expires (int64 conversion in C); NaN was refused.
  [d('set', 'a', 1, NaN), d('ttl', 'a'), d('set', 'b', 1, Infinity), d('ttl', 'b'), d('expire', 'a', NaN), d('ttl', 'a'),
    d('incr', 'c', 1, 0, NaN), d('ttl', 'c'), d('set', 'e', 1, 1e300), d('ttl', 'e'), d('set', 'f', 1, 2 ** 53), d('ttl', 'f')],
  // A value freed in a full zone leaves a block a value of its size takes again (tresty's
  // allocator looked one size class up only: "no memory", or an eviction).
  [small('safe_set', 'k:1', new Rep('B', 36000)), small('add', 'a', ''), small('safe_set', 'k:1', 'v'), small('safe_set', 'c', new Rep('B', 36000)),
    small('get_keys', 0)],
  [small('set', 'k:1', new Rep('B', 36000)), small('set', 'a', ''), small('set', 'k:1', 'v'), small('set', 'c', new Rep('B', 36000)),
    small('get_keys', 0)],
];

/** More keys than get_keys' default 1024, some read again: which 1024 come back is the LRU's. */
const MANY: Call[] = [...Array.from({ length: 1030 }, (_, i) => d('set', `m${i}`, i)), d('get', 'm3'), d('incr', 'm5', 1),
  d('get_keys'), d('get_keys', 1029), d('flush_expired', 3), d('flush_all'), d('flush_expired', 1000), d('flush_expired'), d('get_keys', 0)];

function cases(seed: number, n: number): Call[][] {
  const r = prng(seed);
  const out = [...REGRESSIONS, MANY];
  for (let i = 0; i < n; i++) out.push(sequence(r));
  return out;
}

// --- comparing ---------------------------------------------------------------------------------

/** One call's results as compared: Lua's bytes as text, ttl to the quarter second, free_space as its type. */
function norm(c: Call, res: unknown): unknown {
  if (!Array.isArray(res)) return (res as { threw?: unknown }).threw !== undefined ? { threw: true } : res;
  const deep = (v: unknown): unknown => typeof v === 'string' ? asText(v) : Array.isArray(v) ? v.map(deep) : v;
  const out = res.map(deep);
  if (c.m === 'ttl' && typeof out[0] === 'number') out[0] = out[0] < 0 ? 'negative' : Math.round(out[0] * 4) / 4;
  if (c.m === 'free_space') out[0] = typeof out[0];
  if (c.m === 'get_keys' && Array.isArray(out[0])) out[0] = [...(out[0] as string[])].sort();
  return out;
}

function show(a: Arg): unknown {
  if (a instanceof Rep) return `${a.s}*${a.n}`;
  if (typeof a === 'number' && !Number.isFinite(a)) return String(a);
  return a === TABLE ? '{}' : a;
}

/** A call that pushed a 36000-byte list element into the small zone. */
function pushedBig(c: Call, res: unknown): boolean {
  return c.dict === 'small' && (c.m === 'lpush' || c.m === 'rpush') && c.args[1] instanceof Rep && Array.isArray(res) && typeof res[0] === 'number';
}

/** `drawn`: a generated case, not one of REGRESSIONS (whose layouts are known to agree). */
function compare(calls: Call[], lua: unknown[], js: unknown[], drawn: boolean): Divergence[] {
  for (let i = 0; i < calls.length; i++) {
    // docs/api.md, "Memory": a list element's block is a little smaller than a value's of the
    // same bytes, where nginx rounds both up to the same 4 KB pages; once a large element is in
    // the small zone (and may be freed), whether it evicts for a large value differs, and so
    // does all that follows in the case. The push itself is compared.
    if (drawn && i > 0 && pushedBig(calls[i - 1]!, lua[i - 1])) return [];
    const l = norm(calls[i]!, lua[i]);
    const j = norm(calls[i]!, js[i]);
    if (JSON.stringify(l) !== JSON.stringify(j)) {
      // Only the first: the later calls start from zones that already differ.
      const req = calls.slice(0, i + 1).map((c) => `${c.dict}:${c.m}(${c.args.map((a) => JSON.stringify(show(a))).join(', ')})`).join(' ');
      return [{ req, field: `call ${i}`, nginx: lua[i], tresty: js[i] }];
    }
  }
  return [];
}

async function run(port: number, body: string): Promise<unknown[]> {
  const r = await httpGet(port, '/ops', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, timeoutMs: 10_000 });
  if (r.status !== 200) throw new Error(`status ${r.status}: ${r.body.slice(0, 500)}`);
  return JSON.parse(r.body) as unknown[];
}

// --- the run -----------------------------------------------------------------------------------

const SEED = Number(process.env.TRESTY_FUZZ_SEED ?? 20261203);
const N = Number(process.env.TRESTY_FUZZ_CASES ?? 500);
const ZONES = 'd 1m; small 64k';
const BODY = 'client_body_buffer_size 1m; client_max_body_size 10m;';

const missing = nginxMissing() ?? (NO_SHDICT ? NO_SHDICT.trim() : null);
const native = ENGINES.find((e) => e.name === 'native')!;
describe.skipIf(missing !== null)(`ngx.shared.DICT fuzz against nginx + lua (seed ${SEED})${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const all = cases(SEED, N);
  let n: Nginx;
  const want: unknown[][] = [];
  beforeAll(async () => {
    const zones = ZONES.split('; ').map((z) => `lua_shared_dict ${z};`).join('\n  ');
    n = await startNginx(`${BODY}\n    location = /ops { content_by_lua_file __PREFIX__/ops.lua; }`, zones, { 'ops.lua': LUA_HANDLER });
    for (const c of all) want.push(await run(n.port, luaOf(c)));
  }, 60_000);
  afterAll(async () => { await n?.stop(); });

  describe.skipIf(native.skip !== null)(titled(native, 'tresty'), () => {
    let t: TrestyProcess;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      const zones = ZONES.split('; ').map((z) => `js_shared_dict ${z};`).join('\n');
      t = await startTresty(oneServerConf(port, `${BODY}\n    location = /ops { content_by_js_file ops.mjs; }`, { http: zones }),
        { env: native.env, files: { 'ops.mjs': JS_HANDLER } });
    });
    afterAll(async () => { await t?.stop(); });

    it(`${all.length} call sequences: the same results as nginx + lua (TRESTY_FUZZ_SEED=${SEED})`, async () => {
      const diffs: Divergence[] = [];
      for (let i = 0; i < all.length; i++) {
        const got = await run(port, jsonOf(all[i]!)).catch((e: Error) => { throw new Error(`case ${i}: ${e.message}\n${jsonOf(all[i]!).slice(0, 2000)}`); });
        diffs.push(...compare(all[i]!, want[i]!, got, i > REGRESSIONS.length));
      }
      if (process.env.TRESTY_FUZZ_OUT) fs.writeFileSync(process.env.TRESTY_FUZZ_OUT, diffs.map((d) => JSON.stringify(d)).join('\n'));
      if (diffs.length > 0) console.log(`seed ${SEED}: ${diffs.length} divergences\n${diffs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n')}`);
      expect(diffs.slice(0, 5)).toEqual([]);
    }, 60_000);
  });
});
