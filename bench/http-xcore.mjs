#!/usr/bin/env node
// Does /echo-ffi against /echo-uds through HTTP move with the host's cross-core cost? That cost
// (bench/xcore: 100 KB written on one core, read on the other) flips between ~5-6 µs and ~9-12 µs
// within minutes on this machine, faster than one bench/http run, so a per-run figure cannot tell.
// Here every round is probed first, then /echo-ffi and /echo-uds take turns under `wrk -t1 -c64`
// (one tresty on conf/bench/tresty.conf, 2 workers, native engine, and the UDS echo server); the
// table gives each round's probe and ratio, then the ratio's median in the rounds below and above
// --fast-below, and the correlation of the two over all rounds.
//   node bench/http-xcore.mjs [--rounds 20] [--bytes 10240] [--duration 2] [--fast-below 7]
import path from 'node:path';
import { argsOrUsage } from './lib/usage.mjs';
import { pickLoad, runLoad } from './lib/load.mjs';
import { tempDir } from './lib/procs.mjs';
import { startTresty } from './lib/servers.mjs';
import { correlation, median } from './lib/stats.mjs';
import { fmt, toText } from './lib/table.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { crossCore } from './lib/xcore.mjs';

const USAGE = 'usage: node bench/http-xcore.mjs [--rounds 20] [--bytes 10240] [--duration 2] [--fast-below 7]';
const v = argsOrUsage(USAGE, {
  rounds: { type: 'string', default: '20' }, bytes: { type: 'string', default: '10240' },
  duration: { type: 'string', default: '2' }, 'fast-below': { type: 'string', default: '7' },
});
const [ROUNDS, BYTES, SECONDS, FAST] = [v.rounds, v.bytes, v.duration, v['fast-below']].map(Number);
if (![ROUNDS, BYTES, SECONDS, FAST].every((x) => Number.isFinite(x) && x > 0)) {
  console.error(USAGE);
  process.exit(2);
}
const PATHS = ['/echo-ffi', '/echo-uds'];
// What the run needs, checked before any server starts: a clear line, not a stack trace.
try {
  pickLoad('wrk');
  const probe = crossCore({ rounds: 1, iterations: 200 });
  if (probe.error) throw new Error(`the cross-core probe: ${probe.error}`);
} catch (e) {
  console.error(`bench/http-xcore: ${e.message}`);
  process.exit(2);
}

const dir = tempDir('http-xcore');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
const tresty = await startTresty({ udsSocket: uds.socketPath });
const started = new Date();
const rounds = [];
try {
  const load = async (p, seconds) => {
    const r = await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds, bodyBytes: BYTES });
    if (r.errors) throw new Error(`${p}: ${r.errors} wrk errors`);
    return r.rps;
  };
  for (const p of PATHS) await load(p, 1); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    // One quick probe: it spins both cores for ~0.2 s, before the loads and not during them.
    const x = crossCore({ rounds: 1, iterations: 2000 });
    if (x.error) throw new Error(`the cross-core probe: ${x.error}`);
    const rps = {};
    for (const p of r % 2 ? [...PATHS].reverse() : PATHS) rps[p] = await load(p, SECONDS);
    rounds.push({ crossUs: x.crossUs, ffi: rps['/echo-ffi'], uds: rps['/echo-uds'], ratio: rps['/echo-ffi'] / rps['/echo-uds'] });
    process.stderr.write(`  round ${r + 1}/${ROUNDS}: ${x.crossUs} µs, ${fmt.ratio(rounds.at(-1).ratio)}\n`);
  }
} finally {
  await tresty.stop();
  await uds.stop();
}
const fast = rounds.filter((q) => q.crossUs < FAST), slow = rounds.filter((q) => q.crossUs >= FAST);
const med = (list) => (list.length ? `${fmt.ratio(median(list.map((q) => q.ratio)))} (${list.length} round(s))` : 'no round');
// Two points always line up: r says something from three rounds on.
const r = rounds.length >= 3 ? correlation(rounds.map((q) => q.crossUs), rounds.map((q) => q.ratio)) : null;
console.log(toText({
  title: `/echo-ffi / /echo-uds by the host's cross-core cost: POST ${fmt.bytes(BYTES)}, wrk -t1 -c64, ${ROUNDS} rounds x ${SECONDS} s per path (${started.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
  columns: [
    { key: 'round', label: 'round' }, { key: 'cross', label: '100 KB across cores µs' },
    { key: 'ffi', label: '/echo-ffi req/s' }, { key: 'uds', label: '/echo-uds req/s' }, { key: 'ratio', label: 'ffi / uds' },
  ],
  rows: rounds.map((q, i) => ({ round: String(i + 1), cross: q.crossUs.toFixed(2), ffi: fmt.rate(q.ffi), uds: fmt.rate(q.uds), ratio: fmt.ratio(q.ratio) })),
  notes: [
    `ffi / uds, median: with the crossing under ${FAST} µs ${med(fast)}; at ${FAST} µs or more ${med(slow)}.`,
    `correlation of the crossing's µs with ffi / uds over all rounds: ${r === null ? 'n/a (under three rounds, or one of them did not vary)' : `r = ${r.toFixed(2)}`}.`,
  ],
}));
