#!/usr/bin/env node
// Where a worker's main thread spends a request, path against path (issue 10: what does a ring
// call add to the worker beyond the zero-hop call?). Starts the UDS echo server and tresty
// (conf/bench/tresty.conf, 2 workers, Node's --perf-basic-prof so JIT frames have names), and for
// each path runs wrk (POST of --bytes, 64 connections) while `perf record` samples both workers'
// main threads (cpu-clock). Prints each path's samples as µs of CPU per request: in all, by where
// the code lives (kernel, V8 and Node, JIT code, libc, the engine, the rest), and the symbols that
// differ most between the first path and the second. Needs perf (Debian: linux-perf) and root;
// says so and exits 2 otherwise.
//   node bench/worker-profile.mjs [--paths /echo-ffi,/echo-fn] [--bytes 10240] [--seconds 4] [--top 20]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { haveWrk, runLoad } from './lib/load.mjs';
import { onCleanup, tempDir } from './lib/procs.mjs';
import { startTresty } from './lib/servers.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { argsOrUsage } from './lib/usage.mjs';

const USAGE = 'usage: node bench/worker-profile.mjs [--paths /echo-ffi,/echo-fn] [--bytes 10240] [--seconds 4] [--top 20]';
const values = argsOrUsage(USAGE, {
  paths: { type: 'string', default: '/echo-ffi,/echo-fn' }, bytes: { type: 'string', default: '10240' },
  seconds: { type: 'string', default: '4' }, top: { type: 'string', default: '20' },
});
const paths = values.paths.split(',').filter(Boolean);
const bytes = Number(values.bytes);
const seconds = Number(values.seconds);
const top = Number(values.top);
if (paths.length < 1 || !(bytes >= 0) || !(seconds > 0) || !(top >= 0)) {
  console.error(USAGE);
  process.exit(2);
}
const probe = spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  console.error(`worker-profile: needs perf record (Debian: linux-perf, run as root): ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  process.exit(2);
}
if (!haveWrk()) {
  console.error('worker-profile: needs wrk (Debian: wrk)');
  process.exit(2);
}
const HZ = 4000;

/** Where a symbol's code lives, from perf's dso column. */
function area(dso) {
  if (dso.includes('kernel')) return 'kernel';
  if (dso.startsWith('[JIT]')) return 'JIT code';
  if (dso === 'node' || dso.startsWith('libstdc++')) return 'V8 and Node';
  if (dso.startsWith('libc.so')) return 'libc';
  if (dso.startsWith('tresty_engine')) return 'engine';
  return 'other';
}

/** perf report's flat lines (percent, samples, dso, symbol) as µs per request by symbol. */
function perRequest(report, requests) {
  const bySym = new Map();
  for (const line of report.split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[.\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const dso = m[2].startsWith('[JIT]') ? '[JIT]' : m[2];
    const sym = m[3].trim().replace(/\/tmp\/tresty-bench-[^/]+\//, '');
    const key = `${dso} ${sym}`;
    bySym.set(key, (bySym.get(key) ?? 0) + Number(m[1]) * (1e6 / HZ) / requests);
  }
  return bySym;
}

const dir = tempDir('worker-profile');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
onCleanup(() => uds.stop());
const nodeOptions = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --perf-basic-prof`.trim(); // the workers inherit it
const tresty = await startTresty({ udsSocket: uds.socketPath });
if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = nodeOptions;
const workers = execFileSync('pgrep', ['-P', String(tresty.pid)], { encoding: 'utf8' }).trim().split('\n');
onCleanup(() => { for (const w of [...workers, String(tresty.pid)]) rmSync(`/tmp/perf-${w}.map`, { force: true }); });
onCleanup(() => tresty.stop());

const rows = [];
for (const p of paths) {
  await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds: 2, bodyBytes: bytes }); // warm-up
  const data = path.join(dir, `${rows.length}.data`);
  // -t with a worker's pid samples its main thread alone: the event loop and JS.
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(HZ), '-t', workers.join(','), '-o', data],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => perf.on('exit', r));
  const res = await runLoad(tresty.url(p), { tool: 'wrk', connections: 64, seconds, bodyBytes: bytes });
  perf.kill('SIGINT');
  await exited;
  const report = spawnSync('perf', ['report', '-i', data, '--no-children', '--sort', 'dso,sym', '--stdio', '-q', '-n'],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  const bySym = perRequest(report.stdout, res.requests);
  const byArea = new Map();
  for (const [k, us] of bySym) byArea.set(area(k.split(' ')[0]), (byArea.get(area(k.split(' ')[0])) ?? 0) + us);
  rows.push({ path: p, rps: res.rps, bySym, byArea, total: [...bySym.values()].reduce((a, b) => a + b, 0) });
}
await tresty.stop();
await uds.stop();

const AREAS = ['kernel', 'V8 and Node', 'JIT code', 'libc', 'engine', 'other'];
const f = (n) => n.toFixed(2);
console.log(`POST ${bytes} B, wrk -t1 -c64, ${seconds} s per path, 2 workers; the workers' main threads, µs of CPU per request (perf samples at ${HZ} Hz)`);
console.log(['where', ...rows.map((r) => `${r.path} (${Math.round(r.rps)} req/s)`)].join(' | '));
console.log(['all', ...rows.map((r) => f(r.total))].join(' | '));
for (const a of AREAS) console.log([a, ...rows.map((r) => f(r.byArea.get(a) ?? 0))].join(' | '));
if (rows.length >= 2 && top > 0) {
  const [a, b] = rows;
  const keys = [...new Set([...a.bySym.keys(), ...b.bySym.keys()])];
  const diff = keys.map((k) => [k, (a.bySym.get(k) ?? 0) - (b.bySym.get(k) ?? 0)]).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  console.log(`\nthe ${top} symbols that differ most, ${a.path} minus ${b.path} (µs per request) | ${a.path} | ${b.path}`);
  for (const [k, d] of diff.slice(0, top)) console.log(`${d >= 0 ? '+' : ''}${f(d)} ${k.slice(0, 100)} | ${f(a.bySym.get(k) ?? 0)} | ${f(b.bySym.get(k) ?? 0)}`);
}
