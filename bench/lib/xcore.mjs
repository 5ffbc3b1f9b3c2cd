// How dear it is, right now, to move a payload from one core to the other (bench/xcore/xcore.c),
// as a ring call does twice. This host's placement of its vCPUs changes within minutes, and with
// it the large-payload cells of bench/ffi-vs-uds (a 100 KB ring call's p50 10 µs or 17-19 µs), so
// that benchmark and bench/http record the state they ran in. An error value, not a throw: no compiler or one core
// only leaves the figure out, it does not stop the benchmark.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './stats.mjs';
import { tempDir } from './procs.mjs';
import { ROOT } from './tresty-dist.mjs';

const built = new Map(); // compiler -> binary, built once per process

function build(cc) {
  if (built.has(cc)) return built.get(cc);
  const out = path.join(tempDir('xcore'), 'xcore');
  const r = spawnSync(cc, ['-O2', '-pthread', '-o', out, path.join(ROOT, 'bench', 'xcore', 'xcore.c')], { encoding: 'utf8' });
  if (r.error) throw new Error(`${cc} not found: the cross-core figure needs a C compiler`);
  if (r.status !== 0) throw new Error(`${cc} failed on bench/xcore/xcore.c: ${r.stderr.trim().split('\n')[0]}`);
  built.set(cc, out);
  return out;
}

function once(bin, mode, bytes, iterations) {
  const r = spawnSync(bin, [mode, String(bytes), String(iterations)], { encoding: 'utf8', timeout: 30_000 });
  const m = /([\d.]+) us per write/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`bench/xcore ${mode} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return Number(m[1]);
}

/**
 * Median µs to write `bytes` on one core and read them on another (crossUs), and on one core
 * alone (sameUs), over `rounds` alternating runs. Returns { bytes, crossUs, sameUs } or { bytes, error }.
 */
export function crossCore({ bytes = 102400, rounds = 3, iterations = 5000, cc = 'cc' } = {}) {
  try {
    const bin = build(cc);
    if (os.availableParallelism() < 2) throw new Error('one core: nothing to cross');
    const cross = [], same = [];
    for (let r = 0; r < rounds; r++) {
      same.push(once(bin, 'same', bytes, iterations));
      cross.push(once(bin, 'cross', bytes, iterations));
    }
    return { bytes, crossUs: median(cross), sameUs: median(same) };
  } catch (e) {
    return { bytes, error: e.message };
  }
}

/** One line for a table's notes. */
export function describeCrossCore(start, end) {
  const one = (x) => (x.error ? `not measured (${x.error})` : `${x.crossUs.toFixed(1)} µs (${x.sameUs.toFixed(1)} on one core)`);
  const kb = `${Math.round(start.bytes / 1024)} KB`;
  return `Cross-core cost (bench/xcore): ${kb} written on one core and read on another took ${one(start)} at the start, ${one(end)} at the end.`;
}

// By hand: node bench/lib/xcore.mjs [bytes] [rounds]
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const x = crossCore({ bytes: Number(process.argv[2] ?? 102400), rounds: Number(process.argv[3] ?? 3) });
  console.log(x.error ? `not measured: ${x.error}` : `${x.bytes} B: ${x.crossUs} µs across cores, ${x.sameUs} µs on one core`);
  process.exitCode = x.error ? 1 : 0;
}
