// Runs some benchmarks in sequence, prints each one's tables as soon as it is done, and writes
// bench/results/ (and the README's tables when writing there). Shared by bench/run.mjs and the
// per-benchmark scripts, so `node bench/http.mjs` and `npm run bench -- --only http` agree.
import path from 'node:path';
import { machine } from './machine.mjs';
import { updateReadme, writeResults } from './results.mjs';
import { toText } from './table.mjs';
import { ROOT } from './tresty-dist.mjs';

const DEFAULT_OUT = path.join(ROOT, 'bench', 'results');

/**
 * registry: { [name]: { title, run(opts) -> section, tables(section) -> table[] } }.
 * Returns the process exit code: 1 when a benchmark failed outright, else 0 (missed targets are
 * results, not failures).
 */
export async function runSuite(names, opts, registry, command) {
  const sections = [];
  let code = 0;
  for (const name of names) {
    const b = registry[name];
    const m = machine();
    let sec;
    try {
      sec = await b.run(opts);
    } catch (e) {
      process.stderr.write(`\nbench ${name} failed: ${e.stack ?? e}\n`);
      sec = { name, title: b.title, date: new Date().toISOString(), error: e.message };
      code = 1;
    }
    sec.machine = m;
    sec.machine.loadavgEnd = machine().loadavg;
    sec.command = command;
    sec.quick = opts.quick;
    sec.tables = sec.error ? [] : b.tables(sec);
    for (const t of sec.tables) process.stdout.write(`\n${toText(t)}\n`);
    if (sec.error) process.stdout.write(`\n${b.title}: FAILED: ${sec.error}\n`);
    sections.push(sec);
  }
  const out = opts.out ? path.resolve(opts.out) : DEFAULT_OUT;
  const { files, all } = writeResults(out, sections);
  const wrote = [files.json, files.md, files.svg].filter(Boolean).map((f) => path.relative(process.cwd(), f));
  // The README shows the tables of the real results folder only, never of a test's temp folder.
  if (out === DEFAULT_OUT && updateReadme(path.join(ROOT, 'bench', 'README.md'), all, 'results/ffi-vs-uds.svg')) {
    wrote.push(path.relative(process.cwd(), path.join(ROOT, 'bench', 'README.md')));
  }
  process.stdout.write(`\nwrote ${wrote.join(', ')}\n`);
  return code;
}

/** The command line as a reader would retype it. */
export function commandLine(script) {
  const args = process.argv.slice(2).join(' ');
  return script === 'run' ? `npm run bench${args ? ` -- ${args}` : ''}` : `node bench/${script}.mjs${args ? ` ${args}` : ''}`;
}
