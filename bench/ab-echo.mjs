#!/usr/bin/env node
// Two checkouts side by side on the benchmark conf's POST paths (what ab-tresty.mjs does for GET):
// did a change cost the request-body path? Each checkout runs conf/bench/tresty.conf with 2 workers;
// they take turns per path and round under wrk -t1 -c64, and each ratio (B / A) is the median of its
// per-round ratios.
//   node bench/ab-echo.mjs --a OTHER_CHECKOUT [--b .] [--paths /echo-js,/hello] [--bytes 512] [--rounds 5] [--seconds 3]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argsOrUsage } from './lib/usage.mjs';
import { pickLoad, runLoad } from './lib/load.mjs';
import { median } from './lib/stats.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node bench/ab-echo.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--paths P,..] [--bytes N] [--rounds N] [--seconds S]';
const values = argsOrUsage(USAGE, {
    a: { type: 'string' }, b: { type: 'string', default: here }, paths: { type: 'string', default: '/echo-js,/hello' },
    bytes: { type: 'string', default: '512' }, rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' },
  });
if (!values.a) { console.error(USAGE); process.exit(2); }
const servers = async (root) => (await import(path.join(path.resolve(root), 'bench/lib/servers.mjs'))).startTresty({ workers: 2 });
const A = await servers(values.a);
const B = await servers(values.b);
const tool = pickLoad();
const bytes = Number(values.bytes);
const rows = [];
try {
  for (const p of values.paths.split(',')) {
    const body = p === '/hello' ? 0 : bytes;
    const ratios = [];
    const rates = { a: [], b: [] };
    for (let i = 0; i < Number(values.rounds); i++) {
      const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      const got = {};
      for (const k of order) {
        const s = k === 'a' ? A : B;
        const r = await runLoad(`http://127.0.0.1:${s.port}${p}`, { tool, connections: 64, seconds: Number(values.seconds), bodyBytes: body });
        got[k] = r.rps;
        rates[k].push(Math.round(r.rps));
      }
      ratios.push(got.b / got.a);
    }
    const m = median(ratios);
    rows.push({ path: p, body: body ? `${body} B` : '', 'A req/s': rates.a.join('/'), 'B req/s': rates.b.join('/'), 'B / A': `${m.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})` });
  }
} finally {
  await A.stop();
  await B.stop();
}
console.log(`A: ${path.resolve(values.a)}; B: ${path.resolve(values.b)}; wrk -t1 -c64, ${values.rounds} rounds x ${values.seconds} s, 2 workers each`);
console.table(rows);
process.exit(0);
