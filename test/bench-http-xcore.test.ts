// bench/http-xcore.mjs as a harness, not a speed: three short rounds run the real server, the UDS
// echo server, wrk and the cross-core probe, and print a row per round with its summary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { correlation } from '../bench/lib/stats.mjs';
import { ROOT } from './helpers/server.js';

const SCRIPT = path.join(ROOT, 'bench', 'http-xcore.mjs');
const missing = ['native/build/libecho_c.so', 'native/build/tresty-uds-echo', 'dist/src/cli/main.js']
  .filter((f) => !existsSync(path.join(ROOT, f)));
const noWrk = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0;
const noCc = spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status !== 0;
const skip = noWrk ? 'wrk is not installed (Debian: apt-get install wrk)'
  : noCc ? 'no C compiler for the probe' : os.availableParallelism() < 2 ? 'one CPU: nothing to cross'
    : missing.length ? `not built: ${missing.join(', ')} (npm run build)` : null;

describe('bench/http-xcore.mjs', () => {
  it('computes Pearson\'s r, and null when a list does not vary', () => {
    expect(correlation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(correlation([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(correlation([1, 1, 1], [1, 2, 3])).toBeNull();
  });

  it('refuses a bad --rounds with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--rounds', 'many'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node bench/http-xcore.mjs');
  });

  it('says what is missing, in one line and with status 2, when the probe cannot run', () => {
    // An empty PATH: no wrk and no cc to find, so the first check fails before any server starts.
    const r = spawnSync(process.execPath, [SCRIPT, '--rounds', '1'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000, env: { ...process.env, PATH: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^bench\/http-xcore: (--load wrk, but wrk is not installed|the cross-core probe: cc not found)/);
    expect(r.stderr).not.toContain('    at ');
  });

  it.skipIf(skip !== null)(`three rounds print the probe and the ratio of each, and the summary${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--rounds', '3', '--duration', '1', '--bytes', '512'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('round'));
    expect(head, r.stdout).toBeGreaterThan(0);
    for (let i = 1; i <= 3; i++) {
      const row = lines[head + 1 + i]!.trim().split(/\s{2,}/);
      expect(row[0]).toBe(String(i));
      expect(Number(row[1])).toBeGreaterThan(0);
      for (const rate of [row[2], row[3]]) expect(Number(rate!.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(row[4]).toMatch(/^\d+\.\d\dx$/);
    }
    expect(r.stdout).toMatch(/ffi \/ uds, median: with the crossing under 7 µs .*; at 7 µs or more .*\./);
    expect(r.stdout).toMatch(/over all rounds: (r = -?\d\.\d\d|n\/a \(under three rounds, or one of them did not vary\))\./);
  });
});
