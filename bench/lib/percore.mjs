// Per-core measurement, as issue 9 asks: the server pinned to one core (`taskset -c 1`), the load
// generator to the other (`taskset -c 0`), keep-alive, and the CPU every thread of the server used
// during the run (bench/lib/threads.mjs). Without taskset (not Linux) nothing is pinned and the
// result says so.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './procs.mjs';
import { busyShare, cpuDelta, machineJiffies, snapshot } from './threads.mjs';

const WRK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk-report.lua');
export const SERVER_CORE = 1;
export const LOAD_CORE = 0;

let tasksetFound;
export function haveTaskset() {
  tasksetFound ??= spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
  return tasksetFound;
}

/** spawnTracked, pinned to `core` when taskset exists (every thread the child starts inherits it). */
export function spawnPinned(core, cmd, args, opts) {
  return haveTaskset() ? spawnTracked('taskset', ['-c', String(core), cmd, ...args], opts) : spawnTracked(cmd, args, opts);
}

/**
 * One wrk run pinned to LOAD_CORE; `pids` are the server's processes, whose threads' CPU is
 * measured around the run. Returns { rps, p50Ms, p99Ms, errors, cpu: cpuDelta rows, seconds,
 * loadCoreBusy: the share (0..1) of LOAD_CORE busy during the run, null if unknown }.
 */
export async function wrkPinned(url, { connections = 50, seconds = 5, pids = [], bodyBytes = 0 } = {}) {
  const before = snapshot(pids);
  const coreBefore = machineJiffies(LOAD_CORE);
  const t0 = process.hrtime.bigint();
  const p = spawnPinned(LOAD_CORE, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url], {
    env: { ...process.env, WRK_BODY_BYTES: String(bodyBytes) },
  });
  await p.exited;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  // How busy wrk's core was (wrk and anything else on it): near 100%, the load, not the server,
  // may have set the req/s. Without taskset wrk was not pinned there: no figure.
  const loadCoreBusy = haveTaskset() ? busyShare(coreBefore, machineJiffies(LOAD_CORE)) : null;
  const after = snapshot(pids);
  const line = p.output().split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk gave no report for ${url}:\n${p.output().trim()}`);
  const r = JSON.parse(line.slice(9));
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    cpu: cpuDelta(before, after),
    seconds: wall,
    loadCoreBusy,
  };
}

/** `tresty: worker process` -> `worker`: the process titles tresty sets are long. */
function short(name) {
  const m = /^tresty: (\w+)/.exec(name);
  return m ? m[1] : name.trim();
}

/** Sums cpuDelta rows of several runs per thread name (pids differ between servers, not runs). */
export function sumCpu(runs) {
  const byThread = new Map();
  let seconds = 0;
  for (const run of runs) {
    seconds += run.seconds;
    for (const proc of run.cpu) {
      for (const t of proc.threads) {
        const key = `${short(proc.comm)}/${short(t.name)}`;
        byThread.set(key, (byThread.get(key) ?? 0) + t.seconds);
      }
    }
  }
  return [...byThread].map(([name, s]) => ({ name, share: seconds ? s / seconds : 0 }))
    .filter((t) => t.share >= 0.005).sort((a, b) => b.share - a.share);
}

/** `node/node 0.97, node/tresty-io 0.31`: cores used per thread name. */
export function describeShares(shares) {
  return shares.map((t) => `${t.name} ${t.share.toFixed(2)}`).join(', ');
}
