// Per-core measuring for bench/proxy.mjs and bench/tls.mjs: the server under test on one core,
// the load generator (and any peer it needs) on the other (taskset), and the CPU every process
// and thread used during each run (/proc, bench/lib/threads.mjs), so a table says whether the
// server's core was the limit. Without taskset the processes run unpinned (noted in the tables).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './procs.mjs';
import { cpuDelta, processTree, snapshot } from './threads.mjs';

const WRK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk-report.lua');

export const haveTaskset = () => spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** `cmd args` pinned to `core` when taskset exists (and core is not null). */
export function pinned(core, cmd, args, opts = {}) {
  if (core === null || !haveTaskset()) return spawnTracked(cmd, args, opts);
  return spawnTracked('taskset', ['-c', String(core), cmd, ...args], opts);
}

/** The machine's cores for [server, load]: [1, 0] on a 2-core machine; null when unpinned. */
export function cores() {
  return haveTaskset() ? { server: 1, load: 0 } : { server: null, load: null };
}

/**
 * One wrk run on `core`, with the CPU of `watch` (pids, with their children) over the run.
 * headers: extra request headers (e.g. { Connection: 'close' } for one handshake per request).
 */
export async function wrkRun(url, { core, seconds, connections, headers = {}, watch = [] }) {
  const hdr = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const before = snapshot(watch);
  const trees = new Map(watch.map((pid) => [pid, new Set(processTree(pid))]));
  const t0 = Date.now();
  const p = pinned(core, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', ...hdr, '-s', WRK_SCRIPT, url]);
  await p.exited;
  const wall = (Date.now() - t0) / 1000;
  const cpu = cpuDelta(before, snapshot(watch));
  const line = p.output().split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk gave no report for ${url}:\n${p.output().trim()}`);
  const r = JSON.parse(line.slice(9));
  return {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    cpu,
    trees,
    wall,
  };
}

/**
 * CPU microseconds per request of the processes in `pids` (with their children) in one run: a
 * cost that a busy machine distorts far less than req/s, since it counts only the CPU the server
 * got, not the CPU it waited for.
 */
export function usPerRequest(run, root) {
  const set = run.trees.get(root) ?? new Set([root]);
  const secs = run.cpu.filter((r) => set.has(r.pid)).reduce((a, r) => a + r.total, 0);
  return run.requests > 0 ? (secs * 1e6) / run.requests : NaN;
}

/** `name: 97% (main 90, libuv 7)` for every process of a run with more than 1% of a core. */
export function cpuLine(cpu, seconds, names = {}) {
  return cpu.filter((r) => r.total / seconds >= 0.01).map((r) => {
    const th = r.threads.filter((t) => t.seconds / seconds >= 0.01)
      .map((t) => `${t.name}${t.count > 1 ? `x${t.count}` : ''} ${Math.round((100 * t.seconds) / seconds)}`);
    return `${names[r.pid] ?? r.comm} ${Math.round((100 * r.total) / seconds)}% (${th.join(', ')})`;
  }).join('; ');
}

/** Writes `text` with __KEY__ replaced by vars[KEY]. */
export function writeConf(file, text, vars) {
  let t = text;
  for (const [k, v] of Object.entries(vars)) t = t.replaceAll(`__${k}__`, String(v));
  writeFileSync(file, t);
  return file;
}
