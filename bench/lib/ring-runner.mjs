// The ring micro-benchmark is bench/ring.mjs (kept by the FFI core's owners). This runs it as a
// child process, so its plugins and threads live and die with it, and turns the console.table it
// prints into a table model for the results files.
import path from 'node:path';
import { spawnTracked } from './procs.mjs';
import { ROOT } from './tresty-dist.mjs';

/** Rows of a console.table print-out: header from the first │ line, quotes and (index) dropped. */
export function parseConsoleTable(text) {
  const lines = text.split('\n').filter((l) => l.startsWith('│'));
  const split = (l) => l.split('│').slice(1, -1).map((c) => c.trim().replace(/^'(.*)'$/, '$1'));
  if (lines.length < 2) return null;
  const head = split(lines[0]);
  const keep = head.map((h, i) => (h === '(index)' ? -1 : i)).filter((i) => i >= 0);
  return {
    columns: keep.map((i) => ({ key: `c${i}`, label: head[i], align: i === keep[0] ? 'left' : undefined })),
    rows: lines.slice(1).map((l) => {
      const cells = split(l);
      return Object.fromEntries(keep.map((i) => [`c${i}`, cells[i] ?? '']));
    }),
  };
}

export async function runRing(opts) {
  const started = new Date().toISOString();
  const seconds = opts.quick ? 0.2 : 1;
  process.stderr.write(`[ring] bench/ring.mjs, ${seconds} s per row ...\n`);
  const p = spawnTracked(process.execPath, [path.join(ROOT, 'bench', 'ring.mjs')], {
    cwd: ROOT, env: { ...process.env, BENCH_SECONDS: String(seconds) },
  });
  const code = await p.exited;
  const out = p.output();
  if (code !== 0) throw new Error(`bench/ring.mjs exited with ${code}:\n${out.trim().split('\n').slice(-15).join('\n')}`);
  const table = parseConsoleTable(out);
  if (!table) throw new Error(`bench/ring.mjs printed no table:\n${out.trim()}`);
  return {
    name: 'ring',
    title: 'The ring alone and plugin.call end to end (bench/ring.mjs)',
    date: started,
    settings: { secondsPerRow: seconds },
    table,
    notes: out.split('\n').filter((l) => l && !/^[│┌├└]/.test(l)),
  };
}

export function ringTables(sec) {
  return [{ title: 'Ring and plugin.call micro-benchmarks', ...sec.table, notes: sec.notes }];
}

export const ringBench = { title: 'Ring', run: runRing, tables: ringTables };
