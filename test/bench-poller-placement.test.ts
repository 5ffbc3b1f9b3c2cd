// bench/ffi-poller-placement.mjs as a harness, not a speed: one short round of two layouts on the
// real server, the UDS echo server and wrk, with the threads really placed by taskset.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';

const SCRIPT = path.join(ROOT, 'bench', 'ffi-poller-placement.mjs');
const missing = ['native/build/libecho_c.so', 'native/build/tresty-uds-echo', 'dist/src/cli/main.js']
  .filter((f) => !existsSync(path.join(ROOT, f)));
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const skip = !has('wrk') ? 'wrk is not installed (Debian: apt-get install wrk)' : !has('taskset') ? 'no taskset (Debian: util-linux)'
  : os.availableParallelism() < 2 ? 'one CPU: no other core for the pollers'
    : missing.length ? `not built: ${missing.join(', ')} (npm run build)` : null;

describe('bench/ffi-poller-placement.mjs', () => {
  it('refuses an unknown layout with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--layouts', 'float,sideways'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node bench/ffi-poller-placement.mjs');
    expect(r.stderr).not.toContain('    at ');
  });

  it.skipIf(skip !== null)(`one round of two layouts prints a row per layout with both paths' req/s and the ratios${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--layouts', 'float,cross', '--connections', '4', '--rounds', '1', '--duration', '1'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^4 \| /.test(l)).map((l) => l.split(' | '));
    expect(rows.map((x) => x[1])).toEqual(['float', 'cross']);
    for (const x of rows) {
      expect(Number(x[2])).toBeGreaterThan(0);
      expect(Number(x[3])).toBeGreaterThan(0);
      expect(x[4]).toMatch(/^\d+\.\d\dx \(\d+\.\d\d\.\.\d+\.\d\d\)$/);
    }
    expect(rows[0]![5]).toBe('1.00x (1.00..1.00)'); // the first layout against itself
    expect(rows[1]![5]).toMatch(/^\d+\.\d\dx/);
  });
});
