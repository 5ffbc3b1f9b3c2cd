#!/usr/bin/env node
// Where should a worker's FFI pollers run? A prototype for issue 10 (bench/README.md, "Pollers on
// the other worker's core"): one tresty (conf/bench/tresty.conf, 2 workers) and the UDS echo
// server; before each load run, the threads are placed with `taskset -p` by a layout, then
// `/echo-ffi` and `/echo-uds` each take `wrk -t1 -c N` for --duration seconds (POST of --bytes).
// Layouts, rotated round after round:
//   float  every thread on every core (the default);
//   cross  worker i's threads on core i, its pollers on the next core (the other worker's);
//   same   worker i and its pollers on core i;
//   wpin   worker i's threads on core i, its pollers on every core;
//   fifo   as same, the pollers SCHED_FIFO (`chrt -f -p 1`): a wake switches to them at once;
//   fifox  as cross, the pollers SCHED_FIFO.
// The pollers are made SCHED_OTHER again for every other layout. fifo and fifox need root.
// Prints per layout and connection count the median req/s of both paths, the median of the
// per-round FFI / UDS ratios (range), FFI against the first layout, and the machine's idle share.
//   node bench/ffi-poller-placement.mjs [--layouts float,cross] [--connections 1,4,16,64] [--bytes 512] [--rounds 4] [--duration 2]
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { haveWrk, runLoad } from './lib/load.mjs';
import { haveTaskset } from './lib/pinned.mjs';
import { onCleanup, tempDir } from './lib/procs.mjs';
import { startTresty } from './lib/servers.mjs';
import { median } from './lib/stats.mjs';
import { busyShare, machineJiffies, snapshot } from './lib/threads.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';
import { argsOrUsage } from './lib/usage.mjs';

const USAGE = 'usage: node bench/ffi-poller-placement.mjs [--layouts float,cross] [--connections 1,4,16,64] [--bytes 512] [--rounds 4] [--duration 2]';
const v = argsOrUsage(USAGE, {
  layouts: { type: 'string', default: 'float,cross' }, connections: { type: 'string', default: '1,4,16,64' },
  bytes: { type: 'string', default: '512' }, rounds: { type: 'string', default: '4' }, duration: { type: 'string', default: '2' },
});
const ncpu = os.availableParallelism();
const all = `0-${ncpu - 1}`;
/** Each layout's CPUs for worker i's threads: [its other threads, its pollers]. */
const CPUS = {
  float: () => [all, all],
  cross: (i) => [String(i % ncpu), String((i + 1) % ncpu)],
  same: (i) => [String(i % ncpu), String(i % ncpu)],
  wpin: (i) => [String(i % ncpu), all],
};
CPUS.fifo = CPUS.same; // the pollers SCHED_FIFO besides
CPUS.fifox = CPUS.cross;
const FIFO = new Set(['fifo', 'fifox']); // layouts whose pollers run SCHED_FIFO

const layouts = v.layouts.split(',');
const conns = v.connections.split(',').map(Number);
const [bytes, rounds, seconds] = [Number(v.bytes), Number(v.rounds), Number(v.duration)];
if (layouts.some((l) => !Object.hasOwn(CPUS, l)) || conns.some((c) => !(c >= 1)) || !(bytes >= 0) || !(rounds >= 1) || !(seconds > 0)) {
  console.error(USAGE);
  process.exit(2);
}
if (!haveWrk() || !haveTaskset()) {
  console.error(`ffi-poller-placement: needs ${haveWrk() ? 'taskset (Debian: util-linux)' : 'wrk (Debian: wrk)'}`);
  process.exit(2);
}
if (ncpu < 2) {
  console.error('ffi-poller-placement: needs 2 cores or more (one worker per core, pollers on another)');
  process.exit(2);
}

const dir = tempDir('poller-placement');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'));
onCleanup(() => uds.stop());
const tresty = await startTresty({ udsSocket: uds.socketPath });
onCleanup(() => tresty.stop());
const workers = execFileSync('pgrep', ['-P', String(tresty.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number).sort((a, b) => a - b);
await runLoad(tresty.url('/echo-ffi'), { tool: 'wrk', connections: 64, seconds: 1, bodyBytes: bytes }); // warm-up

/** Places every thread of every worker by the layout (worker i on core i mod ncpu). */
function place(layout) {
  const snap = snapshot(workers, { tree: false });
  workers.forEach((w, i) => {
    const [rest, pollers] = CPUS[layout](i);
    for (const [tid, t] of Object.entries(snap[w]?.threads ?? {})) {
      const poller = /poll/.test(t.comm);
      spawnSync('taskset', ['-p', '-c', poller ? pollers : rest, tid], { stdio: 'ignore' });
      if (poller) spawnSync('chrt', FIFO.has(layout) ? ['-f', '-p', '1', tid] : ['-o', '-p', '0', tid], { stdio: 'ignore' });
    }
  });
}

const cells = new Map(); // `${layout} ${c}` -> { ffi: [], uds: [], idleF: [], idleU: [] }
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...layouts].reverse() : layouts;
  for (const c of conns) {
    for (const layout of order) {
      place(layout);
      const cell = cells.get(`${layout} ${c}`) ?? { ffi: [], uds: [], idleF: [], idleU: [] };
      cells.set(`${layout} ${c}`, cell);
      for (const [p, key, idleKey] of [['/echo-ffi', 'ffi', 'idleF'], ['/echo-uds', 'uds', 'idleU']]) {
        const m0 = machineJiffies();
        const res = await runLoad(tresty.url(p), { tool: 'wrk', connections: c, seconds, bodyBytes: bytes });
        cell[key].push(res.rps);
        cell[idleKey].push(1 - busyShare(m0, machineJiffies()));
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds}, ${c} connections done\n`);
  }
}
place('float');
await tresty.stop();
await uds.stop();

const pct = (x) => `${Math.round(100 * x)}%`;
const ratio = (xs) => `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`;
console.log(`POST ${bytes} B, wrk -t1, ${rounds} rounds x ${seconds} s per path, 2 workers, layouts rotated (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${os.loadavg()[0].toFixed(2)} at the end)`);
console.log(['connections', 'layout', '/echo-ffi req/s', '/echo-uds req/s', 'FFI / UDS (range)', `FFI / FFI ${layouts[0]}`, 'idle ffi / uds'].join(' | '));
for (const c of conns) {
  const base = cells.get(`${layouts[0]} ${c}`);
  for (const layout of layouts) {
    const cell = cells.get(`${layout} ${c}`);
    const ratios = cell.ffi.map((f, i) => f / cell.uds[i]);
    const vsBase = cell.ffi.map((f, i) => f / base.ffi[i]);
    console.log([c, layout, Math.round(median(cell.ffi)), Math.round(median(cell.uds)), ratio(ratios), ratio(vsBase),
      `${pct(median(cell.idleF))} / ${pct(median(cell.idleU))}`].join(' | '));
  }
}
