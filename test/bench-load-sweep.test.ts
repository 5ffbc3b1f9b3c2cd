// bench/ffi-load-sweep.mjs as a harness, not a speed: one short round at one connection count
// runs the real server, the UDS echo server and wrk, and prints a row with every column filled.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';

const SCRIPT = path.join(ROOT, 'bench', 'ffi-load-sweep.mjs');
const missing = ['native/build/libecho_c.so', 'native/build/tresty-uds-echo', 'dist/src/cli/main.js']
  .filter((f) => !existsSync(path.join(ROOT, f)));
const noWrk = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0;
const skip = noWrk ? 'wrk is not installed (Debian: apt-get install wrk)' : missing.length ? `not built: ${missing.join(', ')} (npm run build)` : null;

describe('bench/ffi-load-sweep.mjs', () => {
  it('refuses a bad --connections with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--connections', 'many'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node bench/ffi-load-sweep.mjs');
  });

  it('refuses an --autogroups other than on or off with its usage line and status 2', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--autogroups', 'maybe'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[--autogroups on|off]');
  });

  it.skipIf(skip !== null)(`one round at 2 connections, workers pinned, prints a full row${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--connections', '2', '--rounds', '1', '--duration', '1', '--pinned'], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('connections'));
    expect(head, r.stdout).toBeGreaterThan(0);
    const row = lines[head + 2]!.trim().split(/\s{2,}/);
    expect(lines[head - 1]).toMatch(/autogroups (on|off|absent), workers pinned /); // the title says how the run was scheduled
    expect(row[0]).toBe('2');
    expect(row).toHaveLength(9); // every column has a value
    for (const rate of [row[1], row[2]]) expect(Number(rate!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(row[3]).toMatch(/^\d+\.\d\dx ±\d+%$/);
    expect(row[4]).toMatch(/^\d+\.\d\dx ±\d+%$/);
  });
});
