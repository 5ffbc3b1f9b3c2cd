// Two checkouts side by side, one child process per run: the plumbing bench/ffi-ab.mjs and
// bench/ring-js.mjs share. The script runs itself with --child ROOT --case CASE and its own flags;
// the child prints one JSON object.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The script's entry: as a child (--child ROOT --case CASE) child(root, case, opt); else
 * parent({ A, B, opt, run }) where run(root, case) runs a child with the `passed` flags (name:
 * default) as this process has them.
 */
export async function abMain(script, usage, passed, child, parent) {
  const opt = flags();
  if (opt('child')) return child(path.resolve(opt('child')), opt('case'), opt);
  const { A, B } = checkouts(opt, usage);
  const extra = Object.entries(passed).flatMap(([k, d]) => [`--${k}`, opt(k, d)]);
  return parent({ A, B, opt, run: childRunner(script, extra) });
}

/** --name value flags of this process. */
function flags() {
  const args = process.argv.slice(2);
  return (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
}

/** /proc/loadavg's three averages. */
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The two roots (--a, --b defaulting to this checkout), or the usage and exit 2 without --a. */
function checkouts(opt, usage) {
  if (!opt('a')) {
    console.error(usage);
    process.exit(2);
  }
  const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  return { A: path.resolve(opt('a')), B: path.resolve(opt('b', here)) };
}

/** A function running `script` as a child on one root and case with extra flags; its JSON answer. */
function childRunner(script, extra) {
  return (dir, c) => {
    const r = spawnSync(process.execPath, [fileURLToPath(script), '--child', dir, '--case', c, ...extra], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${dir} ${c}: ${r.stderr || r.stdout}`);
    return JSON.parse(r.stdout);
  };
}
