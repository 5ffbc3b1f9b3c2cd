// Two builds of tresty side by side (bench/ab-tresty.mjs, bench/ab-stock-conf.mjs, bench/ab-gzip.mjs): each runs
// one worker pinned to CPU 0 (taskset when there), the load generator unpinned; the builds take
// turns round after round and each ratio (b / a) is the median of its per-round ratios.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runLoad } from './load.mjs';
import { median } from './stats.mjs';

export const taskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0 && os.cpus().length > 1;

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

/** Starts build `dir`'s bin/tresty.js on a temp prefix that setup(prefix, port) fills (conf/nginx.conf...). */
export async function startBuild(dir, setup) {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-tresty-'));
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  setup(prefix, port);
  const cmd = [process.execPath, path.join(dir, 'bin', 'tresty.js'), '-p', prefix, '-c', 'conf/nginx.conf'];
  const child = taskset ? spawn('taskset', ['-c', '0', ...cmd], { stdio: 'ignore' }) : spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((res) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => { child.kill('SIGTERM'); fs.rmSync(prefix, { recursive: true, force: true }); } };
}

/** One row per target { name, path, headers?, ...more columns }: both builds' req/s and b / a. */
export async function abRows(a, b, targets, { tool, rounds, seconds }) {
  const rows = [];
  // A short run per target and build first: the first requests of a worker find JS cold.
  for (const { path: p, headers = {} } of targets) {
    for (const s of [a, b]) await runLoad(`http://127.0.0.1:${s.port}${p}`, { tool, connections: 32, seconds: 1, threads: 1, headers });
  }
  for (const { name, path: p, headers = {}, ...more } of targets) {
    const ratios = [];
    const rps = { a: [], b: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so drift in the machine's load falls on both sides.
      const order = r % 2 === 0 ? [['a', a], ['b', b]] : [['b', b], ['a', a]];
      const got = {};
      for (const [k, s] of order) {
        const res = await runLoad(`http://127.0.0.1:${s.port}${p}`, { tool, connections: 32, seconds, threads: 1, headers });
        got[k] = res.rps;
        rps[k].push(res.rps);
      }
      ratios.push(got.b / got.a);
    }
    rows.push({ path: name, 'a req/s': Math.round(median(rps.a)), 'b req/s': Math.round(median(rps.b)), 'b / a (median)': median(ratios).toFixed(3), 'min..max': `${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)}`, ...more });
  }
  return rows;
}

/**
 * A wrk A/B script's whole run (ab-stock-conf.mjs, ab-gzip.mjs): `--a OTHER_CHECKOUT [--b
 * CHECKOUT] [--rounds N] [--seconds S]` from argv, both builds set up by setup(prefix, port), one
 * row per [name, path, request headers, what], printed with the time, the builds and the load.
 */
export async function abWrkMain(script, paths, setup) {
  const { haveWrk } = await import('./load.mjs');
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
  const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  if (!opt('a') || args.includes('--help')) {
    console.error(`usage: node bench/${script} --a OTHER_CHECKOUT [--b CHECKOUT] [--rounds N] [--seconds S]  (needs wrk)`);
    process.exit(opt('a') ? 0 : 2);
  }
  if (!haveWrk()) { console.error(`${script}: wrk is not installed`); process.exit(2); }
  const A = path.resolve(opt('a'));
  const B = path.resolve(opt('b', here));
  const rounds = Number(opt('rounds', 6));
  const seconds = Number(opt('seconds', 3));
  const a = await startBuild(A, setup);
  const b = await startBuild(B, setup);
  try {
    const rows = await abRows(a, b, paths.map(([name, p, headers, what]) => ({ name, path: p, headers, what })), { tool: 'wrk', rounds, seconds });
    console.log(`${new Date().toISOString()}\na = ${A}\nb = ${B}\nwrk, ${rounds} rounds x ${seconds} s, 32 connections, one worker${taskset ? ' on CPU 0' : ''}, load ${os.loadavg()[0].toFixed(1)}`);
    console.table(rows);
  } finally {
    a.stop();
    b.stop();
  }
}
