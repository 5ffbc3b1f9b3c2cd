// How ngx.shared should reach its C core: one get / set / incr through each candidate binding,
// in one process, alternating rounds, the same zone. Answers bench/README.md's "shdict binding".
//
//   node bench/shdict-binding.mjs [--rounds 7] [--ops 200000]
//
// Candidates:
//   napi          native/build/tresty_shdict.node: strings and numbers as N-API arguments, the
//                 zone bound to each function (create() answers an object of functions)
//   koffi-scratch libtresty_shdict.so through koffi: the key is written into a Buffer shared with
//                 C (latin1Write), only (zone, length) cross the call, the value comes back there
//   koffi-string  the same, but the key is a koffi `const char *` argument (koffi encodes it)
// and `Map` (a plain JS Map in one process) as the floor no shared store can beat.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = path.join(root, 'native', 'build');
const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, ops: { type: 'string', default: '200000' } } });
const ROUNDS = Number(opt.rounds);
const OPS = Number(opt.ops);

const require = createRequire(import.meta.url);
const addon = require(path.join(build, 'tresty_shdict.node'));
const koffi = (await import('koffi')).default;

const seg = `/dev/shm/tresty-bench-binding-${process.pid}`;
fs.rmSync(seg, { force: true });
const S = new Float64Array(4);
addon.setScratch(S);
const zone = addon.create(seg, 64 * 1024 * 1024, 'bench');
process.on('exit', () => fs.rmSync(seg, { force: true }));

const lib = koffi.load(path.join(build, 'libtresty_shdict.so'));
const kAttach = lib.func('int tresty_shd_attach(const char *path, _Out_ void **out)');
const kScratch = lib.func('int tresty_shd_k_scratch(uint8_t *p, uint32_t cap)');
const kGet = lib.func('int tresty_shd_k_get(void *z, uint32_t klen)');
const kGetStr = lib.func('int tresty_shd_k_get_str(void *z, const char *key, uint32_t klen)');
const kSet = lib.func('int tresty_shd_k_set(void *z, uint32_t klen, int type, uint32_t vlen, double num)');
const kIncr = lib.func('int tresty_shd_k_incr(void *z, uint32_t klen, double delta)');
const out = [null];
if (kAttach(seg, out) !== 0) throw new Error('attach failed');
const kz = out[0];
const scratch = Buffer.alloc(64 * 1024);
kScratch(scratch, scratch.length);
const f64 = new Float64Array(scratch.buffer, scratch.byteOffset, 1);

const KEYS = Array.from({ length: 1000 }, (_, i) => `user:${i}:quota`);
const VALUE = 'v'.repeat(16);
for (const k of KEYS) zone.set(k, VALUE);
const map = new Map(KEYS.map((k) => [k, VALUE]));

let sink = 0;
const candidates = {
  napi: {
    get: (k) => { const v = zone.get(k, false); if (S[0] !== 0) throw new Error('get'); return v; },
    set: (k) => { zone.set(k, VALUE); return S[0]; },
    incr: (k) => zone.incrInit(k, 1, true, 0, 0),
  },
  'koffi-scratch': {
    get: (k) => {
      const n = scratch.latin1Write(k, 16);
      const t = kGet(kz, n);
      return t === 4 ? scratch.latin1Slice(16, 16 + scratch.readUInt32LE(8)) : t === 3 ? f64[0] : null;
    },
    set: (k) => { const n = scratch.latin1Write(k, 16); const m = scratch.latin1Write(VALUE, 16 + n); return kSet(kz, n, 4, m, 0); },
    incr: (k) => { const n = scratch.latin1Write(k, 16); kIncr(kz, n, 1); return f64[0]; },
  },
  'koffi-string': {
    get: (k) => { const t = kGetStr(kz, k, k.length); return t === 4 ? scratch.latin1Slice(16, 16 + scratch.readUInt32LE(8)) : null; },
  },
  Map: {
    get: (k) => map.get(k),
    set: (k) => map.set(k, VALUE),
    incr: (k) => map.set(k, (map.get(k) ?? 0) + 1),
  },
};
// incr needs number values: its own keys.
const IKEYS = KEYS.map((k) => `${k}:n`);

// CPU time, not wall time: on a shared 2-core machine a preempted round would count another
// process's time as ours.
function run(fn, keys) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < OPS; i++) sink += fn(keys[i % 1000]) ? 1 : 0;
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / OPS;
}

// Correctness first: every candidate sees the same value.
for (const [name, c] of Object.entries(candidates)) {
  if (c.get(KEYS[3]) !== VALUE) throw new Error(`${name}: get returned the wrong value`);
}

const names = Object.keys(candidates);
const results = {};
for (const op of ['get', 'set', 'incr']) {
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const n of order) {
      const fn = candidates[n][op];
      if (!fn) continue;
      const ns = run(fn, op === 'incr' ? IKEYS : KEYS);
      if (r > 0) samples[n].push(ns); // round 0 warms up
    }
  }
  for (const n of names) {
    const s = samples[n].sort((a, b) => a - b);
    if (s.length) (results[n] ??= {})[op] = s[Math.floor(s.length / 2)];
  }
}

const fmt = (v) => (v === undefined ? '-' : `${v.toFixed(0)} ns`);
console.log(`\nshdict binding: CPU ns per operation (median of ${ROUNDS} rounds of ${OPS} ops; keys of 14 B, values of 16 B)\n`);
console.log('| candidate | get | set | incr | get vs napi |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const n of names) {
  const r = results[n] ?? {};
  console.log(`| ${n} | ${fmt(r.get)} | ${fmt(r.set)} | ${fmt(r.incr)} | ${(r.get / results.napi.get).toFixed(2)}x |`);
}
if (sink < 0) console.log(sink);
zone.detach();
