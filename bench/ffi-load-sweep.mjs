#!/usr/bin/env node
// FFI against a unix socket through HTTP at every load, not only saturated (issue 10's waiting
// scheme must pay for itself idle, half-loaded and saturated). One tresty on conf/bench/tresty.conf
// (2 workers, native engine) and the UDS echo server; for each connection count, /echo-ffi (the ring
// to echo_c), /echo-uds (the socket) and /echo-fn (the zero hop) take turns round after round under
// `wrk -t1 -cN`, POST of --bytes. Each ratio is the median of its per-round ratios, ± half the
// spread; the CPU columns are shares of the whole machine (all cores) over the path's runs.
// --autogroups on|off sets the kernel's autogroups for the run (root; restored after), since with
// them on the UDS server has a CPU share of its own while the pollers share tresty's. --idle-hogs
// runs a SCHED_IDLE hog per core throughout, so no vCPU ever halts (a measurement of wake costs);
// --pinned adds `worker_cpu_affinity auto;` to the conf; --pollers-next that and
// `ffi_poller_cpu_affinity next;` (each worker's pollers on the other worker's CPU); --pollers-fifo
// that and `ffi_poller_sched fifo;` (each worker's pollers real-time on its CPU).
//   node bench/ffi-load-sweep.mjs [--connections 1,4,16,64] [--bytes 512] [--rounds 3] [--duration 2] [--autogroups on|off] [--idle-hogs] [--pinned] [--pollers-next | --pollers-fifo]
import os from 'node:os';
import path from 'node:path';
import { argsOrUsage } from './lib/usage.mjs';
import { autogroupState, setAutogroups } from './lib/autogroup.mjs';
import { runLoad } from './lib/load.mjs';
import { tempDir } from './lib/procs.mjs';
import { startHogs } from './lib/hog.mjs';
import { startTresty } from './lib/servers.mjs';
import { median, spread } from './lib/stats.mjs';
import { fmt, toText } from './lib/table.mjs';
import { cpuDelta, machineJiffies, snapshot } from './lib/threads.mjs';
import { startUdsEcho } from './lib/uds-server.mjs';

const USAGE = 'usage: node bench/ffi-load-sweep.mjs [--connections 1,4,16,64] [--bytes 512] [--rounds 3] [--duration 2] [--autogroups on|off] [--idle-hogs] [--pinned] [--pollers-next | --pollers-fifo]';
const v = argsOrUsage(USAGE, {
  connections: { type: 'string', default: '1,4,16,64' }, bytes: { type: 'string', default: '512' },
  rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '2' },
  autogroups: { type: 'string' }, 'idle-hogs': { type: 'boolean', default: false },
  pinned: { type: 'boolean', default: false }, 'pollers-next': { type: 'boolean', default: false },
  'pollers-fifo': { type: 'boolean', default: false },
});
const CONNS = v.connections.split(',').map(Number);
const BYTES = Number(v.bytes);
const ROUNDS = Number(v.rounds);
const SECONDS = Number(v.duration);
if (![...CONNS, BYTES, ROUNDS, SECONDS].every((x) => Number.isFinite(x) && x > 0) || ![undefined, 'on', 'off'].includes(v.autogroups) || (v['pollers-next'] && v['pollers-fifo'])) {
  console.error(USAGE);
  process.exit(2);
}
const PATHS = ['/echo-ffi', '/echo-uds', '/echo-fn'];

/** One wrk run on a path: req/s, and the CPU (s) of the pollers and of the UDS server, the machine's idle share. */
async function run(tresty, uds, p, connections) {
  const before = snapshot([tresty.pid, uds.pid]);
  const ja = machineJiffies();
  const r = await runLoad(tresty.url(p), { tool: 'wrk', connections, seconds: SECONDS, bodyBytes: BYTES });
  const jb = machineJiffies();
  let poller = 0;
  let server = 0;
  for (const row of cpuDelta(before, snapshot([tresty.pid, uds.pid]))) {
    for (const t of row.threads) {
      if (row.pid === uds.pid) server += t.seconds;
      else if (/poll/.test(t.name)) poller += t.seconds;
    }
  }
  if (r.errors) throw new Error(`${p} at ${connections} connections: ${r.errors} wrk errors`);
  return { rps: r.rps, p50Ms: r.p50Ms, poller, server, idle: (jb.idle - ja.idle) / (jb.total - ja.total) };
}

let hogs = null;
try {
  if (v.autogroups) setAutogroups(v.autogroups); // before any server starts: it places only processes started after it
  if (v['idle-hogs']) hogs = startHogs({ idle: true, cores: os.cpus().map((_, i) => i) });
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const dir = tempDir('sweep');
const uds = await startUdsEcho(path.join(dir, 'echo.sock'), { threads: 2 });
const tresty = await startTresty({ udsSocket: uds.socketPath, pinned: v.pinned, pollersNext: v['pollers-next'], pollersFifo: v['pollers-fifo'] });
const started = new Date();
const rows = [];
try {
  for (const c of CONNS) {
    for (const p of PATHS) await runLoad(tresty.url(p), { tool: 'wrk', connections: c, seconds: 1, bodyBytes: BYTES }); // warm-up
    const runs = Object.fromEntries(PATHS.map((p) => [p, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order, so neither side always runs right after the other.
      for (const p of r % 2 ? [...PATHS].reverse() : PATHS) runs[p].push(await run(tresty, uds, p, c));
      process.stderr.write(`  ${c} connections, round ${r + 1}/${ROUNDS}\n`);
    }
    const ratio = (a, b) => runs[a].map((x, i) => x.rps / runs[b][i].rps);
    const share = (p, k) => runs[p].reduce((s, x) => s + x[k], 0) / (ROUNDS * SECONDS * os.availableParallelism());
    const cell = (xs) => `${fmt.ratio(median(xs))} ±${fmt.pct(spread(xs) / 2)}`;
    rows.push({
      c: String(c),
      ffi: fmt.rate(median(runs['/echo-ffi'].map((x) => x.rps))),
      uds: fmt.rate(median(runs['/echo-uds'].map((x) => x.rps))),
      ffiUds: cell(ratio('/echo-ffi', '/echo-uds')),
      fnUds: cell(ratio('/echo-fn', '/echo-uds')),
      p50: `${fmt.ms(median(runs['/echo-ffi'].map((x) => x.p50Ms)))} / ${fmt.ms(median(runs['/echo-uds'].map((x) => x.p50Ms)))}`,
      pollers: fmt.pct(share('/echo-ffi', 'poller')),
      server: fmt.pct(share('/echo-uds', 'server')),
      idle: `${fmt.pct(median(runs['/echo-ffi'].map((x) => x.idle)))} / ${fmt.pct(median(runs['/echo-uds'].map((x) => x.idle)))}`,
    });
  }
} finally {
  await tresty.stop();
  await uds.stop();
  await hogs?.stop();
}
console.log(toText({
  title: `FFI against a unix socket through HTTP, by load: POST ${fmt.bytes(BYTES)}, wrk -t1, ${ROUNDS} rounds x ${SECONDS} s, 2 workers, native engine, autogroups ${autogroupState()}${hogs ? ', a SCHED_IDLE hog per core' : ''}${v['pollers-next'] ? ', workers pinned, pollers on the next worker\'s CPU' : v['pollers-fifo'] ? ', workers pinned, pollers SCHED_FIFO with them' : v.pinned ? ', workers pinned' : ''} (${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${os.loadavg()[0].toFixed(2)} at the end)`,
  columns: [
    { key: 'c', label: 'connections' }, { key: 'ffi', label: '/echo-ffi req/s' }, { key: 'uds', label: '/echo-uds req/s' },
    { key: 'ffiUds', label: 'ffi / uds' }, { key: 'fnUds', label: 'zero hop / uds' }, { key: 'p50', label: 'p50 ms ffi / uds' },
    { key: 'pollers', label: 'pollers (ffi)' }, { key: 'server', label: 'uds server (uds)' }, { key: 'idle', label: 'idle ffi / uds' },
  ],
  rows,
  notes: ['pollers and uds server: share of the whole machine while their path ran; idle: the machine\'s idle share (median of rounds).'],
}));
