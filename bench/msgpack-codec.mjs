#!/usr/bin/env node
// MessagePack on the ring's path: msgpackr against tresty's own codec (src/ffi/msgpack.ts) for
// the shapes a handler sends, in one process, the two alternating round by round. "pack" makes
// the bytes a call sends (msgpackr's RESET mode, as the ring uses it, against packInto a reused
// buffer); "read" decodes an answer that sits in shared memory (msgpackr needs it copied out
// first; the codec reads it in place). Alone: node bench/msgpack-codec.mjs [--rounds 5]
import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { median, spread } from './lib/stats.mjs';
import { importDist } from './lib/tresty-dist.mjs';

const { packInto, readAt } = await importDist('src/ffi/msgpack.js');
const rounds = Number(parseArgs({ options: { rounds: { type: 'string', default: '5' } } }).values.rounds);
const fmt = (ns) => ns.toFixed(0);
const pct = (xs) => `${Math.round(spread(xs) * 100)}%`;
const packr = new Packr({ useRecords: false, copyBuffers: true });

const text = (n) => 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(n / 36)).slice(0, n);
const shapes = {
  'record 512 B (bench/ffi-vs-uds)': { id: 123456, method: 'echo', user: 'bench', body: text(470) },
  'small map': { ok: true, n: 42, op: 'get', key: 'user:1001' },
  'record 10 KB': { id: 7, method: 'put', tags: ['a', 'b', 'c'], body: text(10 * 1024) },
  '100 numbers': Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? i * 1000.5 : i * 70001)),
  'nested, non-ASCII': { user: { name: 'Zoë Ångström', roles: ['admin', 'ops'], quota: { used: 1.5, max: 1e9 } }, msg: 'héllo wörld ✓'.repeat(8) },
};

const out = new Uint8Array(1 << 20);
const shared = new Uint8Array(new SharedArrayBuffer(1 << 20));
const plain = new Uint8Array(1 << 20);

// CPU time, not wall time: on a shared machine a side that waits for a core is not slower.
function perOp(f, n) {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const d = process.cpuUsage(t);
  return ((d.user + d.system) * 1000) / n;
}

const rows = [];
for (const [name, v] of Object.entries(shapes)) {
  const bytes = packr.pack(v);
  shared.set(bytes);
  const len = bytes.length;
  const sides = {
    'msgpackr pack': () => packr.pack(v, RESET_BUFFER_MODE),
    'codec pack': () => packInto(v, out, 0, out.length),
    'msgpackr read': () => { plain.set(shared.subarray(0, len)); return packr.unpack(plain, { start: 0, end: len }); },
    'codec read': () => readAt(shared, 0, len),
  };
  const n = Math.max(2000, Math.round(2e6 / (len + 200)));
  const t = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const f of Object.values(sides)) perOp(f, n); // warm-up
  for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(sides)) t[k].push(perOp(f, n));
  const ratio = (a, b) => t[a].map((x, i) => x / t[b][i]);
  rows.push([name, `${len} B`,
    fmt(median(t['msgpackr pack'])), fmt(median(t['codec pack'])), `${median(ratio('msgpackr pack', 'codec pack')).toFixed(2)}x ±${pct(ratio('msgpackr pack', 'codec pack'))}`,
    fmt(median(t['msgpackr read'])), fmt(median(t['codec read'])), `${median(ratio('msgpackr read', 'codec read')).toFixed(2)}x ±${pct(ratio('msgpackr read', 'codec read'))}`]);
}
const head = ['value', 'size', 'msgpackr pack ns', 'codec pack ns', 'speed-up', 'msgpackr read ns', 'codec read ns', 'speed-up'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
console.log(`MessagePack: msgpackr against src/ffi/msgpack.ts, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}, ${rounds} rounds, median CPU ns per value`);
for (const r of [head, w.map((n) => '-'.repeat(n)), ...rows]) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
