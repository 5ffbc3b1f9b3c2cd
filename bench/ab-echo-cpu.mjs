#!/usr/bin/env node
// CPU per request of two checkouts on the benchmark conf's paths, per core: each checkout runs
// conf/bench/tresty.conf with one worker pinned to core 1, wrk -t1 pinned to core 0 (bench/lib/
// percore.mjs). On a machine other jobs share, req/s swings with the scheduler; the worker's own CPU
// per request (its main thread's schedstat over the run / requests) is what a change to the request
// path moves. The checkouts alternate per path and round; each ratio (B / A) is the median of the
// per-round ratios.
//   node bench/ab-echo-cpu.mjs --a OTHER_CHECKOUT [--b .] [--paths /hello,/echo-js] [--bytes 512] [--rounds 5] [--seconds 2] [--engine node]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argsOrUsage } from './lib/usage.mjs';
import { LOAD_CORE, SERVER_CORE, wrkPinned } from './lib/percore.mjs';
import { median } from './lib/stats.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node bench/ab-echo-cpu.mjs --a OTHER_CHECKOUT [--b CHECKOUT] [--paths P,..] [--bytes N] [--rounds N] [--seconds S] [--engine node]';
const values = argsOrUsage(USAGE, {
    a: { type: 'string' }, b: { type: 'string', default: here }, paths: { type: 'string', default: '/hello,/echo-js' },
    bytes: { type: 'string', default: '512' }, rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '2' },
    engine: { type: 'string' }, // node: both on `http_engine node`
  });
if (!values.a) { console.error(USAGE); process.exit(2); }
const start = async (root) => (await import(path.join(path.resolve(root), 'bench/lib/servers.mjs'))).startTresty({ workers: 1, core: SERVER_CORE, engine: values.engine });
const A = await start(values.a);
const B = await start(values.b);
const bytes = Number(values.bytes);

/** µs of the worker's main thread per request, and req/s, for one run. */
async function run(s, p) {
  const r = await wrkPinned(s.url(p), { connections: 64, seconds: Number(values.seconds), pids: [s.pid], bodyBytes: p === '/hello' ? 0 : bytes });
  let main = 0;
  let user = 0;
  for (const proc of r.cpu) for (const t of proc.threads) if (/^tresty: worker/.test(t.name)) { main += t.seconds; user += t.user; }
  const requests = r.rps * r.seconds;
  return { rps: r.rps, us: (main * 1e6) / requests, user: (user * 1e6) / requests };
}

const rows = [];
try {
  for (const p of values.paths.split(',')) {
    for (const s of [A, B]) await run(s, p); // warm-up: the first requests find JS cold
    const got = { a: [], b: [] };
    const ratios = [];
    const userRatios = [];
    for (let i = 0; i < Number(values.rounds); i++) {
      const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
      const round = {};
      for (const k of order) round[k] = await run(k === 'a' ? A : B, p);
      for (const k of order) got[k].push(round[k]);
      ratios.push(round.b.us / round.a.us);
      userRatios.push(round.b.user / round.a.user);
    }
    const m = (k, f) => median(got[k].map(f));
    rows.push({
      path: p, body: p === '/hello' ? '' : `${bytes} B`,
      'A µs/req': m('a', (x) => x.us).toFixed(2), 'B µs/req': m('b', (x) => x.us).toFixed(2),
      'B / A CPU': `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`,
      'A user µs': m('a', (x) => x.user).toFixed(2), 'B user µs': m('b', (x) => x.user).toFixed(2),
      'B / A user': `${median(userRatios).toFixed(3)} (${Math.min(...userRatios).toFixed(2)}..${Math.max(...userRatios).toFixed(2)})`,
      'A req/s': Math.round(m('a', (x) => x.rps)), 'B req/s': Math.round(m('b', (x) => x.rps)),
    });
  }
} finally {
  await A.stop();
  await B.stop();
}
console.log(`A: ${path.resolve(values.a)}; B: ${path.resolve(values.b)}; 1 worker on core ${SERVER_CORE}, wrk -t1 -c64 on core ${LOAD_CORE}, ${values.rounds} rounds x ${values.seconds} s; µs/req: the worker's main thread (user: its user space alone, 10 ms ticks)`);
console.table(rows);
process.exit(0);
