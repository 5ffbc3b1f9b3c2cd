#!/usr/bin/env node
// A proxy_cache zone's lookup of an entry it keeps in memory (the HIT path without a stat), in
// two checkouts' builds side by side: each round times N lookups in A's CacheZone, then in B's
// (one process; each build's module is its own instance). What a change to the zone's memo costs,
// far below what a whole HIT over HTTP lets through on a shared machine (bench/proxy-cache.mjs).
//   node bench/cache-lookup.mjs --a OTHER_CHECKOUT [--b .] [--rounds 9] [--n 2000000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { argsOrUsage } from './lib/usage.mjs';
import { median } from './lib/stats.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node bench/cache-lookup.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--n LOOKUPS]';
const v = argsOrUsage(USAGE, {
  a: { type: 'string' }, b: { type: 'string', default: here }, rounds: { type: 'string', default: '9' }, n: { type: 'string', default: '2000000' },
});
if (!v.a) { console.error(USAGE); process.exit(2); }
const N = Number(v.n);

/** A zone of `root`'s build holding one fresh 1 KB entry, looked up once (read, then kept). */
async function zoneOf(root, dir) {
  const { CacheZone } = await import(pathToFileURL(path.join(path.resolve(root), 'dist/src/cache/zone.js')).href);
  const zone = new CacheZone({ name: 'z', path: dir, levels: [1, 2], keysSize: 1 << 20, inactive: 600_000, maxSize: 0, ref: { file: 'bench', line: 0 } });
  const file = zone.file('http://b/x');
  const now = Date.now();
  const w = zone.writer(file, { key: 'http://b/x', status: 200, headers: ['Content-Type', 'text/plain'], valid: now + 3_600_000, date: now,
    lastModified: null, etag: null, vary: [], varyValues: [] });
  w.write(Buffer.alloc(1024, 120));
  w.commit();
  if (zone.lookup(file) === null) throw new Error(`${root}: the entry was not read back`);
  return { zone, file };
}

/** ns per lookup over N lookups (the memo's check: STAT_EVERY is 1 s, a round takes less). */
function time({ zone, file }) {
  zone.lookup(file); // a stat now, so that the round's lookups all come from memory
  const t = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < N; i++) if (zone.lookup(file) !== null) hits++;
  const ns = Number(process.hrtime.bigint() - t) / N;
  if (hits !== N) throw new Error('a lookup missed');
  return ns;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tresty-cache-lookup-'));
try {
  const A = await zoneOf(v.a, path.join(tmp, 'a'));
  const B = await zoneOf(v.b, path.join(tmp, 'b'));
  const a = [];
  const b = [];
  const ratios = [];
  for (let r = 0; r < Number(v.rounds); r++) {
    // Alternating who goes first, so that neither always runs on a warmer CPU.
    let na;
    let nb;
    if (r % 2 === 0) { na = time(A); nb = time(B); } else { nb = time(B); na = time(A); }
    a.push(na);
    b.push(nb);
    ratios.push(nb / na);
  }
  const f = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)})`;
  console.log(`A: ${v.a}; B: ${v.b}; ${v.rounds} rounds x ${N} lookups of a kept 1 KB entry; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`A ns/lookup ${f(a)}; B ns/lookup ${f(b)}; B / A ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)})`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
